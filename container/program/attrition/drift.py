"""Feature statistics in SageMaker Model Monitor's shape, and drift between two of them.

`statistics` summarises raw feature values (numbers, and categories as spelled, unseen ones
included) into statistics.json's shape. Numeric features keep decile buckets (for the
population stability index) and 101 quantiles (for a two-sample Kolmogorov-Smirnov test).
`compare` checks a window of current values against the training baseline.
"""

import math
from dataclasses import dataclass

import numpy as np

from .features import encode_numbers
from .schema import CATEGORICAL
from .values import canonical_category, is_missing

QUANTILES = np.linspace(0, 1, 101)
EPSILON = 1e-4  # floor for empty buckets in the PSI


@dataclass(frozen=True)
class Thresholds:
    psi: float = 0.2  # population stability index above which a feature has drifted
    ks_alpha: float = 0.001  # KS p-value below which a numeric feature has drifted
    missing: float = 0.05  # increase in the share of missing values that counts
    new_category: float = 0.01  # share of rows with categories never seen in training
    prediction_shift: float = 0.05  # change of the mean predicted attrition probability
    min_rows: int = 100  # fewer rows than this: report, but recommend nothing


def feature_values(schema, columns: dict, n_rows: int) -> dict:
    """name -> float array (numeric) or list of category spellings, None where missing."""
    values = {}
    for feature in schema.features:
        raw = columns.get(feature.name, [None] * n_rows)
        if feature.kind == CATEGORICAL:
            values[feature.name] = [None if is_missing(v) else canonical_category(v) for v in raw]
        else:
            values[feature.name] = np.asarray(encode_numbers(feature.name, raw), dtype=np.float64)
    return values


def statistics(schema, values: dict, n_rows: int, edges: dict | None = None) -> dict:
    """statistics.json; `edges` (name -> bucket edges) lets a window reuse the baseline's buckets."""
    features = []
    for feature in schema.features:
        if feature.kind == CATEGORICAL:
            features.append(_string_statistics(feature.name, values[feature.name]))
        else:
            column_edges = (edges or {}).get(feature.name)
            features.append(_numeric_statistics(feature.name, values[feature.name], column_edges))
    return {"version": 0, "dataset": {"item_count": n_rows}, "features": features}


def constraints(schema, stats: dict, thresholds: Thresholds, extra: dict) -> dict:
    features = []
    for feature, stat in zip(schema.features, stats["features"]):
        common = _common(stat)
        entry = {
            "name": feature.name,
            "inferred_type": stat["inferred_type"],
            "completeness": _completeness(common),
            "monitoringConfigOverrides": {},
        }
        if feature.kind == CATEGORICAL:
            entry["string_constraints"] = {"domains": list(feature.levels)}
        else:
            entry["num_constraints"] = {"is_non_negative": stat["numerical_statistics"]["min"] >= 0}
        features.append(entry)
    return {
        "version": 0,
        "features": features,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0 - thresholds.new_category,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": thresholds.psi,
                "comparison_method": "Robust",
            },
        },
        "attrition": extra,  # what our own monitor needs: schema and the prediction baseline
    }


def bucket_edges(stats: dict) -> dict:
    edges = {}
    for stat in stats["features"]:
        if "numerical_statistics" in stat:
            buckets = stat["numerical_statistics"]["distribution"]["kll"]["buckets"]
            edges[stat["name"]] = [b["lower_bound"] for b in buckets] + [buckets[-1]["upper_bound"]] if buckets else []
    return edges


def compare(baseline: dict, current: dict, thresholds: Thresholds) -> list:
    """Per-feature drift measures of `current` against `baseline` (both statistics.json)."""
    rows = []
    base_by_name = {s["name"]: s for s in baseline["features"]}
    for stat in current["features"]:
        base = base_by_name[stat["name"]]
        row = {
            "feature": stat["name"],
            "missing_rate_baseline": 1 - _completeness(_common(base)),
            "missing_rate": 1 - _completeness(_common(stat)),
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


def _numeric_statistics(name: str, values: np.ndarray, edges) -> dict:
    present = values[~np.isnan(values)]
    stats = {"common": {"num_present": int(len(present)), "num_missing": int(len(values) - len(present))}}
    if len(present) == 0:
        stats.update(mean=0.0, sum=0.0, std_dev=0.0, min=0.0, max=0.0,
                     distribution={"kll": {"buckets": [], "sketch": _sketch([])}})
    else:
        if edges is None:
            edges = np.unique(np.quantile(present, np.linspace(0, 1, 11))).tolist()
        counts = _bucket_counts(present, edges)
        buckets = [{"lower_bound": lo, "upper_bound": hi, "count": int(c)}
                   for lo, hi, c in zip(edges[:-1], edges[1:], counts)]
        stats.update(
            mean=float(present.mean()), sum=float(present.sum()), std_dev=float(present.std()),
            min=float(present.min()), max=float(present.max()),
            distribution={"kll": {"buckets": buckets, "sketch": _sketch(np.quantile(present, QUANTILES))}},
        )
    integral = len(present) and bool(np.all(present == np.round(present)))
    return {"name": name, "inferred_type": "Integral" if integral else "Fractional",
            "numerical_statistics": stats}


def _string_statistics(name: str, values: list) -> dict:
    present = [v for v in values if v is not None]
    levels, counts = np.unique(np.array(present, dtype=object), return_counts=True) if present else ([], [])
    return {
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": len(present), "num_missing": len(values) - len(present)},
            "distinct_count": len(levels),
            "distribution": {"categorical": {"buckets": [
                {"value": str(v), "count": int(c)} for v, c in zip(levels, counts)
            ]}},
        },
    }


def _bucket_counts(values: np.ndarray, edges: list) -> np.ndarray:
    """Counts per bucket; values outside the edges fall in the first or last bucket."""
    if len(edges) < 2:
        return np.array([len(values)])
    inner = np.asarray(edges[1:-1])
    return np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(edges) - 1)


def _sketch(quantiles) -> dict:
    return {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[float(q) for q in quantiles]]}


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
    """Asymptotic two-sample Kolmogorov-Smirnov p-value (Kolmogorov's distribution)."""
    if n == 0 or m == 0 or d <= 0:
        return 1.0
    root = math.sqrt(n * m / (n + m))
    lam = (root + 0.12 + 0.11 / root) * d
    if lam < 1.18:  # this series converges fast for small lambda, the other for large
        cdf = math.sqrt(2 * math.pi) / lam * sum(
            math.exp(-((2 * k - 1) ** 2) * math.pi ** 2 / (8 * lam * lam)) for k in range(1, 20))
        return float(min(max(1.0 - cdf, 0.0), 1.0))
    tail = sum(2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 20))
    return float(min(max(tail, 0.0), 1.0))


def _common(stat: dict) -> dict:
    key = "numerical_statistics" if "numerical_statistics" in stat else "string_statistics"
    return stat[key]["common"]


def _completeness(common: dict) -> float:
    total = common["num_present"] + common["num_missing"]
    return common["num_present"] / total if total else 1.0
