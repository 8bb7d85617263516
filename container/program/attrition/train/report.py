"""A self-contained HTML evaluation report, with its charts drawn as inline SVG.

Hand-written SVG instead of a plotting library keeps ~50 MB of matplotlib and its
dependencies out of the image; a browser shows the page with no other file.
"""

import html
import json

import numpy as np

from ..core.quality import metrics
from . import thresholds

WIDTH, HEIGHT, PAD = 360, 280, 46
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#7f7f7f")


PDP_CHARTS = 6  # response curves shown: the most important features'


def build(summary: dict, y: np.ndarray, p: np.ndarray, threshold: float) -> str:
    """summary: metrics, hyperparameters, data, importance, threshold note, partial dependence
    (Clarify's PDP entries, see core/predict/curves.py) and its note (see job.py)."""
    fpr, tpr = metrics.roc_points(y, p)
    curve = thresholds.curve(y, p)
    predicted, observed, _ = metrics.calibration(y, p)
    m = summary["metrics"]
    charts = [
        _line_chart("ROC curve", "false positive rate", "true positive rate",
                    [(f"AUC {m['auc']:.3f}", fpr, tpr)], diagonal=True, legend_at=0.2),
        _line_chart("Precision-recall curve", "recall", "precision",
                    [(f"PR AUC {m['pr_auc']:.3f}", curve.recall, curve.precision)],
                    baseline=float(y.mean())),
        _line_chart("Calibration", "mean predicted probability", "observed attrition rate",
                    [("deciles", np.array(predicted), np.array(observed))], diagonal=True,
                    dots=True, legend_at=0.2),
        _line_chart("Threshold vs F1", "threshold", "score",
                    [("F1", curve.threshold, curve.f_beta(1.0)),
                     ("precision", curve.threshold, curve.precision),
                     ("recall", curve.threshold, curve.recall)], marker=threshold,
                    legend_at=0.62),  # the curves leave the right side free around here
    ]
    importance = summary["importance"][:15]
    charts.append(_bar_chart("Global importance (mean |SHAP|, log-odds)",
                             [row["feature"] for row in importance],
                             [row["mean_abs_shap"] for row in importance]))
    curves = [_response_chart(entry, threshold) for entry in summary.get("pdp", [])[:PDP_CHARTS]]
    return _page(summary, charts, curves, threshold)


def _response_chart(entry: dict, threshold: float) -> str:
    """A feature's partial dependence: a step line for numbers, bars for categories."""
    name, predictions = entry["feature_name"], entry["model_predictions"][0]
    if entry["data_type"] == "categorical":
        return _bar_chart(f"{name}: probability of leaving", [str(v) for v in entry["feature_values"]], predictions)
    xs, ys = np.array(entry["feature_values"], dtype=float), np.array(predictions)
    low, high = float(xs.min()), float(xs.max())
    span = (high - low) or 1.0
    top = max(0.1, float(np.ceil(max(ys.max(), threshold) * 10) / 10))
    step_x, step_y = [0.0], [ys[0] / top]  # the value at xs[i] holds from xs[i-1] up to xs[i]
    for i in range(1, len(xs)):
        step_x += [(xs[i - 1] - low) / span, (xs[i - 1] - low) / span]
        step_y += [ys[i - 1] / top, ys[i] / top]
    step_x.append(1.0)
    step_y.append(ys[-1] / top)
    parts = [_frame(name, name, "probability of leaving", (low, high), (0.0, top)),
             _polyline([0, 1], [threshold / top] * 2, "#555", dash=True), _polyline(step_x, step_y, COLOURS[0])]
    return _svg(parts)


