"""softmax, log_softmax and the losses (softmax_cross_entropy, nll_loss, binary cross-entropy
of probabilities and of logits, mse, mae, huber_loss), one_hot: values, gradients, forward
mode, second derivatives, stability, float32, errors."""

import re
import warnings

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
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


# ----- forward mode and second derivatives of the losses above ----------------------------------


@settings(max_examples=20)
@given(logits_and_axis())
def test_softmax_and_log_softmax_forward_mode_and_second_order(case):
    x, axis = case
    for fn in (F.softmax, F.log_softmax):
        assert_forward_mode(lambda t, f=fn: f(t, axis=axis), [x])
        assert_second_order(lambda t, f=fn: f(t, axis=axis), [x])


@settings(max_examples=20)
@given(classification())
def test_softmax_cross_entropy_forward_mode_and_second_order(case):
    logits, labels = case
    onehot = np.eye(logits.shape[1])[labels]
    for target in (labels, onehot):
        assert_forward_mode(lambda z, t=target: F.softmax_cross_entropy(z, t), [logits])
        assert_second_order(lambda z, t=target: F.softmax_cross_entropy(z, t), [logits])
    soft = gk.Tensor(onehot * 0.6 + 0.4 / onehot.shape[1], requires_grad=True)
    assert_forward_mode(F.softmax_cross_entropy, [logits, soft])
    assert_second_order(F.softmax_cross_entropy, [logits, soft])


@pytest.mark.parametrize("loss", [F.mse, F.mae])
@settings(max_examples=20)
@given(data=st.data())
def test_mse_and_mae_forward_mode_and_second_order(loss, data):
    shape = data.draw(gst.shapes())
    t = data.draw(gst.tensors(shape=shape))
    diff = data.draw(gst.tensors(shape=shape, elements=gst.elements_for("mae")))
    y = gk.Tensor(t.data + diff.data, requires_grad=True)
    assert_forward_mode(loss, [y, t])
    assert_second_order(loss, [y, t])


# ----- nll_loss ----------------------------------------------------------------------------------


@settings(max_examples=25)
@given(classification())
def test_nll_loss(case):
    logits, labels = case
    batch = len(labels)
    log_probs = gk.Tensor(np_log_softmax(logits.data), requires_grad=True)
    loss = F.nll_loss(log_probs, labels)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), -log_probs.data[np.arange(batch), labels].mean(),
                               rtol=1e-14)
    assert gradcheck(lambda lp: F.nll_loss(lp, labels), [log_probs])
    assert_forward_mode(lambda lp: F.nll_loss(lp, labels), [log_probs])
    assert_second_order(lambda lp: F.nll_loss(lp * lp, labels), [log_probs])
    # nll_loss of log_softmax is softmax_cross_entropy, gradients included.
    composed = F.nll_loss(F.log_softmax(logits), labels)
    np.testing.assert_allclose(composed.item(), F.softmax_cross_entropy(logits, labels).item(),
                               rtol=1e-14)
    (g1,) = gk.grad(composed, logits)
    (g2,) = gk.grad(F.softmax_cross_entropy(logits, labels), logits)
    np.testing.assert_allclose(g1.data, g2.data, atol=1e-15)


def test_nll_loss_gradient_and_one_example():
    log_probs = gk.Tensor(np.log([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]), requires_grad=True)
    (g,) = gk.grad(F.nll_loss(log_probs, [1, 0, 0]), log_probs)
    np.testing.assert_array_equal(g.data, [[0, -1 / 3], [-1 / 3, 0], [-1 / 3, 0]])
    np.testing.assert_allclose(F.nll_loss(np.log([0.25, 0.75]), 1).item(), -np.log(0.75))
    assert F.nll_loss(gk.Tensor(np.zeros((2, 3), np.float32)), [0, 2]).dtype == np.float32


@pytest.mark.parametrize(
    ("target", "words"),
    [([0, 3], r"labels must lie in \[0, 3\)"), ([-1, 0], "labels must lie"),
     ([0, 1, 2], "3 labels for a batch of 2"), ([0.5, 1.0], "whole numbers"),
     (np.zeros((2, 3)), "class indices of shape")],
)
def test_nll_loss_rejects_bad_targets(target, words):
    with pytest.raises(ValueError, match="nll_loss") as info:
        F.nll_loss(gk.Tensor(np.zeros((2, 3))), target)
    assert re.search(words, str(info.value))


def test_nll_loss_rejects_bad_log_probs():
    with pytest.raises(ValueError, match=r"nll_loss: log_probs must be \(B, C\)"):
        F.nll_loss(np.zeros((2, 3, 4)), [0, 1])


def test_cross_entropy_is_softmax_cross_entropy():
    assert F.cross_entropy is F.softmax_cross_entropy


# ----- binary cross-entropy ----------------------------------------------------------------------


def np_bce(p, t):
    return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100)).mean()


