"""Bias drift: Clarify's post-training metrics on a labelled window, against training's.

A group's metric is a violation when it lies outside its acceptable range (core/bias.ACCEPTABLE)
and either was inside it in the baseline, or was not measured there, or lies further out than the
baseline by more than TOLERANCE (on its own scale: disparate impact as its logarithm, so 0.5 and
2 are equally far from parity). A group outside its range in both, no further out, is noted
for the reviewer, not flagged.
"""

import math

from ..core.quality import bias

TOLERANCE = 0.05


def violations(baseline: dict, window: dict, tolerance: float = TOLERANCE) -> tuple[list[dict], list[str]]:
    """constraint_violations.json entries, and the notes (outside in both, no further out)."""
    before = {m.key: m.value for m in bias.measured(baseline)}
    found, notes = [], []
    for now in bias.measured(window):
        outside = bias.distance(now.name, now.value)
        if outside <= 0:
            continue
        low, high = bias.ACCEPTABLE[now.name]
        was = before.get(now.key)
        said = f"{now.key} {now.value:.2f} outside {low:g}..{high:g} (training: " + (
            "not measured" if was is None else f"{was:.2f}") + ")"
        if was is None or bias.distance(now.name, was) <= 0 or _further(now.name, now.value, was) > tolerance:
            found.append({"feature_name": now.key.split("=")[0], "constraint_check_type": "bias_drift_check",
                          "description": said})
        else:
            notes.append(said + ": outside in training too, no further out")
    return found, notes


def _further(name: str, value: float, was: float) -> float:
    """How much further from its acceptable range `value` lies than `was`, on the metric's scale."""
    if name == "DI":
        if value <= 0 or was <= 0:
            return math.inf if value <= 0 < was else 0.0
        return abs(math.log(value)) - abs(math.log(was))
    return bias.distance(name, value) - bias.distance(name, was)
