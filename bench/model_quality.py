"""Model quality on the bundled IBM data: our `train` defaults against three reference models.

All models see the same 5 stratified folds (scikit-learn's StratifiedKFold, shuffled, seed 0).
Ours runs the real training job on the four training folds of each split (its own inner
cross-validation picks the number of trees and the decision threshold), then scores the
held-out fold: nothing it reports has seen the rows it is scored on.

    .venv/bin/python -m bench.model_quality        (after ./scripts/test has made .venv)
"""

import contextlib
import io
import tempfile
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from attrition.core.platform import mediatypes
from attrition.core.predict import model
from attrition.core.table import features
from attrition.core.wire import codecs
from attrition.train import job as training

ROOT = Path(__file__).resolve().parents[1]

DATA = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"
DROPPED = ["EmployeeCount", "EmployeeNumber", "Over18", "StandardHours"]  # constant or identifiers


def main() -> None:
    frame = pd.read_csv(DATA, encoding="utf-8-sig")
    y = (frame["Attrition"] == "Yes").to_numpy(dtype=float)
    x = frame.drop(columns=["Attrition", *DROPPED])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    rows = [
        ("logistic regression (one-hot + scaling, C=0.3)", evaluate(folds, y, logistic(x, y))),
        ("LightGBM with library defaults", evaluate(folds, y, lightgbm_model(x, y, {}))),
        ("LightGBM, 300 trees of 8 leaves, lr 0.03, bagging",
         evaluate(folds, y, lightgbm_model(x, y, {"n_estimators": 300, "num_leaves": 8, "learning_rate": 0.03,
                                                    "subsample": 0.8, "subsample_freq": 1}))),
        ("ours: `train` with default hyperparameters", evaluate(folds, y, ours())),
    ]
    print("| model | ROC AUC (mean ± sd) | PR AUC | F1 at 0.5 | best F1 (threshold) | F1 at its own threshold |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        own = f"{r['f1_own']:.3f}" if r["f1_own"] is not None else "—"
        print(f"| {name} | {r['auc']:.3f} ± {r['auc_sd']:.3f} | {r['pr_auc']:.3f} | {r['f1_05']:.3f} "
              f"| {r['best_f1']:.3f} ({r['best_threshold']:.2f}) | {own} |")
    print(f"\nours vs logistic regression, ROC AUC ratio: {rows[3][1]['auc'] / rows[0][1]['auc']:.3f}")


def evaluate(folds, y, fit_predict) -> dict:
    """Out-of-fold probabilities from fit_predict(train_idx, test_idx) -> (probabilities, threshold)."""
    oof, own = np.zeros(len(y)), np.zeros(len(y), dtype=bool)
    aucs, has_threshold = [], True
    for train, test in folds:
        p, threshold = fit_predict(train, test)
        oof[test] = p
        aucs.append(roc_auc_score(y[test], p))
        if threshold is None:
            has_threshold = False
        else:
            own[test] = p >= threshold
    precision, recall, cuts = precision_recall_curve(y, oof)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1]))
    return {
        "auc": float(np.mean(aucs)), "auc_sd": float(np.std(aucs)),
        "pr_auc": average_precision_score(y, oof), "f1_05": f1_score(y, oof >= 0.5),
        "best_f1": float(f1[best]), "best_threshold": float(cuts[best]),
        "f1_own": f1_score(y, own) if has_threshold else None,
    }


def logistic(x, y):
    strings = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    numbers = [c for c in x.columns if c not in strings]

    def fit_predict(train, test):
        pipeline = make_pipeline(
            ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), strings),
                               ("num", StandardScaler(), numbers)]),
            LogisticRegression(C=0.3, max_iter=5000),
        )
        pipeline.fit(x.iloc[train], y[train])
        return pipeline.predict_proba(x.iloc[test])[:, 1], None

    return fit_predict


def lightgbm_model(x, y, params):
    categorical = x.copy()
    for column in categorical.columns:
        if not pd.api.types.is_numeric_dtype(categorical[column]):
            categorical[column] = categorical[column].astype("category")

    def fit_predict(train, test):
        classifier = lightgbm.LGBMClassifier(random_state=0, verbose=-1, **params)
        classifier.fit(categorical.iloc[train], y[train])
        return np.asarray(classifier.predict_proba(categorical.iloc[test]))[:, 1], None

    return fit_predict


def ours():
    text = DATA.read_text(encoding="utf-8-sig").splitlines()
    header, lines = text[0], text[1:]

    def fit_predict(train, test):
        with tempfile.TemporaryDirectory() as base:
            channel = Path(base, "input", "data", "train")
            channel.mkdir(parents=True)
            (channel / "train.csv").write_text("\n".join([header, *(lines[i] for i in train)]) + "\n")
            with contextlib.redirect_stdout(io.StringIO()):
                code = training.main({"SAGEMAKER_BASE_DIR": base})
            if code != 0:
                raise SystemExit(Path(base, "output", "failure").read_text())
            trained = model.load(Path(base, "model"))
        body = "\n".join([header, *(lines[i] for i in test)]).encode()
        decoded = codecs.decode(body, mediatypes.CSV, "", trained.schema)
        matrix = features.encode(trained.schema, decoded.columns, decoded.n_rows)
        return trained.predict(matrix), trained.threshold

    return fit_predict


if __name__ == "__main__":
    main()
