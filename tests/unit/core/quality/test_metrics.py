import numpy as np
import pytest
from sklearn import metrics as sk

from attrition.core.quality import metrics


@pytest.fixture(params=[0, 1, 2])
def sample(request):
    rng = np.random.default_rng(request.param)
    y = (rng.random(300) < 0.2).astype(float)
    p = np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1)
    if request.param == 2:  # heavy ties, as small trees produce
        p = np.round(p, 1)
    return y, p


def test_roc_auc_matches_scikit_learn(sample):
    y, p = sample
    assert metrics.roc_auc(y, p) == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)


def test_average_precision_matches_scikit_learn(sample):
    y, p = sample
    assert metrics.average_precision(y, p) == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)


def test_threshold_metrics_match_scikit_learn(sample):
    y, p = sample
    got = metrics.at_threshold(y, p, 0.5)
    predicted = p >= 0.5
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert got["precision"] == pytest.approx(sk.precision_score(y, predicted, zero_division=0))
    assert got["recall"] == pytest.approx(sk.recall_score(y, predicted))
    assert got["f1"] == pytest.approx(sk.f1_score(y, predicted))
    tn, fp, fn, tp = sk.confusion_matrix(y, predicted).ravel()
    assert got["confusion_matrix"] == {"tn": tn, "fp": fp, "fn": fn, "tp": tp}


def test_log_loss_matches_scikit_learn(sample):
    y, p = sample
    assert metrics.log_loss(y, p) == pytest.approx(sk.log_loss(y, p), rel=1e-9)
