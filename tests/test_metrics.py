import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphkit.metrics import accuracy, confusion_matrix, mae, rmse

SCORES = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.3, 0.4, 0.3]])
LABELS = np.array([1, 0, 1, 2])


class ArrayWrapper:
    """Stands in for a graphkit Tensor: something NumPy reads through __array__."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)


def test_accuracy_with_indices_and_one_hot():
    assert accuracy(SCORES, LABELS) == 0.5
    assert accuracy(SCORES, np.eye(3)[LABELS]) == 0.5
    assert type(accuracy(SCORES, LABELS)) is float


def test_accuracy_accepts_objects_with_array_interface():
    assert accuracy(ArrayWrapper(SCORES), ArrayWrapper(LABELS)) == 0.5


@pytest.mark.parametrize(
    "scores, labels",
    [(SCORES, LABELS[:3]), (SCORES, np.eye(4)[LABELS]), (SCORES[:, 0], LABELS)],
)
def test_accuracy_shape_mismatch_names_both_shapes(scores, labels):
    with pytest.raises(ValueError, match=r"\(") as raised:
        accuracy(scores, labels)
    assert str(np.shape(scores)) in str(raised.value)
    if np.ndim(scores) == 2:
        assert str(np.shape(labels)) in str(raised.value)


def test_accuracy_of_an_empty_batch_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_mae_and_rmse_known_values():
    y, t = [1.0, 2.0, 3.0], [1.0, 1.0, 5.0]
    assert mae(y, t) == 1.0
    assert rmse(y, t) == pytest.approx(math.sqrt(5 / 3))
    assert type(mae(y, t)) is float and type(rmse(y, t)) is float
    assert rmse(ArrayWrapper(y), ArrayWrapper(t)) == pytest.approx(math.sqrt(5 / 3))


@pytest.mark.parametrize("metric", [mae, rmse])
def test_regression_shape_mismatch_names_both_shapes(metric):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        metric(np.zeros((2, 3)), np.zeros((3, 2)))


@given(
    pairs=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=2, max_side=6).map(lambda shape: (2, *shape)),
        elements=st.floats(-1e6, 1e6),
    )
)
def test_rmse_is_never_below_mae(pairs):
    y, t = pairs
    assert rmse(y, t) >= mae(y, t) - 1e-9 * (1 + mae(y, t))


def test_rmse_equals_mae_when_all_errors_have_one_size():
    y = np.array([1.0, -2.0, 3.0, 0.0])
    t = y + np.array([0.5, -0.5, 0.5, -0.5])
    assert rmse(y, t) == pytest.approx(mae(y, t)) == pytest.approx(0.5)


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix([1, 0, 2, 1], [1, 0, 1, 2])
    expected = [[1, 0, 0], [0, 1, 1], [0, 1, 0]]
    np.testing.assert_array_equal(matrix, expected)
    assert np.issubdtype(matrix.dtype, np.integer)


def test_confusion_matrix_from_scores_and_one_hot():
    expected = confusion_matrix(SCORES.argmax(axis=1), LABELS, num_classes=3)
    np.testing.assert_array_equal(confusion_matrix(SCORES, LABELS), expected)
    np.testing.assert_array_equal(confusion_matrix(SCORES, np.eye(3)[LABELS]), expected)
    assert confusion_matrix([0, 1], [1, 0], num_classes=4).shape == (4, 4)


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 3\)"):
        confusion_matrix(SCORES, [0, 1, 2])
    with pytest.raises(ValueError, match="label 5"):
        confusion_matrix([0, 1], [0, 5], num_classes=3)


@given(
    predictions=st.lists(st.integers(0, 4), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_confusion_matrix_agrees_with_accuracy(predictions, seed):
    labels = np.random.default_rng(seed).integers(0, 5, size=len(predictions))
    matrix = confusion_matrix(predictions, labels, num_classes=5)
    assert matrix.sum() == len(predictions)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(labels, minlength=5))
    scores = np.eye(5)[predictions]
    assert np.trace(matrix) / len(predictions) == pytest.approx(accuracy(scores, labels))
