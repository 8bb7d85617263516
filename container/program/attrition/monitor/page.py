"""monitor_report.html: every monitoring run as a page an HR reviewer reads.

Self-contained (inline SVG, no link to anything), and bounded: it grows with the number of
features and groups, never with the window's rows. The verdict and its reasons come first; then
what the kind of run measured: each feature's distribution in training and in the window (data
quality, with the performance estimated before the labels), the metrics with their spread (model
quality), each group's metrics (bias drift), or both rankings side by side (feature attribution).
Earlier runs' reports, when given (ATTRITION_MONITOR_HISTORY), add a trend table.
"""

from ..core.reports import pages

BARS = 12  # categories shown per feature, the most frequent in training first
BASELINE, WINDOW = "#1f77b4", "#d62728"


def page(title: str, report: dict, sections: list[str], earlier: list[dict]) -> str:
    verdict = report.get("verdict", {})
    reasons = "".join(f"<li>{_e(r)}</li>" for r in verdict.get("reasons", []) + verdict.get("notes", []))
    flag = "recommended" if verdict.get("retraining_recommended") else "not recommended"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{pages.STYLE}
.verdict {{ padding: 8px 12px; background: {"#fde2e2" if verdict.get("retraining_recommended") else "#e2f5e4"}; }}
</style></head><body>
<h1>{_e(title)}</h1>
<p class="verdict"><b>Retraining {flag}.</b> {_e(verdict.get("summary", ""))}</p>
<ul>{reasons}</ul>
{"".join(sections)}
{trend(earlier + [report]) if earlier else ""}
</body></html>
"""


def distributions(reference: dict, current: dict, rows: list[dict]) -> str:
    """Each feature: training's distribution beside the window's, its drift figures, flagged ones first."""
    drift = {row["feature"]: row for row in rows}
    base = {s["name"]: s for s in reference.get("features", [])}
    ordered = sorted(current.get("features", []), key=lambda s: -drift.get(s["name"], {}).get("psi", 0.0))
    charts = "".join(_feature(base[s["name"]], s, drift.get(s["name"])) for s in ordered if s["name"] in base)
    return (f'<h2>Inputs: training (blue) and this window (red)</h2><p class="legend"><span style="background:'
            f'{BASELINE}"></span>training<span style="background:{WINDOW}"></span>window</p>'
            f'<div class="charts">{charts}</div>')


def metrics_table(heading: str, rows: list[tuple[str, str, str]], note: str = "") -> str:
    """A table of (name, value, its spread or interval)."""
    body = "".join(f"<tr><th>{_e(n)}</th><td>{_e(v)}</td><td>{_e(s)}</td></tr>" for n, v, s in rows)
    return f"<h2>{_e(heading)}</h2><p>{_e(note)}</p><table><tr><th></th><th>value</th><th></th></tr>{body}</table>"


def groups_table(audit: dict) -> str:
    """Clarify's post-training metrics per group."""
    rows = []
    for column, entries in audit.get("post_training_bias_metrics", {}).get("facets", {}).items():
        for group in entries:
            cells = {m["name"]: m["value"] for m in group.get("metrics", [])}
            shown = "".join(f"<td>{'' if cells.get(n) is None else f'{cells[n]:.2f}'}</td>"
                            for n in ("DPPL", "DI", "RD", "AD", "FNRD", "FPRD"))
            rows.append(f"<tr><th>{_e(column)}={_e(group['value_or_threshold'])}</th><td>{group['members']}</td>"
                        f"{shown}</tr>")
    header = "".join(f"<th>{n}</th>" for n in ("group", "members", "DPPL", "DI", "RD", "AD", "FNRD", "FPRD"))
    return f"<h2>Each group, on the labelled rows</h2><table><tr>{header}</tr>{''.join(rows)}</table>"


def ranking_table(ranking: list[dict]) -> str:
    rows = "".join(f"<tr><td>{i}</td><th>{_e(r['feature'])}</th><td>{r['window']:.4f}</td>"
                   f"<td>{r['baseline_rank'] or '-'}</td><td>{r['baseline']:.4f}</td></tr>"
                   for i, r in enumerate(ranking, 1))
    return ("<h2>Reasons the model leans on: this window beside training</h2><table><tr><th>rank</th>"
            "<th>feature</th><th>mean |SHAP| now</th><th>rank in training</th><th>in training</th></tr>"
            f"{rows}</table>")


def trend(reports: list[dict]) -> str:
    """One row per run, oldest first: when, rows, the verdict."""
    rows = []
    for r in reports:
        verdict = r.get("verdict", {})
        count = r.get("rows", r.get("window", {}).get("rows", ""))
        rows.append(f"<tr><td>{_e(r.get('generated_at', '?'))}</td><td>{count}</td>"
                    f"<td>{'retrain' if verdict.get('retraining_recommended') else 'hold'}</td>"
                    f"<td style='text-align:left'>{_e(verdict.get('summary', ''))}</td></tr>")
    return ("<h2>Trend across windows</h2><table><tr><th>run</th><th>rows</th><th>verdict</th><th>why</th></tr>"
            f"{''.join(rows)}</table>")


def _feature(base: dict, current: dict, drift: dict | None) -> str:
    if "numerical_statistics" in current:
        labels, before, now = _numeric(base["numerical_statistics"], current["numerical_statistics"])
    else:
        labels, before, now = _categorical(base["string_statistics"], current["string_statistics"])
    psi = drift.get("psi") if drift else None
    flagged = psi is not None and psi > 0.2
    caption = f"PSI {psi:.3f}" if psi is not None else ""
    return (f'<figure><figcaption{" class=flag" if flagged else ""}>{_e(current["name"])} {_e(caption)}'
            f"</figcaption>{pages.bars(labels, [(before, BASELINE), (now, WINDOW)])}</figure>")


def _numeric(base: dict, current: dict) -> tuple[list[str], list[float], list[float]]:
    buckets = base["distribution"]["kll"]["buckets"]
    counts = {(b["lower_bound"], b["upper_bound"]): b["count"] for b in current["distribution"]["kll"]["buckets"]}
    labels = [f"{b['lower_bound']:g}..{b['upper_bound']:g}" for b in buckets]
    return labels, _shares([b["count"] for b in buckets]), _shares(
        [counts.get((b["lower_bound"], b["upper_bound"]), 0) for b in buckets])


def _categorical(base: dict, current: dict) -> tuple[list[str], list[float], list[float]]:
    before = {b["value"]: b["count"] for b in base["distribution"]["categorical"]["buckets"]}
    now = {b["value"]: b["count"] for b in current["distribution"]["categorical"]["buckets"]}
    levels = sorted(before, key=lambda v: -before[v])[:BARS]
    new = sum(c for v, c in now.items() if v not in before)
    labels = levels + (["(new)"] if new else [])
    return labels, _shares([before[v] for v in levels] + ([0] if new else [])), _shares(
        [now.get(v, 0) for v in levels] + ([new] if new else []))


def _shares(counts: list) -> list[float]:
    total = sum(counts) or 1
    return [c / total for c in counts]


_e = pages.escape
