"""Drift between a window's statistics and the training baseline (both statistics.json).

Per feature: the population stability index over the baseline's buckets, a two-sample
Kolmogorov-Smirnov test for numbers (its p-value from scipy), new and vanished categories,
and missing-value rates; `violations` turns them into constraint_violations.json entries.
"""

import numpy as np
from scipy import stats

from ..core.contract import Thresholds
from ..core.quality import baseline

EPSILON = 1e-4  # floor for empty buckets in the PSI


def compare(reference: dict, current: dict) -> list:
    """Per-feature drift measures of `current` against `reference` (both statistics.json)."""
    rows = []
    base_by_name = {s["name"]: s for s in reference["features"]}
    for stat in current["features"]:
        base = base_by_name[stat["name"]]
        row = {
            "feature": stat["name"],
            "missing_rate_baseline": baseline.missing_rate(base),
            "missing_rate": baseline.missing_rate(stat),
        }
        if "numerical_statistics" in stat:
            row.update(_numeric_drift(base["numerical_statistics"], stat["numerical_statistics"]))
        else:
            row.update(_categorical_drift(base["string_statistics"], stat["string_statistics"]))
        rows.append(row)
    return rows


def violations(rows: list, thresholds: Thresholds) -> list:
    """constraint_violations.json entries for the drift rows."""
    found = []
    for row in rows:
        name = row["feature"]
        if row["psi"] > thresholds.psi or row.get("ks_pvalue", 1.0) < thresholds.ks_alpha:
            detail = f"PSI {row['psi']:.3f} (threshold {thresholds.psi:g})"
            if "ks_pvalue" in row:
                detail += f", KS D {row['ks_statistic']:.3f} p {row['ks_pvalue']:.2g} (alpha {thresholds.ks_alpha:g})"
            found.append(_violation(name, "baseline_drift_check", f"distribution changed: {detail}"))
        if row.get("new_category_share", 0) > thresholds.new_category:
            shown = ", ".join(repr(v) for v in row["new_categories"][:5])
            found.append(_violation(name, "categorical_values_check",
                                    f"{row['new_category_share']:.1%} of rows have categories unseen in "
                                    f"training: {shown}"))
        if row["missing_rate"] - row["missing_rate_baseline"] > thresholds.missing:
            found.append(_violation(name, "completeness_check",
                                    f"missing values rose from {row['missing_rate_baseline']:.1%} to "
                                    f"{row['missing_rate']:.1%}"))
    return found


def _violation(feature: str, check: str, description: str) -> dict:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _numeric_drift(base: dict, current: dict) -> dict:
    base_counts = [b["count"] for b in base["distribution"]["kll"]["buckets"]]
    current_counts = [b["count"] for b in current["distribution"]["kll"]["buckets"]]
    n_base, n_current = base["common"]["num_present"], current["common"]["num_present"]
    result = {"psi": _psi(base_counts, current_counts), "mean_baseline": base["mean"],
              "mean": current["mean"]}
    base_q = base["distribution"]["kll"]["sketch"]["data"][0]
    current_q = current["distribution"]["kll"]["sketch"]["data"][0]
    if base_q and current_q:
        d = _ks_statistic(np.array(base_q), np.array(current_q))
        result.update(ks_statistic=d, ks_pvalue=_ks_pvalue(d, n_base, n_current))
    return result


def _categorical_drift(base: dict, current: dict) -> dict:
    base_counts = {b["value"]: b["count"] for b in base["distribution"]["categorical"]["buckets"]}
    current_counts = {b["value"]: b["count"] for b in current["distribution"]["categorical"]["buckets"]}
    new = sorted((v for v in current_counts if v not in base_counts), key=lambda v: -current_counts[v])
    total = max(sum(current_counts.values()), 1)
    base_total = max(sum(base_counts.values()), 1)
    vanished = [v for v, c in base_counts.items() if c / base_total >= 0.01 and v not in current_counts]
    levels = list(base_counts) + ["<new>"]
    current_counts["<new>"] = sum(current_counts[v] for v in new)
    return {
        "psi": _psi([base_counts.get(v, 0) for v in levels], [current_counts.get(v, 0) for v in levels]),
        "new_categories": new,
        "new_category_share": current_counts["<new>"] / total,
        "vanished_categories": vanished,
    }


def _psi(base_counts, current_counts) -> float:
    base = np.maximum(np.asarray(base_counts, float) / max(sum(base_counts), 1), EPSILON)
    current = np.maximum(np.asarray(current_counts, float) / max(sum(current_counts), 1), EPSILON)
    return float(np.sum((current - base) * np.log(current / base)))


def _ks_statistic(base_quantiles: np.ndarray, current_quantiles: np.ndarray) -> float:
    """Largest gap between the two distribution functions, each known by 101 quantiles."""
    points = np.union1d(base_quantiles, current_quantiles)
    return float(np.max(np.abs(_cdf(base_quantiles, points) - _cdf(current_quantiles, points))))


def _cdf(quantiles: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.searchsorted(quantiles, points, side="right") / len(quantiles)


def _ks_pvalue(d: float, n: int, m: int) -> float:
    """Two-sample KS p-value from the statistic alone (the quantile sketches are all we keep):
    scipy's asymptotic method, as ks_2samp(method="asymp") computes it."""
    if n == 0 or m == 0 or d <= 0:
        return 1.0
    return float(stats.kstwo.sf(d, max(1, round(n * m / (n + m)))))
