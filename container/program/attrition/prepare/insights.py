"""profile.html: the export's data quality and insights, as SageMaker Data Wrangler's report gives
them, for the person preparing the data.

Per column: its kind, missing share, distinct values, its distribution with the share who left in
each part (deciles for numbers, the most frequent categories), and its association with the
label alone (the ROC AUC of the column as a score, folded so 0.5 is none and 1 is perfect;
categories scored by their own leaver rate, so it flatters columns with many rare values).
Overall: class balance, duplicates, and a quick baseline model's AUC (LightGBM, few small trees,
3-fold cross-validation on at most BASELINE_ROWS rows). Warnings: identifiers and constants (the
columns training drops), likely target leakage (one column alone nearly predicts the label),
many missing values, a rare positive class.
"""

import lightgbm
import numpy as np

from ..core.quality import metrics
from ..core.reports import pages
from ..core.table import features, schema
from ..core.table.values import is_missing

LEAKAGE = 0.95  # a column whose folded AUC alone reaches this is suspect
MISSING = 0.3
RARE = 0.05
BASELINE_ROWS = 20_000
LEVELS = 12
SHARE, LEFT = "#1f77b4", "#d62728"


def insights(columns: dict, y: np.ndarray, inferred: schema.Schema, profile: dict) -> dict:
    """Each column's association with the label and the warnings; the baseline model's AUC."""
    found: dict = {"columns": {}, "warnings": []}
    for name, entry in profile["columns"].items():
        association = _association(columns[name], y, entry["kind"])
        found["columns"][name] = {"association": association}
        if entry.get("dropped"):
            found["warnings"].append(f"{name}: dropped from training ({entry['dropped']})")
        elif association is not None and association >= LEAKAGE:
            found["warnings"].append(f"{name}: alone it predicts who left (AUC {association:.3f}): likely target "
                                     "leakage (a value recorded after the fact); drop it before training")
        if entry["missing_share"] > MISSING:
            found["warnings"].append(f"{name}: {entry['missing_share']:.0%} of values missing")
    share = float(y.mean()) if len(y) else 0.0
    if share < RARE:
        found["warnings"].append(f"only {share:.1%} of employees left: metrics will be noisy")
    found["baseline_auc"] = _baseline(columns, y, inferred)
    return found


def _association(column, y: np.ndarray, kind: str) -> float | None:
    """The folded AUC of the column alone as a score (None for a dropped column, whose categories
    would each be one employee and "predict" perfectly, or one that cannot score: one value)."""
    if kind == "dropped":
        return None
    if kind == schema.NUMERIC:
        values = np.array(column.map(lambda v: np.nan if is_missing(v) else float(v)), dtype=np.float64)
        if np.all(np.isnan(values)):
            return None
        score = np.where(np.isnan(values), np.nanmedian(values), values)
    else:
        spelled = np.array(column.map(lambda v: "" if is_missing(v) else str(v)), dtype=object)
        levels, codes = np.unique(spelled, return_inverse=True)
        rates = np.bincount(codes, weights=y, minlength=len(levels)) / np.bincount(codes, minlength=len(levels))
        score = rates[codes]
    if len(np.unique(score)) < 2:
        return None
    auc = metrics.roc_auc(y, score)
    return float(max(auc, 1 - auc)) if np.isfinite(auc) else None


def _baseline(columns: dict, y: np.ndarray, inferred: schema.Schema) -> float | None:
    """A quick model's out-of-fold AUC: how much signal the export holds, before any tuning."""
    rows = np.arange(len(y)) if len(y) <= BASELINE_ROWS else np.linspace(0, len(y) - 1, BASELINE_ROWS).astype(int)
    if min(int(y[rows].sum()), int(len(rows) - y[rows].sum())) < 3:
        return None
    x = features.encode_table(inferred, {n: columns[n].take(rows) for n in inferred.feature_names}, len(rows))
    target = y[rows]
    folds = np.arange(len(rows)) % 3
    scores = np.zeros(len(rows))
    params = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 10,
              "num_threads": 1, "verbose": -1, "seed": 0}
    for fold in range(3):
        held = folds == fold
        booster = lightgbm.train(params, lightgbm.Dataset(x[~held], target[~held]), num_boost_round=60)
        scores[held] = booster.predict(x[held])
    return float(metrics.roc_auc(target, scores))


