"""One column of a table, held compactly while a big export is read batch by batch.

A column is dictionary-encoded: its distinct spellings once, and one small integer per row
pointing at its spelling (an HR export repeats few values: Yes, Travel_Rarely, 3, ...). A
column that shows more than DISTINCT_LIMIT distinct spellings, all of them numbers or missing,
is turned into float64 (NaN where missing), unless its spellings must be kept (categories, the
label, or every column when the rows are written back out). A 1.36 M-row export held as
Python strings took 19x its file size; held like this it takes about half of it.
"""

from collections.abc import Callable, Iterator

import numpy as np

from .values import is_missing

DISTINCT_LIMIT = 4096
GROWTH = 1 << 16  # values a column first makes room for


class Column:
    def __init__(self, keep_spellings: bool = True):
        self.levels: list[str] = []  # distinct spellings, in order of appearance
        self.first_text_row: int | None = None  # a float column's first row of text (its text is never kept)
        self._index: dict[str, int] = {}
        self._held = np.empty(0, dtype=np.uint16)  # codes (or numbers, once float); room to grow
        self._keep = keep_spellings
        self._float = False
        self._rows = 0

    def extend(self, cells) -> None:
        """Append one batch of raw cells (strings)."""
        if self._float:
            self._append(self._numbers(cells))
        else:
            self._append(self._codes(cells))
            if not self._keep and len(self.levels) > DISTINCT_LIMIT:
                self._to_float()

    def __len__(self) -> int:
        return self._rows

    def _append(self, values: np.ndarray) -> None:
        """Into one buffer that doubles when full: many small arrays would leave the heap
        fragmented, and the process would keep memory it no longer uses."""
        end = self._rows + len(values)
        dtype = np.promote_types(self._held.dtype, values.dtype)
        if end > len(self._held) or dtype != self._held.dtype:
            grown = np.empty(max(end, 2 * len(self._held), GROWTH), dtype=dtype)
            grown[:self._rows] = self._held[:self._rows]
            self._held = grown
        self._held[self._rows:end] = values
        self._rows = end

    @property
    def numbers(self) -> np.ndarray | None:
        """The float64 values of a column held as numbers; None for a dictionary-encoded one."""
        return self._joined() if self._float else None

    @property
    def codes(self) -> np.ndarray:
        """Per row, the index of its spelling in `levels` (dictionary-encoded columns only)."""
        if self._float:
            raise ValueError("a column held as numbers has no codes")
        return self._joined()

    def counts(self) -> np.ndarray:
        """Rows per level."""
        return np.bincount(self.codes, minlength=len(self.levels))

    def spread(self, per_level) -> np.ndarray:
        """A value per level, as a value per row."""
        return np.asarray(per_level)[self.codes]

    def map(self, function: Callable) -> list:
        """function(value) for every row, called once per distinct spelling when it can be."""
        if self._float:
            return [function(v) for v in self._joined().tolist()]
        per_level = [function(level) for level in self.levels]
        return [per_level[c] for c in self.codes.tolist()]

    def take(self, rows: np.ndarray) -> "Column":
        """The same column, at the given row indices only."""
        taken = Column(self._keep)
        taken.levels, taken._index, taken._float = self.levels, self._index, self._float
        taken.first_text_row = self.first_text_row
        taken._held, taken._rows = self._joined()[rows], len(rows)
        return taken

    def __iter__(self) -> Iterator:
        """Each row's spelling (a float for a column held as numbers)."""
        if self._float:
            return iter(self._joined().tolist())
        levels = self.levels
        return (levels[c] for c in self.codes.tolist())

    def _codes(self, cells) -> np.ndarray:
        index = self._index
        codes = list(map(index.get, cells))
        if None in codes:
            for i, code in enumerate(codes):
                if code is None:
                    cell = cells[i]
                    code = index.get(cell)
                    if code is None:
                        code = index[cell] = len(self.levels)
                        self.levels.append(cell)
                    codes[i] = code
        return np.array(codes, dtype=np.uint16 if len(self.levels) <= 1 << 16 else np.int32)

    def _to_float(self) -> None:
        """Hold the column as float64 if every spelling so far is a finite number or missing."""
        per_level = np.empty(len(self.levels))
        for i, level in enumerate(self.levels):
            number = number_of(level)
            if number is None:
                self._keep = True  # text: stays a dictionary, and is not looked at again
                return
            per_level[i] = number
        self._held = per_level[self._joined()]
        self._float, self.levels, self._index = True, [], {}

    def _numbers(self, cells) -> np.ndarray:
        try:
            numbers = np.array(cells, dtype=np.float64)
            if np.isfinite(numbers).all():
                return numbers
        except ValueError:
            pass
        numbers = np.empty(len(cells))
        for i, cell in enumerate(cells):
            number = number_of(cell)
            if number is None:
                self.first_text_row = self.first_text_row or self._rows + i + 1
                number = np.nan
            numbers[i] = number
        return numbers

    def _joined(self) -> np.ndarray:
        """The values, the room to grow given back."""
        if len(self._held) != self._rows:
            self._held = self._held[:self._rows].copy()
        return self._held


def of(values, keep_spellings: bool = True) -> Column:
    """A column holding the given raw values."""
    column = Column(keep_spellings)
    column.extend(list(values))
    return column


def number_of(spelling: str) -> float | None:
    """The finite number a spelling reads as, NaN if it is missing, None if it is text."""
    if is_missing(spelling):
        return np.nan
    try:
        number = float(spelling)
    except ValueError:
        return None
    return number if np.isfinite(number) else None