def _page(summary: dict, charts: list, curves: list, threshold: float) -> str:
    m, cm = summary["metrics"], summary["metrics"]["confusion_matrix"]
    rows = "".join(
        f"<tr><th>{name}</th><td>{m[key]:.4f}</td></tr>"
        for name, key in (("ROC AUC", "auc"), ("PR AUC", "pr_auc"), ("Log loss", "logloss"),
                          ("Accuracy", "accuracy"), ("Precision", "precision"),
                          ("Recall", "recall"), ("F1", "f1"))
    )
    measured = summary.get("calibration") or {}
    rows += "".join(f"<tr><th>{name}</th><td>{measured[key]:.4f}</td></tr>" for name, key in (
        ("Brier score", "brier"), ("Calibration error (ECE)", "expected_calibration_error"),
        ("AUC expected from the probabilities", "expected_auc")) if key in measured)
    data = summary["data"]
    dropped = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in data["dropped"].items())
    hp = json.dumps(summary["hyperparameters"], indent=1, sort_keys=True)
    flagged = "".join(f"<li>{_e(line)}</li>" for line in summary.get("bias", []))
    ratios = "".join(_impact_table(name, table) for name, table in summary.get("impact_ratios", {}).items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Attrition model evaluation</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1180px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 16px; margin-top: 28px; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th {{ background: #f4f4f4; text-align: left; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.cm td {{ width: 80px; text-align: center; font-size: 16px; }}
.row {{ display: flex; gap: 40px; flex-wrap: wrap; }}
.low {{ color: #b00; }} h3 {{ font-size: 14px; margin-bottom: 4px; }}
pre {{ background: #f7f7f7; padding: 8px; font-size: 12px; max-height: 320px; overflow: auto; }}
</style></head><body>
<h1>Attrition model evaluation</h1>
<p>{_e(summary["source"])}. Decision threshold <b>{threshold:.4f}</b> ({_e(summary["threshold_note"])}).</p>
<div class="row">
<div><h2>Metrics</h2><table>{rows}</table></div>
<div><h2>Confusion matrix at the threshold</h2>
<table class="cm"><tr><th></th><th>predicted stays</th><th>predicted leaves</th></tr>
<tr><th>stayed</th><td>{cm["tn"]}</td><td>{cm["fp"]}</td></tr>
<tr><th>left</th><td>{cm["fn"]}</td><td>{cm["tp"]}</td></tr></table></div>
<div><h2>Data</h2><table>
<tr><th>rows</th><td>{data["rows"]}</td></tr><tr><th>positives</th><td>{data["positives"]}</td></tr>
<tr><th>features</th><td>{data["features"]}</td></tr><tr><th>trees</th><td>{data["iterations"]}</td></tr>
</table><p>Dropped columns:</p><ul>{dropped or "<li>none</li>"}</ul></div>
</div>
<h2>Charts</h2><div class="charts">{"".join(charts)}</div>
<h2>How the risk responds to each feature</h2><p>{_e(summary.get("pdp_note", ""))} The dashed line is the
decision threshold.</p><div class="charts">{"".join(curves)}</div>
<h2>Bias audit</h2><p>Metrics outside their acceptable range (all figures in bias.json, in
SageMaker Clarify's analysis.json shape; predictions are out-of-fold):</p><ul>{flagged or "<li>none</li>"}</ul>
<h2>Impact ratios (New York City Local Law 144)</h2><p>Per group: the share flagged as likely to leave
(selection rate) and the share scored above the median (scoring rate), each over the highest
group's. Ratios under 0.8 (the four-fifths rule) are marked.</p><div class="row">{ratios or "<p>none audited</p>"}</div>
<h2>Hyperparameters</h2><pre>{_e(hp)}</pre>
</body></html>
"""


def _impact_table(facet: str, table: dict) -> str:
    """One facet's Local Law 144 table, with its suppressed groups and unknowns said below it."""
    def ratio(value) -> str:
        return "n/a" if value is None else f'<b class="low">{value:.2f}</b>' if value < 0.8 else f"{value:.2f}"

    rows = "".join(
        f"<tr><th>{_e(g['group'])}</th><td>{g['members']}</td><td>{g['selection_rate']:.1%}</td>"
        f"<td>{ratio(g['impact_ratio'])}</td><td>{g.get('scoring_rate', 0):.1%}</td>"
        f"<td>{ratio(g.get('scoring_impact_ratio'))}</td></tr>" for g in table["groups"])
    left_out = ", ".join(f"{g['group']} ({g['members']})" for g in table["suppressed"])
    notes = (f"Suppressed (under {table['minimum_members']} employees): {left_out}. " if left_out else "") + \
        (f"Unknown value: {table['unknown']} employee(s)." if table["unknown"] else "")
    return (f"<div><h3>{_e(facet)}</h3><table><tr><th>group</th><th>employees</th><th>selection rate</th>"
            f"<th>impact ratio</th><th>scoring rate</th><th>scoring impact ratio</th></tr>{rows}</table>"
            f"<p>{_e(notes)}</p></div>")


def _line_chart(title, x_label, y_label, series, diagonal=False, dots=False, marker=None,
                baseline=None, legend_at=1.0) -> str:
    """legend_at: height (0..1, in the chart's units) of the first legend line, at the right."""
    parts = [_frame(title, x_label, y_label)]
    if diagonal:
        parts.append(_polyline([0, 1], [0, 1], "#bbb", dash=True))
    if baseline is not None:
        parts.append(_polyline([0, 1], [baseline, baseline], "#bbb", dash=True))
    if marker is not None:
        parts.append(_polyline([marker, marker], [0, 1], "#555", dash=True))
    for i, (label, xs, ys) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(_polyline(xs, ys, colour))
        if dots:
            parts += [f'<circle cx="{_x(a):.1f}" cy="{_y(b):.1f}" r="3" fill="{colour}"/>'
                      for a, b in zip(xs, ys)]
        parts.append(f'<text x="{WIDTH - PAD - 6}" y="{_y(legend_at) + 6 + 14 * i:.1f}" '
                     f'fill="{colour}" font-size="11" text-anchor="end">{_e(label)}</text>')
    return _svg(parts)


def _bar_chart(title: str, labels: list, values: list) -> str:
    height = 40 + 18 * len(labels)
    top = max(values) if values and max(values) > 0 else 1.0
    left, width = 190, 2 * WIDTH - 190 - 60
    bars = [f'<text x="10" y="20" font-size="13" font-weight="600">{_e(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 32 + 18 * i
        length = width * value / top
        bars.append(f'<text x="{left - 6}" y="{y + 11}" font-size="11" text-anchor="end">{_e(label)}</text>'
                    f'<rect x="{left}" y="{y}" width="{length:.1f}" height="13" fill="{COLOURS[0]}"/>'
                    f'<text x="{left + length + 4:.1f}" y="{y + 11}" font-size="10">{value:.3f}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * WIDTH}" height="{height}" '
            f'role="img">{"".join(bars)}</svg>')


def _frame(title, x_label, y_label, x_range=(0.0, 1.0), y_range=(0.0, 1.0)) -> str:
    """Axes drawn on [0, 1] x [0, 1]; the tick labels read the ranges' own units."""
    ticks = []
    for t in (0, 0.25, 0.5, 0.75, 1):
        x_tick = x_range[0] + t * (x_range[1] - x_range[0])
        y_tick = y_range[0] + t * (y_range[1] - y_range[0])
        ticks.append(f'<text x="{_x(t):.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
                     f'text-anchor="middle">{x_tick:.4g}</text>')
        ticks.append(f'<text x="{PAD - 6}" y="{_y(t) + 3:.1f}" font-size="10" text-anchor="end">{y_tick:.3g}</text>')
        ticks.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{_y(t):.1f}" y2="{_y(t):.1f}" stroke="#eee"/>')
    return (
        f'<text x="{WIDTH / 2}" y="18" font-size="13" font-weight="600" text-anchor="middle">{_e(title)}</text>'
        f'<rect x="{PAD}" y="{PAD - 14}" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 2 * PAD + 14}" '
        f'fill="none" stroke="#999"/>'
        + "".join(ticks)
        + f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" font-size="11" text-anchor="middle">{_e(x_label)}</text>'
        f'<text x="12" y="{HEIGHT / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {HEIGHT / 2})">{_e(y_label)}</text>'
    )


def _polyline(xs, ys, colour: str, dash: bool = False) -> str:
    points = " ".join(f"{_x(a):.1f},{_y(b):.1f}" for a, b in zip(xs, ys))
    style = ' stroke-dasharray="4 3"' if dash else ""
    return f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.6"{style}/>'


def _svg(parts: list) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'role="img">{"".join(parts)}</svg>')


def _x(value: float) -> float:
    return PAD + float(np.clip(value, 0, 1)) * (WIDTH - 2 * PAD)


def _y(value: float) -> float:
    return HEIGHT - PAD - float(np.clip(value, 0, 1)) * (HEIGHT - 2 * PAD - 14)


def _e(text) -> str:
    return html.escape(str(text))
