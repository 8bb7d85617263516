"""Feature attribution drift: does the model now lean on different reasons?

The window's global importance is its mean |TreeSHAP| per feature (exact, in log-odds: the
model's own contributions, the functions that serve explanations), set against the training
baseline's (the model's metadata). As SageMaker Clarify's model explainability monitor does, the
two rankings are compared by nDCG: the window's ranking scored with the baseline's attributions,

    DCG  = sum over ranks i (1-based) of baseline_attribution(window's i-th feature) / log2(i + 1)
    nDCG = DCG / the same sum for the baseline's own ranking,

and a score below NDCG_THRESHOLD (0.90, Clarify's default) is a violation.
"""

import math

import numpy as np

from ..core.predict.model import Model
from ..core.table import features

NDCG_THRESHOLD = 0.90
ROWS_AT_ONCE = 50_000  # contributions are computed a block of rows at a time


def window_importance(trained: Model, columns: dict, n_rows: int) -> dict[str, float]:
    """Mean |TreeSHAP| per feature over the window's rows, in the model's feature order."""
    matrix = features.encode_table(trained.schema, columns, n_rows)
    total = np.zeros(len(trained.schema.features))
    for start in range(0, n_rows, ROWS_AT_ONCE):
        block = np.asarray(matrix[start:start + ROWS_AT_ONCE], dtype=np.float64)
        total += np.abs(trained.contributions(block)).sum(axis=0)
    return {name: float(value / max(n_rows, 1)) for name, value in zip(trained.schema.feature_names, total)}


def ndcg(baseline: dict[str, float], current: dict[str, float]) -> float:
    """Clarify's nDCG of the current ranking against the baseline's attributions."""
    relevance = {name: abs(value) for name, value in baseline.items()}
    ranked = sorted(current, key=lambda name: -abs(current[name]))
    ideal = sorted(relevance.values(), reverse=True)
    dcg = sum(relevance.get(name, 0.0) / math.log2(rank + 2) for rank, name in enumerate(ranked))
    best = sum(value / math.log2(rank + 2) for rank, value in enumerate(ideal))
    return dcg / best if best else 1.0


def violations(score: float, threshold: float = NDCG_THRESHOLD) -> list[dict]:
    if score >= threshold:
        return []
    return [{"feature_name": "all", "constraint_check_type": "feature_attribution_drift_check",
             "description": f"nDCG {score:.4f} of the window's feature ranking against training's is below "
                            f"{threshold:g}: the model now leans on different features"}]
