import numpy as np
import pytest

from attrition.core.platform.errors import UserError
from attrition.train import fitting


def test_stratified_folds_partition_rows_and_balance_classes():
    y = np.array([1.0] * 20 + [0.0] * 80)
    folds = fitting.stratified_folds(y, 5, seed=0)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(100))
    for train, test in folds:
        assert y[test].sum() == 4 and len(test) == 20
        assert not set(train) & set(test)
    assert [t.tolist() for _, t in folds] == [t.tolist() for _, t in fitting.stratified_folds(y, 5, 0)]


def test_too_few_rows_of_a_class_for_the_folds():
    with pytest.raises(UserError, match="needs at least 5 rows of each class.*3 positive"):
        fitting.stratified_folds(np.array([1.0] * 3 + [0.0] * 50), 5, 0)
