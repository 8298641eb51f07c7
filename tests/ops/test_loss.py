"""softmax, log_softmax, softmax_cross_entropy, mse, mae: values, gradients, stability, errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

F = gk.F


def np_log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@st.composite
def logits_and_axis(draw):
    x = draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return x, axis


# ----- softmax and log_softmax ------------------------------------------------------------------


@settings(max_examples=40)
@given(logits_and_axis())
def test_softmax(case):
    x, axis = case
    out = F.softmax(x, axis=axis)
    np.testing.assert_allclose(out.data, np.exp(np_log_softmax(x.data, axis)), rtol=1e-12)
    np.testing.assert_allclose(out.data.sum(axis=axis), 1.0)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), [x])


@settings(max_examples=40)
@given(logits_and_axis())
def test_log_softmax(case):
    x, axis = case
    out = F.log_softmax(x, axis=axis)
    np.testing.assert_allclose(out.data, np_log_softmax(x.data, axis), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.data, np.log(F.softmax(x, axis=axis).data), atol=1e-12)
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), [x])


def test_softmax_default_axis_is_last():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(F.softmax(x).data, np.exp(x) / np.exp(x).sum(1, keepdims=True))
    np.testing.assert_allclose(F.softmax(x, axis=0).data, np.exp(x) / np.exp(x).sum(0))


def test_softmax_and_log_softmax_are_stable_for_huge_logits():
    x = gk.Tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = F.softmax(x)
        lp = F.log_softmax(x)
        (p.sum() + lp.sum()).backward()
    np.testing.assert_allclose(p.data, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(lp.data, [[0.0, -1e4, -2e4], [-np.log(3)] * 3])
    assert np.isfinite(x.grad.data).all()


def test_softmax_of_a_dim_of_length_one():
    x = gk.Tensor(np.ones((3, 1)), requires_grad=True)
    np.testing.assert_array_equal(F.softmax(x).data, np.ones((3, 1)))
    np.testing.assert_array_equal(F.log_softmax(x).data, np.zeros((3, 1)))


# ----- softmax_cross_entropy ---------------------------------------------------------------------


@st.composite
def classification(draw):
    batch = draw(st.integers(1, 5))
    classes = draw(st.integers(1, 5))
    logits = draw(gst.tensors(shape=(batch, classes), elements=gst.values(-5, 5)))
    labels = np.asarray(draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch)))
    return logits, labels


@settings(max_examples=40)
@given(classification())
def test_softmax_cross_entropy_with_indices_and_one_hot(case):
    logits, labels = case
    batch, classes = logits.shape
    expected = -np_log_softmax(logits.data)[np.arange(batch), labels].mean()
    onehot = np.eye(classes)[labels]
    for target in (labels, onehot):
        loss = F.softmax_cross_entropy(logits, target)
        assert loss.shape == ()
        np.testing.assert_allclose(loss.item(), expected, rtol=1e-12, atol=1e-15)
        assert gradcheck(lambda z, t=target: F.softmax_cross_entropy(z, t), [logits])
        (g,) = gk.grad(F.softmax_cross_entropy(logits, target), logits)
        p = np.exp(np_log_softmax(logits.data))
        np.testing.assert_allclose(g.data, (p - onehot) / batch, atol=1e-15)


@settings(max_examples=25)
@given(st.data())
def test_softmax_cross_entropy_with_a_distribution_target(data):
    batch, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    logits = data.draw(gst.tensors(shape=(batch, classes)))
    raw = data.draw(gst.tensors(shape=(batch, classes), elements=gst.positive()))
    target = gk.Tensor(raw.data / raw.data.sum(axis=1, keepdims=True), requires_grad=True)
    loss = F.softmax_cross_entropy(logits, target)
    expected = -(target.data * np_log_softmax(logits.data)).sum() / batch
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    # Differentiable in both the logits and the target distribution.
    assert gradcheck(F.softmax_cross_entropy, [logits, target])


def test_softmax_cross_entropy_label_forms():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    expected = -np_log_softmax(logits)[[0, 1], [0, 1]].mean()
    for target in (
        [0, 1],
        np.array([0, 1]),
        np.array([0.0, 1.0]),
        gk.Tensor([0.0, 1.0]),
        np.array([0, 1], dtype=np.int32),
        [[1, 0, 0], [0, 1, 0]],
        gk.Tensor([[1.0, 0, 0], [0, 1.0, 0]]),
    ):
        loss = F.softmax_cross_entropy(gk.Tensor(logits, requires_grad=True), target)
        np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    # A list of logits works too, and one example of shape (C,) with a scalar label.
    np.testing.assert_allclose(F.softmax_cross_entropy(logits.tolist(), [0, 1]).item(), expected)
    single = F.softmax_cross_entropy(gk.Tensor(logits[1]), 1)
    np.testing.assert_allclose(single.item(), -np_log_softmax(logits[1])[1])


def test_softmax_cross_entropy_of_one_example():
    z = np.array([1.0, 2.0, 0.5])
    logits = gk.Tensor(z, requires_grad=True)
    logp = np_log_softmax(z)
    # A class index, a one-hot row and a soft distribution, for logits of shape (C,).
    np.testing.assert_allclose(F.softmax_cross_entropy(logits, 1).item(), -logp[1])
    np.testing.assert_allclose(F.softmax_cross_entropy(logits, [0, 1, 0]).item(), -logp[1])
    soft = [0.2, 0.3, 0.5]
    np.testing.assert_allclose(
        F.softmax_cross_entropy(logits, soft).item(), -(np.array(soft) * logp).sum()
    )
    target = gk.Tensor(soft, requires_grad=True)
    assert gradcheck(F.softmax_cross_entropy, [logits, target])
    F.softmax_cross_entropy(logits, target).backward()
    np.testing.assert_allclose(target.grad.data, -logp)
    np.testing.assert_allclose(logits.grad.data, np.exp(logp) - soft)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = gk.Tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        right = F.softmax_cross_entropy(logits, [0, 1])
        wrong = F.softmax_cross_entropy(logits, [2, 0])
        (right + wrong).backward()
    assert right.item() == pytest.approx(0.0, abs=1e-12)
    assert wrong.item() == pytest.approx((2e4 + 2e4) / 2)
    assert np.isfinite(logits.grad.data).all()
    # (softmax - one-hot) / B summed over both losses; softmax is exactly one-hot here.
    np.testing.assert_allclose(logits.grad.data, [[0.5, 0.0, -0.5], [-0.5, 0.5, 0.0]])


@pytest.mark.parametrize(
    "target",
    [
        [0, 3],  # class 3 of 3
        [-1, 0],  # negative
        [0, 1, 2],  # three labels for two rows
        [0],  # one label for two rows
        np.zeros((2, 4)),  # one-hot of the wrong width
        np.zeros((3, 3)),  # one-hot of the wrong batch
        np.zeros((2, 3, 1)),
        [0.5, 1.0],  # not class indices
    ],
)
def test_softmax_cross_entropy_rejects_bad_targets(target):
    logits = gk.Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="softmax_cross_entropy"):
        F.softmax_cross_entropy(logits, target)


def test_softmax_cross_entropy_rejects_bad_logits():
    with pytest.raises(ValueError, match="softmax_cross_entropy"):
        F.softmax_cross_entropy(np.zeros((2, 3, 4)), [0, 1])


# ----- mse and mae -------------------------------------------------------------------------------


@settings(max_examples=40)
@given(st.data())
def test_mse(data):
    shape = data.draw(gst.shapes())
    y = data.draw(gst.tensors(shape=shape))
    t = data.draw(gst.tensors(shape=shape))
    loss = F.mse(y, t)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), np.mean((y.data - t.data) ** 2), rtol=1e-12)
    assert gradcheck(F.mse, [y, t])
    (gy,) = gk.grad(F.mse(y, t), y)
    np.testing.assert_allclose(gy.data, 2 * (y.data - t.data) / y.size, atol=1e-15)


@settings(max_examples=40)
@given(st.data())
def test_mae(data):
    shape = data.draw(gst.shapes())
    t = data.draw(gst.tensors(shape=shape))
    diff = data.draw(gst.tensors(shape=shape, elements=gst.elements_for("mae")))
    y = gk.Tensor(t.data + diff.data, requires_grad=True)
    loss = F.mae(y, t)
    np.testing.assert_allclose(loss.item(), np.mean(np.abs(y.data - t.data)), rtol=1e-12)
    assert gradcheck(F.mae, [y, t])
    (gy,) = gk.grad(F.mae(y, t), y)
    np.testing.assert_allclose(gy.data, np.sign(y.data - t.data) / y.size)


def test_mse_and_mae_are_means_over_all_elements():
    y = gk.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    t = np.array([[0.0, 0.0], [0.0, 8.0]])
    assert F.mse(y, t).item() == (1 + 4 + 9 + 16) / 4
    assert F.mae(y, t).item() == (1 + 2 + 3 + 4) / 4
    F.mae(y, t).backward()
    np.testing.assert_array_equal(y.grad.data, [[0.25, 0.25], [0.25, -0.25]])
    # mae'(0) = 0, as abs'(0) = 0
    z = gk.Tensor([1.0, 2.0], requires_grad=True)
    F.mae(z, [1.0, 0.0]).backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.5])


@pytest.mark.parametrize("loss", [F.mse, F.mae])
def test_regression_losses_reject_mismatched_shapes(loss):
    with pytest.raises(ValueError, match=loss.__name__):
        loss(gk.Tensor(np.ones((2, 3))), np.ones((3, 2)))
