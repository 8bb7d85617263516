"""Retention levers: the smallest set of changes, among declared actionable features, that brings an
employee's predicted probability under the decision threshold.

Which features are actionable, in which direction and how far, is declared at training (the
`retention_levers` hyperparameter) and saved in the model's metadata, resolved against the
training data (each numeric lever's observed range, and whether its values are whole):

    OverTime:No; BusinessTravel:Non-Travel,Travel_Rarely      categories the feature may be set to
    StockOptionLevel:+0..+3                                   a change added to the current value
    MonthlyIncome:+0%..+20%                                   a change relative to the current value

A change never leaves the range seen at training. Protected attributes (the bias facets' columns,
and PROTECTED) can never be levers, and a feature that is not declared is never changed.

The search. A tree model's answer only changes where its trees split, so each lever's candidate
values are the points just either side of the model's split thresholds within the allowed range,
plus the range's ends; of several values giving the same score, the one closest to the current
value is chosen. For a sum of stumps (our default) the score is a sum of one function per feature,
so each lever's best value is found on its own and the fewest changes are the levers with the
largest gains: the answer is exact (the tests check it against brute-force enumeration). For other
models the search is greedy: up to k rounds, each adding the single change that lowers the
probability most; it may miss a smaller set a joint search would find, and says which it used.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..platform.errors import RequestError, UserError
from ..table.schema import CATEGORICAL, Schema
from ..table.values import canonical_category
from . import curves
from .stumps import StumpPredictor

PROTECTED = ("Age", "Gender", "MaritalStatus")  # never levers, whatever the bias facets
DEFAULT = ("OverTime:No; BusinessTravel:Non-Travel,Travel_Rarely; StockOptionLevel:+0..+3; "
           "TrainingTimesLastYear:+0..+6; YearsSinceLastPromotion:-100%..+0%; MonthlyIncome:+0%..+20%")
METADATA_KEY = "retention_levers"


@dataclass(frozen=True)
class Lever:
    """One actionable feature, resolved against the training data."""

    feature: str
    kind: str  # the feature's kind: numeric or categorical
    levels: tuple = ()  # categorical: the values it may be set to
    low: float = 0.0  # numeric: the change allowed, added (or, when relative, as a fraction)
    high: float = 0.0
    relative: bool = False
    bounds: tuple = ()  # numeric: (min, max) seen at training
    integer: bool = False  # numeric: every training value was whole

    def to_dict(self) -> dict:
        return {**asdict(self), "levels": list(self.levels), "bounds": list(self.bounds)}

    @classmethod
    def from_dict(cls, data: dict) -> "Lever":
        return cls(**{**data, "levels": tuple(data["levels"]), "bounds": tuple(data["bounds"])})


@dataclass(frozen=True)
class Declared:
    """A lever as written in the hyperparameter, before it meets the data."""

    column: str
    levels: tuple = ()
    low: float = 0.0
    high: float = 0.0
    relative: bool = False


def parse(text: str) -> list[Declared]:
    """The `retention_levers` hyperparameter; UserError naming the entry that does not parse."""
    declared = [_declared(part.strip()) for part in text.split(";") if part.strip()]
    names = [d.column for d in declared]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(f"retention_levers: {', '.join(repeated)} declared more than once")
    return declared


def _declared(entry: str) -> Declared:
    column, sep, change = (s.strip() for s in entry.partition(":"))
    if not column or not sep or not change:
        raise UserError(f"retention_levers: {entry!r} is not column:values or column:+low..+high")
    if ".." not in change:
        levels = tuple(level.strip() for level in change.split(",") if level.strip())
        return Declared(column, levels=levels)
    low_text, _, high_text = (s.strip() for s in change.partition(".."))
    relative = low_text.endswith("%") and high_text.endswith("%")
    if relative != (low_text.endswith("%") or high_text.endswith("%")):
        raise UserError(f"retention_levers: {entry!r} mixes a percentage with a number")
    try:
        low, high = (float(t.rstrip("%")) for t in (low_text, high_text))
    except ValueError:
        raise UserError(f"retention_levers: {entry!r}: the change must be two numbers, e.g. +0..+3 "
                        "or +0%..+20%") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise UserError(f"retention_levers: {entry!r}: the change's low end must not be above its high end")
    if relative:
        low, high = low / 100, high / 100
        if low < -1:
            raise UserError(f"retention_levers: {entry!r}: a value cannot fall by more than 100%")
    return Declared(column, low=low, high=high, relative=relative)


def resolve(declared: list[Declared], schema: Schema, ranges: dict, protected: set, explicit: bool) -> list[Lever]:
    """Levers for the model's features. `ranges`: a numeric feature -> (min, max, all whole) on the
    training rows. With `explicit` False (the default declaration), levers naming columns this data
    does not have as features are left out; declared by the user, they are an error."""
    features = {f.name: f for f in schema.features}
    levers = []
    for d in declared:
        if d.column in protected:
            if not explicit:
                continue
            raise UserError(f"retention_levers: {d.column} is a protected attribute (a bias facet or one of "
                            f"{', '.join(PROTECTED)}): it can never be a lever")
        feature = features.get(d.column)
        if feature is None:
            if explicit:
                raise UserError(f"retention_levers: {d.column} is not a feature of this model"
                                + (f" ({schema.dropped[d.column]})" if d.column in schema.dropped else ""))
            continue
        if (feature.kind == CATEGORICAL) != bool(d.levels):
            raise UserError(f"retention_levers: {d.column} is {feature.kind}: declare "
                            + ("the values it may take, e.g. OverTime:No" if d.levels == () and feature.kind
                               == CATEGORICAL else "a change, e.g. +0..+3 or +0%..+20%"))
        if feature.kind == CATEGORICAL:
            levels = tuple(canonical_category(level) for level in d.levels)
            unknown = [level for level in levels if level not in feature.codes]
            if unknown:
                if explicit:
                    raise UserError(f"retention_levers: {d.column} has no value {unknown[0]!r} in the training "
                                    f"data; its values are {', '.join(feature.levels)}")
                levels = tuple(level for level in levels if level in feature.codes)
            if levels:
                levers.append(Lever(d.column, feature.kind, levels=levels))
            continue
        low, high, whole = ranges[d.column]
        levers.append(Lever(d.column, feature.kind, low=d.low, high=d.high, relative=d.relative,
                            bounds=(low, high), integer=whole))
    return levers


def from_metadata(metadata: dict) -> list[Lever]:
    """The levers a model was trained with; none for a model saved before levers existed."""
    return [Lever.from_dict(entry) for entry in metadata.get(METADATA_KEY, [])]


@dataclass(frozen=True)
class Change:
    feature: str
    before: object
    after: object


@dataclass(frozen=True)
class Answer:
    """The changes found for one employee and the probability they lead to. `found` is False when
    no set of at most k changes brings the probability under the threshold: the changes are then
    the best the search found."""

    found: bool
    changes: tuple
    probability: float


class LeverSearch:
    """Built once per model: each lever's feature index and the model's split points on it."""

    def __init__(self, model, levers: list[Lever]):
        self.model = model
        self.levers = levers
        names = model.schema.feature_names
        self.indexes = [names.index(lever.feature) for lever in levers]
        predictor = model.predictor
        self.stumps = predictor if isinstance(predictor, StumpPredictor) else None
        points = curves.thresholds(predictor, model.booster)
        self.points = [np.asarray(points.get(j, ()), dtype=np.float64) for j in self.indexes]
        self.functions = {f.index: f for f in self.stumps.functions} if self.stumps else {}
        self.method = method(predictor)

    def check(self, k: int) -> None:
        if not self.levers:
            raise RequestError("this model declares no retention levers: train it with retention_levers")
        if k > len(self.levers):
            raise RequestError(f"levers={k} is more than the {len(self.levers)} actionable features of this model "
                               f"({', '.join(lever.feature for lever in self.levers)})")

    def search(self, matrix: np.ndarray, probabilities: list[float], k: int) -> list[Answer]:
        return [self._one(row, p, k) for row, p in zip(matrix, probabilities)]

    def candidates(self, row: np.ndarray) -> list[np.ndarray]:
        """Per lever, the encoded values it may take for this employee (its current value first)."""
        return [_candidates(lever, row[j], points, self.model.schema.features[j].codes)
                for lever, j, points in zip(self.levers, self.indexes, self.points)]

    def _one(self, row: np.ndarray, probability: float, k: int) -> Answer:
        if probability < self.model.threshold:
            return Answer(True, (), probability)
        candidates = self.candidates(row)
        if self.stumps is not None:
            return self._additive(row, probability, candidates, k)
        return self._greedy(row, candidates, k)

    def _additive(self, row: np.ndarray, probability: float, candidates: list[np.ndarray], k: int) -> Answer:
        """Each lever's best value on its own; the fewest levers whose gains reach the threshold."""
        stumps = self.stumps
        assert stumps is not None
        score = _logit(probability) / stumps.sigmoid
        limit = _logit(self.model.threshold) / stumps.sigmoid
        best = []
        for i, (j, values) in enumerate(zip(self.indexes, candidates)):
            function = self.functions.get(j)
            if function is None or len(values) < 2:
                continue
            scores = function.column(values)
            gain = scores[0] - scores.min()
            if gain > 0:
                best.append((gain, i, _closest(values, scores)))
        best.sort(key=lambda entry: (-entry[0], entry[1]))
        chosen, total = [], 0.0
        for gain, i, value in best[:k]:
            chosen.append((i, value))
            total += gain
            if score - total < limit:
                break
        return self._answer(row, chosen)

    def _greedy(self, row: np.ndarray, candidates: list[np.ndarray], k: int) -> Answer:
        current, chosen = row.copy(), list[tuple[int, float]]()
        for _ in range(k):
            trials, moves = [], []
            for i, values in enumerate(candidates):
                if any(i == c for c, _ in chosen):
                    continue
                for value in values[1:]:
                    trial = current.copy()
                    trial[self.indexes[i]] = value
                    trials.append(trial)
                    moves.append((i, value))
            if not trials:
                break
            p = self.model.predict(np.array(trials))
            best = int(np.argmin(p))
            if p[best] >= self.model.predict(current[None, :])[0]:
                break
            i, value = moves[best]
            chosen.append((i, value))
            current[self.indexes[i]] = value
            if p[best] < self.model.threshold:
                break
        return self._answer(row, chosen)

    def _answer(self, row: np.ndarray, chosen: list) -> Answer:
        changed = row.copy()
        for i, value in chosen:
            changed[self.indexes[i]] = value
        probability = float(self.model.predict(changed[None, :])[0])
        changes = tuple(Change(self.levers[i].feature, self._shown(i, row[self.indexes[i]]), self._shown(i, value))
                        for i, value in sorted(chosen))
        return Answer(probability < self.model.threshold, changes, probability)

    def _shown(self, i: int, encoded: float):
        lever = self.levers[i]
        if lever.kind == CATEGORICAL:
            feature = self.model.schema.features[self.indexes[i]]
            return None if math.isnan(encoded) else feature.levels[int(encoded)]
        return int(encoded) if lever.integer and float(encoded).is_integer() else float(encoded)


