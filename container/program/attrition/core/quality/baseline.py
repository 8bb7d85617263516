"""Feature statistics and constraints in SageMaker Model Monitor's shape: the baseline.

`train` writes them next to the model; `monitor` summarises a window the same way and compares.
`statistics` summarises raw feature values (numbers, and categories as spelled, unseen ones
included) into statistics.json's shape. Numeric features keep decile buckets (for the
population stability index) and 101 quantiles (for a two-sample Kolmogorov-Smirnov test).
"""

from collections import Counter
from typing import Any

import numpy as np

from ..contract import Thresholds
from ..table.columns import Column
from ..table.features import column_numbers
from ..table.schema import CATEGORICAL
from ..table.values import canonical_category, is_missing

QUANTILES = np.linspace(0, 1, 101)


def statistics(schema, columns: dict, n_rows: int, edges: dict | None = None) -> dict:
    """statistics.json of raw columns (a window of requests) or Columns (the training table), one
    feature's values at a time: a big table's would not fit in memory together. `edges` (name ->
    bucket edges) lets a window reuse the baseline's buckets."""
    features = []
    for feature in schema.features:
        values = _values(feature, columns.get(feature.name, [None] * n_rows))
        if feature.kind == CATEGORICAL:
            features.append(_string_statistics(feature.name, values))
        else:
            column_edges = (edges or {}).get(feature.name)
            features.append(_numeric_statistics(feature.name, values, column_edges))
        del values
    return {"version": 0, "dataset": {"item_count": n_rows}, "features": features}


def _values(feature, raw):
    """A float array (numeric) or a list of category spellings, None where missing."""
    if feature.kind != CATEGORICAL:
        return column_numbers(feature.name, raw)
    if isinstance(raw, Column):
        return raw.map(_spelling)
    return [_spelling(v) for v in raw]


def _spelling(value) -> str | None:
    return None if is_missing(value) else canonical_category(value)


def constraints(schema, stats: dict, thresholds: Thresholds, extra: dict) -> dict:
    features = []
    for feature, stat in zip(schema.features, stats["features"]):
        counts = common(stat)
        entry = {
            "name": feature.name,
            "inferred_type": stat["inferred_type"],
            "completeness": completeness(counts),
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


def _numeric_statistics(name: str, values: np.ndarray, edges) -> dict:
    present = values[~np.isnan(values)]
    stats: dict[str, Any] = {"common": {"num_present": int(len(present)),
                                        "num_missing": int(len(values) - len(present))}}
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
    counts = Counter(values)
    missing = counts.pop(None, 0)
    levels = sorted(counts)
    return {
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": len(values) - missing, "num_missing": missing},
            "distinct_count": len(levels),
            "distribution": {"categorical": {"buckets": [
                {"value": str(v), "count": counts[v]} for v in levels
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


def common(stat: dict) -> dict:
    key = "numerical_statistics" if "numerical_statistics" in stat else "string_statistics"
    return stat[key]["common"]


def completeness(counts: dict) -> float:
    total = counts["num_present"] + counts["num_missing"]
    return counts["num_present"] / total if total else 1.0


def missing_rate(stat: dict) -> float:
    return 1 - completeness(common(stat))


QUALITY_CONSTRAINED = ("auc", "f1", "precision", "recall")
QUALITY_TOLERANCE = 0.05  # how far below its baseline a metric may fall before it is a violation


def quality_constraints(measured: dict, threshold: float, classes: list[str],
                        tolerance: float = QUALITY_TOLERANCE) -> dict:
    """Model Monitor's model-quality constraints.json: each metric's floor (its baseline value,
    out of fold, less `tolerance`) with comparison_operator LessThanThreshold; the attrition
    section keeps what scoring a window needs (the decision threshold and the classes)."""
    return {
        "version": 0.0,
        "binary_classification_constraints": {
            name: {"threshold": max(float(measured[name]) - tolerance, 0.0), "comparison_operator": "LessThanThreshold"}
            for name in QUALITY_CONSTRAINED if name in measured},
        "attrition": {"decision_threshold": float(threshold), "classes": list(classes), "tolerance": tolerance,
                      "baseline": {name: float(measured[name]) for name in QUALITY_CONSTRAINED if name in measured}},
    }
