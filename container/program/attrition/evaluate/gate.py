"""The gate: may the new model be registered, and replace the champion? The whole decision is
here; the pipelines and the local runners only read its `passed`.

First the bar: the test AUC at least auc_threshold (0: no bar), judged against the noise of the
test rows like everything else: a model is below the bar when even the upper end of its AUC's
95 % interval (DeLong's standard error) is; one whose interval holds the bar is not refused for it
(on a few hundred rows the same model's AUC moves by several hundredths). Then, when there is a champion,
both models are scored on the same test rows, so each difference between them is judged paired,
and "worse" means worse beyond the noise of those rows, at 95 % (Z standard errors):

- ROC AUC: the difference and its standard error by DeLong's method (the two AUCs are computed
  from the same leavers and stayers, so they are correlated); worse when even the upper end of
  the interval lies below -auc_tolerance.
- Each post-training bias metric of each audited group (core/bias), on its own scale: disparate
  impact, a ratio, as its logarithm (so 0.5 and 2 are equally far from parity); the differences as
  differences. Its standard error is that of the two models' paired difference, from the
  group's counts (delta method). Worse when the challenger lies outside the acceptable range and
  further out than the champion by more than z standard errors plus bias_tolerance (same scale).
  Many metrics are compared at once (six per group), so z is Bonferroni's for their number: the
  chance that any of them is called worse by noise alone stays at 5 %.

A metric outside its range for both models but not further out beyond noise (often the labels'
own difference between groups) stays the reviewer's call, listed in the evaluation.

Last, when min_impact_ratio is above 0 (off by default: the report always shows the ratios), every
Local Law 144 impact ratio of the new model (selection and scoring, per group of every facet,
core/bias) must reach it, with or without a champion.
"""

import dataclasses
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..core.quality import bias, metrics

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)  # two-sided


@dataclass(frozen=True)
class Scored:
    """One model's answers on the test rows: probabilities, 0/1 at its threshold, its bias audit."""

    probabilities: np.ndarray
    predicted: np.ndarray
    audit: dict


@dataclass(frozen=True)
class Rows:
    """The test rows both models were scored on: labels and the audited columns."""

    y: np.ndarray
    columns: dict
    facets: list[bias.Facet]


@dataclass(frozen=True)
class Kind:
    """A bias metric as a function of two groups' means of a 0/1 quantity: which quantity, over
    which rows, on which scale, and its sign (the metric is sign * (f(mean_a) - f(mean_d)))."""

    correct: bool  # the quantity: prediction right (AD) or predicted positive (the others)
    among: int | None  # only leavers (1) or stayers (0); None: everyone
    log: bool
    sign: int


KINDS = {"DPPL": Kind(False, None, False, 1), "DI": Kind(False, None, True, -1), "RD": Kind(False, 1, False, 1),
         "FNRD": Kind(False, 1, False, 1), "AD": Kind(True, None, False, 1), "FPRD": Kind(False, 0, False, -1)}


@dataclass(frozen=True)
class Settings:
    auc_threshold: float = 0.0
    auc_tolerance: float = 0.01
    bias_tolerance: float = 0.0
    min_impact_ratio: float = 0.0


def judge(challenger: Scored, champion: Scored | None, rows: Rows, settings: Settings) -> dict:
    """attrition.gate of evaluation.json: passed, the settings, and the reasons in words."""
    fields = {**dataclasses.asdict(settings), "confidence": CONFIDENCE}
    auc = metrics.roc_auc(rows.y, challenger.probabilities)
    margin = Z * auc_error(rows.y, challenger.probabilities)
    meets = not auc + margin < settings.auc_threshold  # a NaN margin (a class missing) judges the AUC alone
    verdict = "met" if auc >= settings.auc_threshold else "within noise of it" if meets else "below beyond noise"
    reasons = [f"test AUC {auc:.4f} ± {margin:.4f} (95 %) vs threshold {settings.auc_threshold:g}: {verdict}"]
    below = bias.impact_below(challenger.audit, settings.min_impact_ratio) if settings.min_impact_ratio else []
    if settings.min_impact_ratio:
        reasons += [f"impact ratio: {line}" for line in below] or [
            f"impact ratio: every group's at least {settings.min_impact_ratio:g}"]
    meets = meets and not below
    if champion is None:
        return {"passed": meets, **fields,
                "reasons": reasons + ["no champion yet: the first approved model is judged on its own"]}
    auc_line, auc_worse = _auc(rows.y, challenger.probabilities, champion.probabilities, auc, settings.auc_tolerance)
    treated_worse = _bias(challenger, champion, rows, settings.bias_tolerance)
    reasons.append(auc_line)
    reasons += [f"bias: {line}" for line in treated_worse] or [
        "bias: no group treated worse than by the champion beyond the noise of the test rows"]
    return {"passed": meets and not auc_worse and not treated_worse, **fields, "reasons": reasons}