def method(predictor) -> str:
    """How levers are searched for a model served by `predictor` (see the module's docstring)."""
    return "exact (a sum of stumps)" if isinstance(predictor, StumpPredictor) else "greedy (one change at a time)"


def _candidates(lever: Lever, current: float, points: np.ndarray, codes: dict) -> np.ndarray:
    if lever.kind == CATEGORICAL:
        targets = [codes[level] for level in lever.levels if codes[level] != current]
        return np.array([current, *targets], dtype=np.float64)
    if math.isnan(current):
        return np.array([current])  # a missing value has no "+20%"
    if lever.relative:
        low, high = current + abs(current) * lever.low, current + abs(current) * lever.high
    else:
        low, high = current + lever.low, current + lever.high
    low, high = max(low, lever.bounds[0]), min(high, lever.bounds[1])
    if lever.integer:
        low, high = math.ceil(low), math.floor(high)
    if low > high:
        return np.array([current])
    inside = points[(points >= low) & (points < high)]
    below = np.floor(inside) if lever.integer else inside
    above = np.floor(inside) + 1 if lever.integer else np.nextafter(inside, math.inf)
    values = np.unique(np.concatenate([[low, high], below, above]))
    values = values[(values >= low) & (values <= high) & (values != current)]
    return np.concatenate([[current], values])


def _closest(values: np.ndarray, scores: np.ndarray) -> float:
    """Of the values with the lowest score, the one nearest the current value (values[0])."""
    lowest = np.flatnonzero(scores == scores.min())
    return float(values[min(lowest, key=lambda i: abs(values[i] - values[0]))])


def _logit(p: float) -> float:
    """log-odds; a probability that rounded to 0 or 1 is read as just inside (no division by zero)."""
    p = min(max(p, 1e-300), 1 - 1e-16)
    return math.log(p / (1 - p))


def training_ranges(schema: Schema, columns: dict, numbers) -> dict:
    """(min, max, every value whole) of each numeric feature on the training rows; `numbers` reads
    a column's values as floats (core.table.features.column_numbers)."""
    ranges = {}
    for f in schema.features:
        if f.kind == CATEGORICAL:
            continue
        values = numbers(f.name, columns[f.name])
        values = values[~np.isnan(values)]
        ranges[f.name] = (float(values.min()), float(values.max()), bool(np.all(values == np.round(values))))
    return ranges