@settings(max_examples=25)
@given(data=st.data())
def test_binary_cross_entropy(data):
    shape = data.draw(gst.shapes())
    p = data.draw(gst.tensors(shape=shape, elements=gst.elements_for("binary_cross_entropy")))
    t = data.draw(gst.tensors(shape=shape, elements=gst.values(0.0, 1.0)))
    loss = F.binary_cross_entropy(p, t)
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), np_bce(p.data, t.data), rtol=1e-13)
    assert gradcheck(F.binary_cross_entropy, [p, t])
    assert_forward_mode(F.binary_cross_entropy, [p, t])
    assert_second_order(F.binary_cross_entropy, [p, t])
    (gp,) = gk.grad(F.binary_cross_entropy(p, t.data), p)
    np.testing.assert_allclose(gp.data, (p.data - t.data) / (p.data * (1 - p.data)) / p.size,
                               rtol=1e-12)


def test_binary_cross_entropy_at_certain_predictions_is_finite():
    p = gk.Tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(p, t)
        (g,) = gk.grad(loss, p)
    # Each log is clamped at -100, as PyTorch: two right (0), two wrong (100 each).
    assert loss.item() == 50.0
    assert np.isfinite(g.data).all()


@settings(max_examples=25)
@given(data=st.data())
def test_binary_cross_entropy_with_logits(data):
    shape = data.draw(gst.shapes())
    z = data.draw(gst.tensors(shape=shape))
    t = data.draw(gst.tensors(shape=shape, elements=gst.values(0.0, 1.0)))
    loss = F.binary_cross_entropy_with_logits(z, t)
    p = 1 / (1 + np.exp(-z.data))
    np.testing.assert_allclose(loss.item(), np_bce(p, t.data), rtol=1e-12)
    assert gradcheck(F.binary_cross_entropy_with_logits, [z, t])
    assert_forward_mode(F.binary_cross_entropy_with_logits, [z, t])
    assert_second_order(F.binary_cross_entropy_with_logits, [z, t])
    (gz,) = gk.grad(F.binary_cross_entropy_with_logits(z, t.data), z)
    np.testing.assert_allclose(gz.data, (p - t.data) / z.size, rtol=1e-12, atol=1e-16)


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits():
    z = gk.Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(z, t)
        (g,) = gk.grad(loss, z)
    assert loss.item() == 500.0  # two right (0), two wrong by 1000 each, over 4
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.25, -0.25])


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                                  F.huber_loss])
def test_elementwise_losses_reject_mismatched_shapes(loss):
    with pytest.raises(ValueError, match=f"{loss.__name__}: prediction shape"):
        loss(gk.Tensor(np.full((2, 3), 0.5)), np.ones((3, 2)))


def test_binary_cross_entropy_rejects_what_is_not_a_probability():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: p must hold probabilities"):
        F.binary_cross_entropy([0.5, 1.5], [1.0, 0.0])


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                                  F.huber_loss, F.nll_loss])
def test_new_losses_keep_float32(loss):
    y = gk.Tensor(np.array([[0.25, 0.75]], np.float32), requires_grad=True)
    target = [1] if loss is F.nll_loss else np.array([[1.0, 0.0]])  # a float64 target
    out = loss(y, target)
    assert out.dtype == np.float32
    (g,) = gk.grad(out, y)
    assert g.dtype == np.float32


# ----- huber_loss --------------------------------------------------------------------------------


def np_huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta)).mean()


@settings(max_examples=25)
@given(data=st.data(), delta=st.sampled_from([0.5, 1.0, 2.0]))
def test_huber_loss(data, delta):
    shape = data.draw(gst.shapes())
    t = data.draw(gst.tensors(shape=shape))
    diff = data.draw(gst.tensors(shape=shape, elements=gst.away_from(-delta, delta)))
    y = gk.Tensor(t.data + diff.data, requires_grad=True)

    def huber(a, b):
        return F.huber_loss(a, b, delta=delta)

    np.testing.assert_allclose(huber(y, t).item(), np_huber(y.data - t.data, delta), rtol=1e-12)
    assert gradcheck(huber, [y, t])
    assert_forward_mode(huber, [y, t])
    assert_second_order(huber, [y, t])


def test_huber_loss_is_squared_inside_and_absolute_outside():
    y = gk.Tensor([0.5, -0.5, 3.0, -3.0, 1.0], requires_grad=True)
    loss = F.huber_loss(y, np.zeros(5))
    assert loss.item() == pytest.approx((0.125 + 0.125 + 2.5 + 2.5 + 0.5) / 5)
    (g,) = gk.grad(loss, y)
    np.testing.assert_allclose(g.data, np.array([0.5, -0.5, 1.0, -1.0, 1.0]) / 5)
    (g,) = gk.grad(F.huber_loss(y, np.zeros(5), delta=2.0), y)
    np.testing.assert_allclose(g.data, np.array([0.5, -0.5, 2.0, -2.0, 1.0]) / 5)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(y, np.zeros(5), delta=0.0)


# ----- one_hot -----------------------------------------------------------------------------------


def test_one_hot_is_gk_data_one_hot_as_a_tensor():
    out = F.one_hot([2, 0, 1], 3)
    assert isinstance(out, gk.Tensor) and out.dtype == np.float64
    np.testing.assert_array_equal(out.data, gk.data.one_hot([2, 0, 1], 3))
    np.testing.assert_array_equal(F.one_hot(gk.Tensor([1.0]), 2).data, [[0.0, 1.0]])
    assert F.one_hot(np.zeros((2, 3), int), 4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="out of range for num_classes=3"):
        F.one_hot([3], 3)
