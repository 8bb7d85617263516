"""A bias audit in SageMaker Clarify's vocabulary and analysis.json shape.

For each facet (a column, and a group of employees within it: a category, or the values above a
threshold), group d (the facet's members) is compared with group a (everyone else):

    pre-training, on labels y:   CI  = (n_a - n_d) / (n_a + n_d)   class imbalance
                                 DPL = q_a - q_d                   difference in positive labels
    post-training, on predictions at the model's threshold:
                                 DPPL = q^_a - q^_d                difference in positive predictions
                                 DI   = q^_d / q^_a                disparate impact
                                 RD   = recall_a - recall_d        recall difference (equal opportunity)
                                 AD   = accuracy_a - accuracy_d    accuracy difference
                                 FNRD = FNR_d - FNR_a, FPRD = FPR_d - FPR_a

"Positive" is the positive class (an employee who leaves). A group with fewer than MIN_MEMBERS
members (or with none left in group a) is reported as too small, not as numbers; RD and FNRD need
MIN_CASES leavers on each side, FPRD as many stayers (null otherwise): a recall over a handful of
leavers swings by more than any acceptable range.

A facet may be an intersection, "Gender&MaritalStatus" or "Gender&Age>40": each combination of
its parts' groups is a group of its own (a numeric part splits into "(40, inf)" and "(-inf, 40]").

With the predictions, `impact_ratios` gives New York City Local Law 144's figures for every
facet: each group's selection rate (the share flagged as likely to leave) and its impact ratio
(that rate over the most-selected group's), and, from the scores, the scoring rate (the share
scored above the whole sample's median) and its impact ratio. As the law's rules allow, a group
under 2 % of the employees whose values are known (or under MIN_MEMBERS) is suppressed from the
ratios, and named with its size; employees with a value missing are counted as unknown.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..platform import logs
from ..platform.errors import UserError
from ..table.values import canonical_category, is_missing

DEFAULT_FACETS = "Gender,MaritalStatus,Age>40"  # the IBM HR data's
MIN_MEMBERS = 20
MIN_SHARE = 0.02  # Local Law 144's rules let an audit leave out groups under 2 % of the data
MIN_CASES = 10
# The usual acceptable ranges (the four-fifths rule for DI; +-0.1 for differences), shown in the report.
ACCEPTABLE = {"CI": (-0.5, 0.5), "DPL": (-0.1, 0.1), "DPPL": (-0.1, 0.1), "DI": (0.8, 1.25), "RD": (-0.1, 0.1),
              "AD": (-0.1, 0.1), "FNRD": (-0.1, 0.1), "FPRD": (-0.1, 0.1)}
DESCRIPTIONS = {"CI": "Class Imbalance (CI)", "DPL": "Difference in Positive Proportions in Labels (DPL)",
                "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
                "DI": "Disparate Impact (DI)", "RD": "Recall Difference (RD)", "AD": "Accuracy Difference (AD)",
                "FNRD": "False Negative Rate Difference (FNRD)", "FPRD": "False Positive Rate Difference (FPRD)"}


@dataclass(frozen=True)
class Part:
    """One column of a facet: each category a group, or a number's threshold."""

    column: str
    threshold: float | None = None

    @classmethod
    def parse(cls, text: str, facet: str) -> "Part":
        column, sep, threshold = text.partition(">")
        if not column.strip():
            raise UserError(f"bias facet {facet!r} names no column" + (f" in {text!r}" if text != facet else ""))
        if not sep:
            return cls(column.strip())
        try:
            return cls(column.strip(), float(threshold))
        except ValueError:
            raise UserError(f"bias facet {facet!r}: {threshold!r} is not a number") from None

    def __str__(self) -> str:
        return self.column if self.threshold is None else f"{self.column}>{self.threshold:g}"

    def labels(self, column) -> np.ndarray:
        """Each row's group within this part ("" when the value is missing)."""
        if self.threshold is None:
            return np.array(column.map(lambda v: "" if is_missing(v) else canonical_category(v)), dtype=object)
        numbers = np.array(column.map(_number), dtype=np.float64)
        named = np.full(len(numbers), "", dtype=object)
        named[numbers > self.threshold] = f"({self.threshold:g}, inf)"
        named[numbers <= self.threshold] = f"(-inf, {self.threshold:g}]"
        return named


