"""Cohort forecasts: per group of employees (a department, a job role, or both), the expected
number of leavers with an interval, the drivers that set the group apart, and what it may cost.

Each employee leaves or not with their own probability, so a cohort's leavers follow a
Poisson-binomial distribution: mean sum(p), variance sum(p(1-p)). Its 95 % interval comes from the
refined normal approximation (Volkova 1996), which corrects the normal curve for the skew of
many small probabilities: CDF(k) ~ G((k + 0.5 - mean) / sd), G(x) = Phi(x) + skew (1 - x^2) phi(x) / 6.
Only running sums are kept per cohort (counts, three moments, the TreeSHAP contributions, the
cost), so memory grows with the number of cohorts, never with the rows.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.platform.errors import UserError
from ..core.table.values import canonical_category, is_missing

MAX_COHORTS = 10_000  # groups per grouping: each is a row of the report
TOP_DRIVERS = 3
LEVEL = 0.95
MISSING = "(missing)"


@dataclass(frozen=True)
class Grouping:
    """The columns one set of cohorts is formed by: "Department", or "Department&JobRole"."""

    columns: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> list["Grouping"]:
        groupings = []
        for part in text.split(","):
            columns = tuple(column.strip() for column in part.split("&"))
            if not all(columns):
                raise UserError(f"--cohorts {text!r}: {part.strip()!r} names an empty column")
            groupings.append(cls(columns))
        return groupings

    @property
    def name(self) -> str:
        return "&".join(self.columns)


# What is summed per cohort, in this order, before the features' TreeSHAP contributions.
EMPLOYEES, EXPECTED, VARIANCE, THIRD, COST, REALISED = range(6)


@dataclass
class Forecast:
    """Running sums for every cohort of every grouping, fed a frame of scored rows at a time."""

    groupings: list[Grouping]
    feature_names: list[str]
    cost_column: str | None = None
    cost_factor: float = 1.0
    label: tuple[str, str] | None = None  # (label column, positive class): realised leavers when present
    cohorts: dict = field(default_factory=dict)  # grouping name -> {key: sums (see EMPLOYEES...)}
    rows: int = 0
    rows_without_cost: int = 0
    labelled: bool = False

    def add(self, columns: dict, probabilities: np.ndarray, contributions: np.ndarray, source: str) -> None:
        missing = [c for g in self.groupings for c in g.columns if c not in columns]
        if self.cost_column and self.cost_column not in columns:
            missing.append(self.cost_column)
        if missing:
            raise UserError(f"--cohorts: no column {', '.join(sorted(set(missing)))} in {source}")
        n = len(probabilities)
        spread = probabilities * (1 - probabilities)
        per_row = np.column_stack([np.ones(n), probabilities, spread, spread * (1 - 2 * probabilities),
                                   probabilities * self._costs(columns, n), self._left(columns, n), contributions])
        for grouping in self.groupings:
            index: dict[tuple, int] = {}
            codes = np.fromiter((index.setdefault(key, len(index))
                                 for key in zip(*(_labels(columns[c]) for c in grouping.columns))),
                                dtype=np.intp, count=n)
            totals = np.zeros((len(index), per_row.shape[1]))
            np.add.at(totals, codes, per_row)
            for key, i in index.items():
                self._sums(grouping, key)[:] += totals[i]
        self.rows += n

    def _sums(self, grouping: Grouping, key: tuple) -> np.ndarray:
        cohorts = self.cohorts.setdefault(grouping.name, {})
        found = cohorts.get(key)
        if found is None:
            if len(cohorts) >= MAX_COHORTS:
                raise UserError(f"--cohorts {grouping.name}: more than {MAX_COHORTS:,} groups; choose columns "
                                "with fewer values")
            found = cohorts[key] = np.zeros(REALISED + 1 + len(self.feature_names))
        return found

    def _costs(self, columns: dict, n: int) -> np.ndarray:
        if not self.cost_column:
            return np.zeros(n)
        costs = np.array([_number(v) for v in columns[self.cost_column]], dtype=np.float64)
        unknown = np.isnan(costs)
        self.rows_without_cost += int(unknown.sum())
        return np.where(unknown, 0.0, costs) * self.cost_factor

    def _left(self, columns: dict, n: int) -> np.ndarray:
        if self.label is None or self.label[0] not in columns:
            return np.zeros(n)
        self.labelled = True
        positive = canonical_category(self.label[1])
        return np.array([not is_missing(v) and canonical_category(v) == positive for v in columns[self.label[0]]],
                        dtype=np.float64)

    def report(self) -> dict:
        """cohorts.json: every grouping's cohorts, the most leavers expected first."""
        groupings = []
        for grouping in self.groupings:
            found = list(self.cohorts.get(grouping.name, {}).items())
            found.sort(key=lambda item: (-item[1][EXPECTED], item[0]))
            groupings.append({"by": list(grouping.columns),
                              "cohorts": [self._cohort(grouping, key, sums) for key, sums in found]})
        return {"employees": self.rows, "interval": f"{LEVEL:.0%} Poisson-binomial, refined normal approximation",
                "drivers": "mean TreeSHAP contribution in log-odds: what raises this group's risk above the average "
                           "employee's",
                "cost": None if not self.cost_column else {
                    "column": self.cost_column, "factor": self.cost_factor,
                    "employees_without_cost": self.rows_without_cost},
                "groupings": groupings}

    def _cohort(self, grouping: Grouping, key: tuple, sums: np.ndarray) -> dict:
        employees = int(sums[EMPLOYEES])
        low, high = interval(sums[EXPECTED], sums[VARIANCE], sums[THIRD], employees)
        means = sums[REALISED + 1:] / employees
        order = np.argsort(-means, kind="stable")[:TOP_DRIVERS]
        entry = {"cohort": dict(zip(grouping.columns, key)), "employees": employees,
                 "expected_leavers": round(float(sums[EXPECTED]), 3), "interval": [low, high],
                 "expected_rate": round(float(sums[EXPECTED]) / employees, 4),
                 "top_drivers": [{"feature": self.feature_names[j], "mean_contribution": round(float(means[j]), 4)}
                                 for j in order if means[j] > 0]}
        if self.cost_column:
            entry["expected_cost"] = round(float(sums[COST]), 2)
        if self.labelled:
            entry["realised_leavers"] = int(round(sums[REALISED]))
        return entry


def interval(mean: float, variance: float, third: float, n: int, level: float = LEVEL) -> tuple[int, int]:
    """The central `level` interval of a Poisson-binomial count: the smallest k whose CDF reaches
    (1 - level) / 2, and the smallest whose CDF reaches (1 + level) / 2."""
    if variance <= 1e-12:
        return round(mean), round(mean)
    sd = math.sqrt(variance)
    skew = third / sd ** 3

    def cdf(k: int) -> float:
        x = (k + 0.5 - mean) / sd
        return min(1.0, max(0.0, 0.5 * (1 + math.erf(x / math.sqrt(2)))
                            + skew * (1 - x * x) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi) / 6))

    def quantile(q: float) -> int:
        k = max(0, math.floor(mean - 8 * sd))
        while k < n and cdf(k) < q:
            k += 1
        return k

    return quantile((1 - level) / 2), quantile((1 + level) / 2)


def _labels(values) -> list[str]:
    return [MISSING if is_missing(v) else canonical_category(v) for v in values]


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return number if math.isfinite(number) else math.nan
