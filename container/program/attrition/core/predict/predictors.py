"""The predictor interface, and which implementation serves a booster.

Both give the same numbers as `Booster.predict` (the tests check it): `StumpPredictor` for sums
of stumps (our default, ~11x faster on one row), `LightGBMPredictor` for every other model.
"""

from typing import Protocol

import lightgbm
import numpy as np

from .lightgbm_capi import LightGBMPredictor
from .stumps import compile_stumps


class Predictor(Protocol):
    name: str  # shown by GET /model

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Positive-class probability for each row of a float64 (rows, features) matrix."""
        ...

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature TreeSHAP contributions in log-odds (the base value column dropped)."""
        ...


def for_booster(booster: lightgbm.Booster, threads: int) -> Predictor:
    return compile_stumps(booster) or LightGBMPredictor(booster, threads)