@dataclass(frozen=True)
class Facet:
    """The groups to audit: one column's, or the combinations of several columns' (an intersection)."""

    parts: tuple[Part, ...]

    @classmethod
    def parse(cls, text: str) -> "Facet":
        """"Gender" (each category a group), "Age>40" (the employees older than 40), or an
        intersection of such parts joined by "&": "Gender&Age>40"."""
        parts = tuple(Part.parse(part, text) for part in text.split("&"))
        columns = [part.column for part in parts]
        if len(set(columns)) < len(columns):
            raise UserError(f"bias facet {text!r} names a column twice")
        return cls(parts)

    @property
    def column(self) -> str:
        """Its name in bias.json: "Gender", "Age" (for Age>40), "Gender&Age"."""
        return "&".join(part.column for part in self.parts)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(part.column for part in self.parts)

    def __str__(self) -> str:
        """As bias_facets spells it: "Gender", "Age>40", "Gender&Age>40"."""
        return "&".join(str(part) for part in self.parts)

    def labels(self, table: dict) -> np.ndarray:
        """Each row's group ("Female&(40, inf)"), "" when any of its parts is missing."""
        named = [part.labels(table[part.column]) for part in self.parts]
        if len(named) == 1:
            return named[0]
        unknown = np.any([n == "" for n in named], axis=0)
        return np.array(["" if gap else "&".join(row) for gap, row in zip(unknown, zip(*named))], dtype=object)


def facets(text: str) -> list[Facet]:
    """A comma-separated list, as in the bias_facets hyperparameter."""
    return [Facet.parse(part) for part in text.split(",") if part.strip()]


def audit(facets: Sequence[Facet], columns: dict, y: np.ndarray, predicted: np.ndarray | None,
          label: str, positive: str, scores: np.ndarray | None = None) -> dict:
    """analysis.json: pre-training metrics from labels y, post-training ones and Local Law 144's
    impact ratios when `predicted` (0/1 at the model's threshold, row for row with y) is given
    (scoring rates too with the `scores`). A facet naming a column not in the data is logged and
    listed under not_audited: other exports lack some of the IBM columns."""
    absent = [str(f) for f in facets if any(c not in columns for c in f.columns)]
    if absent:
        missing = sorted({c for f in facets for c in f.columns if c not in columns})
        logs.say(f"bias audit: no column {', '.join(missing)} in the data; not audited: {', '.join(absent)}")
    facets = [f for f in facets if all(c in columns for c in f.columns)]
    header = {"label": label, "label_value_or_threshold": positive}
    report: dict = {"version": "1.0", "not_audited": absent,
                    "pre_training_bias_metrics": {**header, "facets": {}}}
    if predicted is not None:
        report["post_training_bias_metrics"] = {**header, "facets": {}}
        report["impact_ratios"] = {f.column: impact_ratios(f, columns, predicted, scores) for f in facets}
    for facet in facets:
        for name, members in groups(facet, columns):
            pre, post = _metrics(members, y, predicted)
            for stage, entry in (("pre_training_bias_metrics", pre), ("post_training_bias_metrics", post)):
                if stage in report:
                    report[stage]["facets"].setdefault(facet.column, []).append({"value_or_threshold": name, **entry})
    return report


def groups(facet: Facet, table: dict) -> list[tuple[str, np.ndarray]]:
    """(group name, membership per row) of a facet, over a table of core.table.columns.Column: a single
    numeric part's group is the values above its threshold (Clarify's), any other facet's groups
    are its categories or their combinations."""
    (first, *rest) = facet.parts
    if first.threshold is not None and not rest:
        numbers = np.array(table[first.column].map(_number), dtype=np.float64)
        return [(f"({first.threshold:g}, inf)", numbers > first.threshold)]
    named = facet.labels(table)
    return [(str(level), named == level) for level in sorted(set(named) - {""})]


def impact_ratios(facet: Facet, table: dict, predicted: np.ndarray, scores: np.ndarray | None) -> dict:
    """Local Law 144's table of one facet: per group its members, selection rate and impact ratio
    (and with scores, the scoring rate and its impact ratio); suppressed groups and unknowns counted."""
    named = facet.labels(table)
    unknown = int((named == "").sum())
    smallest = max(MIN_MEMBERS, math.ceil(MIN_SHARE * (len(named) - unknown)))
    median = float(np.median(scores)) if scores is not None and len(scores) else None
    measured: list[dict] = []
    suppressed: list[dict] = []
    for level in sorted(set(named) - {""}):
        members = named == level
        count = int(members.sum())
        if count < smallest:
            suppressed.append({"group": str(level), "members": count})
            continue
        selected = int(predicted[members].sum())
        entry: dict = {"group": str(level), "members": count, "selected": selected, "selection_rate": selected / count}
        if scores is not None and median is not None:
            above = int((scores[members] > median).sum())
            entry |= {"scored_above_median": above, "scoring_rate": above / count}
        measured.append(entry)
    _ratios(measured, "selection_rate", "impact_ratio")
    if median is not None:
        _ratios(measured, "scoring_rate", "scoring_impact_ratio")
    return {"groups": measured, "suppressed": suppressed, "unknown": unknown, "minimum_members": smallest,
            "median_score": median}


