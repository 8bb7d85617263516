"""Probabilities straight from LightGBM's C API: Booster.predict without its per-call Python work.

`Booster.predict` rebuilds a predictor, converts and checks its input on every call, which costs
more than scoring one employee with the whole model. This calls the same C functions that
`Booster.predict` calls (lightgbm's own loaded library and the booster's handle), with the
parameters prepared once, and LightGBM's single-row fast path for one-row requests.
The tests check that the results equal `Booster.predict` exactly.
"""

import ctypes
import threading

import lightgbm
import numpy as np

PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: probabilities for a binary objective
DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64
ROW_MAJOR = 1


class LightGBMPredictor:
    name = "lightgbm"

    def __init__(self, booster: lightgbm.Booster, num_threads: int):
        self._lib = lightgbm.basic._LIB
        self._booster = booster  # keeps the handle alive
        self._columns = booster.num_feature()
        self._threads = num_threads
        self._params = f"num_threads={num_threads}".encode()
        self._lock = threading.Lock()  # the single-row config must not be shared by two threads
        self._fast = ctypes.c_void_p()
        self._check(self._lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(PREDICT_NORMAL), ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(DTYPE_FLOAT64), ctypes.c_int32(self._columns),
            ctypes.c_char_p(self._params), ctypes.byref(self._fast),
        ))

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Positive-class probability for each row of a float64 (rows, features) matrix."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        rows = matrix.shape[0]
        if matrix.ndim != 2 or matrix.shape[1] != self._columns:
            raise ValueError(f"expected a (rows, {self._columns}) matrix, got {matrix.shape}")
        out = np.empty(rows, dtype=np.float64)
        written = ctypes.c_int64(0)
        data = matrix.ctypes.data_as(ctypes.c_void_p)
        result = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        if rows == 1:
            with self._lock:
                self._check(self._lib.LGBM_BoosterPredictForMatSingleRowFast(
                    self._fast, data, ctypes.byref(written), result))
        elif rows:
            self._check(self._lib.LGBM_BoosterPredictForMat(
                self._booster._handle, data, ctypes.c_int(DTYPE_FLOAT64), ctypes.c_int32(rows),
                ctypes.c_int32(self._columns), ctypes.c_int(ROW_MAJOR), ctypes.c_int(PREDICT_NORMAL),
                ctypes.c_int(0), ctypes.c_int(-1), ctypes.c_char_p(self._params),
                ctypes.byref(written), result,
            ))
        if written.value != rows:
            raise RuntimeError(f"LightGBM wrote {written.value} predictions for {rows} rows")
        return out

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature TreeSHAP contributions in log-odds (pred_contrib, base column dropped)."""
        contributions = np.asarray(self._booster.predict(matrix, pred_contrib=True, num_threads=self._threads))
        return contributions[:, :-1]

    def __del__(self):
        if getattr(self, "_fast", None):
            self._lib.LGBM_FastConfigFree(self._fast)

    def _check(self, code: int) -> None:
        if code != 0:
            raise lightgbm.basic.LightGBMError(self._lib.LGBM_GetLastError().decode("utf-8"))