def auc_difference(y: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[float, float]:
    """AUC(first) - AUC(second) on the same rows and its standard error (DeLong, 1988, computed
    from midranks as Sun and Xu, 2014)."""
    m, n = int((y == 1).sum()), int((y == 0).sum())
    if m < 2 or n < 2:
        return math.nan, math.nan
    (a10, a01), (b10, b01) = _placements(y, first), _placements(y, second)
    s10, s01 = np.cov(np.vstack([a10, b10])), np.cov(np.vstack([a01, b01]))
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return float(a10.mean() - b10.mean()), math.sqrt(max(float(variance), 0.0))


def auc_error(y: np.ndarray, score: np.ndarray) -> float:
    """The standard error of one model's AUC on these rows (DeLong)."""
    m, n = int((y == 1).sum()), int((y == 0).sum())
    if m < 2 or n < 2:
        return math.nan
    v10, v01 = _placements(y, score)
    return math.sqrt(float(np.var(v10, ddof=1)) / m + float(np.var(v01, ddof=1)) / n)


def _placements(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components: each leaver's share of stayers scored below it, and each
    stayer's share of leavers scored above it (their means are the AUC)."""
    m, n = int((y == 1).sum()), int((y == 0).sum())
    pos, neg = score[y == 1], score[y == 0]
    everyone = metrics.average_ranks(np.concatenate([pos, neg]))
    return (everyone[:m] - metrics.average_ranks(pos)) / n, 1 - (everyone[m:] - metrics.average_ranks(neg)) / m


def _auc(y: np.ndarray, challenger: np.ndarray, champion: np.ndarray, ours: float,
         tolerance: float) -> tuple[str, bool]:
    difference, error = auc_difference(y, challenger, champion)
    theirs = ours - difference
    worse = difference + Z * error < -tolerance
    verdict = "worse beyond noise" if worse else "not worse beyond noise"
    return (f"AUC {ours:.4f} vs champion {theirs:.4f}: difference {difference:+.4f} ± {Z * error:.4f} "
            f"(95 %), tolerance {tolerance:g}: {verdict}"), worse


def _bias(challenger: Scored, champion: Scored, rows: Rows, tolerance: float) -> list[str]:
    theirs = {m.key: m.value for m in bias.measured(champion.audit)}
    facets = {facet.column: facet for facet in rows.facets}
    outside = [m for m in bias.measured(challenger.audit) if bias.distance(m.name, m.value) > 0]
    members = {(column, group): rows_in for column in {m.column for m in outside}
               for group, rows_in in bias.groups(facets[column], rows.columns)}
    z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / (2 * max(len(outside), 1)))
    found = []
    for ours in outside:
        kind = KINDS[ours.name]
        low, high = _scale(kind, *bias.ACCEPTABLE[ours.name])
        (here,) = _scale(kind, ours.value)
        was = theirs.get(ours.key)
        error = _paired_error(kind, members[ours.column, ours.group], rows.y, challenger.predicted,
                              None if was is None else champion.predicted)
        reference = (high if here > high else low) if was is None else _scale(kind, was)[0]
        further = here - reference if here > high else reference - here
        if further > z * error + tolerance:
            found.append(f"{ours.key} {ours.value:.2f}, champion {'n/a' if was is None else f'{was:.2f}'} "
                         f"(acceptable {bias.ACCEPTABLE[ours.name][0]:g}..{bias.ACCEPTABLE[ours.name][1]:g}): "
                         f"further out by {further:.3f}{' on the log scale' if kind.log else ''}, "
                         f"noise ± {z * error:.3f} ({len(outside)} metrics compared)")
    return found


def _scale(kind: Kind, *values: float) -> tuple[float, ...]:
    return tuple(math.log(max(v, 1e-9)) for v in values) if kind.log else values


def _paired_error(kind: Kind, members: np.ndarray, y: np.ndarray, ours: np.ndarray,
                  theirs: np.ndarray | None) -> float:
    """The standard error of (the challenger's metric - the champion's) on the same rows, by the
    delta method: per row, each model's influence on its group's mean, their difference, summed
    over the two groups. Without the champion's answers, the challenger's own error."""
    variance = 0.0
    for group, direction in ((~members, 1), (members, -1)):
        chosen = group if kind.among is None else group & (y == kind.among)
        count = int(chosen.sum())
        if count == 0:
            continue
        influence = np.zeros(count)
        for answers, weight in ((ours, 1), (theirs, -1)):
            if answers is None:
                continue
            quantity = (answers[chosen] == y[chosen]) if kind.correct else answers[chosen]
            quantity = quantity.astype(float)
            mean = float(quantity.mean())
            slope = 1 / max(mean, 0.5 / count) if kind.log else 1.0
            influence += weight * direction * kind.sign * slope * (quantity - mean)
        variance += float((influence ** 2).sum()) / count ** 2
    return math.sqrt(variance)