def page(profile: dict, columns: dict, y: np.ndarray, found: dict) -> str:
    e = pages.escape
    warnings = "".join(f"<li>{e(w)}</li>" for w in found["warnings"]) or "<li>none</li>"
    ordered = sorted(profile["columns"], key=lambda n: -(found["columns"][n]["association"] or 0))
    figures = "".join(_figure(name, profile["columns"][name], columns[name], y,
                              found["columns"][name]["association"]) for name in ordered)
    label = profile["label"]
    left = f'{label["positives"]} ({label["positives"] / max(profile["rows"], 1):.1%})'
    legend = (f'<span style="background:{SHARE}"></span>share of employees'
              f'<span style="background:{LEFT}"></span>share who left')
    baseline = found["baseline_auc"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality and insights</title>
<style>{pages.STYLE} figure {{ margin: 0; }}</style></head><body>
<h1>Data quality and insights: {e(", ".join(f["file"] for f in profile["files"]))}</h1>
<h2>Overview</h2><table>
<tr><th>employees (labelled)</th><td>{profile["rows"]}</td></tr>
<tr><th>rows without a label</th><td>{profile["rows_without_label"]}</td></tr>
<tr><th>left ({e(label["classes"][1])})</th><td>{left}</td></tr>
<tr><th>exact duplicate rows</th><td>{profile["duplicates"]["rows"]} ({profile["duplicates"]["share"]:.1%})</td></tr>
<tr><th>quick baseline model, ROC AUC (3-fold)</th><td>{"n/a" if baseline is None else f"{baseline:.3f}"}</td></tr>
</table>
<h2>Warnings</h2><ul>{warnings}</ul>
<h2>Columns, most associated with leaving first</h2>
<p class="legend">{legend}</p>
<div class="charts">{figures}</div>
</body></html>
"""


def _figure(name: str, entry: dict, column, y: np.ndarray, association: float | None) -> str:
    labels, share, left = _parts(column, y, entry["kind"])
    said = (f"{entry['kind']}, {entry['missing_share']:.0%} missing, {entry['distinct']} distinct, "
            f"AUC alone {'n/a' if association is None else f'{association:.3f}'}")
    flagged = entry.get("dropped") or (association or 0) >= LEAKAGE
    return (f"<figure><figcaption{' class=flag' if flagged else ''}><b>{pages.escape(name)}</b><br>"
            f"{pages.escape(said)}</figcaption>{pages.bars(labels, [(share, SHARE), (left, LEFT)])}</figure>")


def _parts(column, y: np.ndarray, kind: str) -> tuple[list[str], list[float], list[float]]:
    """Deciles (numbers) or the most frequent categories: each part's share of rows and of leavers."""
    if kind == schema.NUMERIC:
        values = np.array(column.map(lambda v: np.nan if is_missing(v) else float(v)), dtype=np.float64)
        present = ~np.isnan(values)
        if not present.any():
            return [], [], []
        edges = np.unique(np.quantile(values[present], np.linspace(0, 1, 11)))
        parts = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, max(len(edges) - 2, 0))
        labels = [f"{edges[i]:g}..{edges[min(i + 1, len(edges) - 1)]:g}" for i in range(max(len(edges) - 1, 1))]
        members = [present & (parts == i) for i in range(len(labels))]
    else:
        spelled = np.array(column.map(lambda v: "" if is_missing(v) else str(v)), dtype=object)
        levels, counts = np.unique(spelled, return_counts=True)
        labels = [str(v) for v in levels[np.argsort(-counts)][:LEVELS]]
        members = [spelled == level for level in labels]
    share = [float(m.mean()) for m in members]
    left = [float(y[m].mean()) if m.any() else 0.0 for m in members]
    return labels, share, left