def _ratios(groups: list[dict], rate: str, ratio: str) -> None:
    """Each group's rate over the highest one's (null when no group has any)."""
    highest = max((g[rate] for g in groups), default=0.0)
    for group in groups:
        group[ratio] = group[rate] / highest if highest else None


def impact_below(report: dict, minimum: float) -> list[str]:
    """Every impact ratio under `minimum`, as 'Gender&MaritalStatus=Male&Single impact ratio 0.62 < 0.8'."""
    return [f"{column}={group['group']} {name.replace('_', ' ')} {group[name]:.2f} < {minimum:g}"
            for column, table in report.get("impact_ratios", {}).items() for group in table["groups"]
            for name in ("impact_ratio", "scoring_impact_ratio")
            if group.get(name) is not None and group[name] < minimum]


def _number(value) -> float:
    return np.nan if is_missing(value) else float(value)


def _metrics(d: np.ndarray, y: np.ndarray, predicted: np.ndarray | None) -> tuple[dict, dict]:
    a = ~d
    n_d, n_a = int(d.sum()), int(a.sum())
    if min(n_d, n_a) < MIN_MEMBERS:
        small = {"members": n_d, "too_few_members": f"{min(n_d, n_a)} employees on one side: at least "
                                                    f"{MIN_MEMBERS} are needed to measure bias"}
        return small, small
    pre = {"members": n_d, "metrics": _named({"CI": (n_a - n_d) / (n_a + n_d),
                                              "DPL": y[a].mean() - y[d].mean()})}
    if predicted is None:
        return pre, {}
    rate_a, rate_d = predicted[a].mean(), predicted[d].mean()
    post = {"members": n_d, "metrics": _named({
        "DPPL": rate_a - rate_d,
        "DI": rate_d / rate_a if rate_a else None,
        "RD": _recall(y[a], predicted[a]) - _recall(y[d], predicted[d]) if _both(y, a, d, 1) else None,
        "AD": (y[a] == predicted[a]).mean() - (y[d] == predicted[d]).mean(),
        "FNRD": (1 - _recall(y[d], predicted[d])) - (1 - _recall(y[a], predicted[a])) if _both(y, a, d, 1) else None,
        "FPRD": _fpr(y[d], predicted[d]) - _fpr(y[a], predicted[a]) if _both(y, a, d, 0) else None,
    })}
    return pre, post


def _both(y: np.ndarray, a: np.ndarray, d: np.ndarray, label: int) -> bool:
    """Enough employees with this label on both sides to measure a rate among them."""
    return bool(min((y[a] == label).sum(), (y[d] == label).sum()) >= MIN_CASES)


def _recall(y: np.ndarray, p: np.ndarray) -> float:
    return float(p[y == 1].mean())


def _fpr(y: np.ndarray, p: np.ndarray) -> float:
    return float(p[y == 0].mean())


def _named(values: dict) -> list[dict]:
    return [{"name": name, "description": DESCRIPTIONS[name],
             "value": None if value is None else float(value)} for name, value in values.items()]


def outside(report: dict) -> list[str]:
    """Every metric outside its acceptable range, as 'Gender=Female DI 0.71 (0.8..1.25)'."""
    return [f"{m.key} {m.value:.2f} ({_range(m.name)})"
            for stage in ("pre_training_bias_metrics", "post_training_bias_metrics")
            for m in measured(report, stage) if distance(m.name, m.value) > 0]


@dataclass(frozen=True)
class Measured:
    """One metric of one group, as the audit measured it."""

    column: str
    group: str
    name: str
    value: float

    @property
    def key(self) -> str:
        """'Gender=Female DI', as reports and reasons name it."""
        return f"{self.column}={self.group} {self.name}"


def measured(report: dict, stage: str = "post_training_bias_metrics") -> list[Measured]:
    """The metrics of one stage that have a value."""
    return [Measured(column, str(group["value_or_threshold"]), metric["name"], metric["value"])
            for column, entries in report.get(stage, {}).get("facets", {}).items() for group in entries
            for metric in group.get("metrics", []) if metric["value"] is not None]


def _range(name: str) -> str:
    low, high = ACCEPTABLE[name]
    return f"{low:g}..{high:g}"


def distance(name: str, value: float) -> float:
    """How far a metric lies outside its acceptable range (0 inside)."""
    low, high = ACCEPTABLE[name]
    return max(low - value, value - high, 0.0)
