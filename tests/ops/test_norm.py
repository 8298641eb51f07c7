"""batch_norm and layer_norm: values and running statistics against NumPy written from
PyTorch's formulas, first and second derivatives, forward mode, dtypes, errors."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.ops.norm import BatchNorm, LayerNorm
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

F = gk.F
RULES = settings(max_examples=15, deadline=None)


def channel_axes(ndim):
    return (0, *range(2, ndim))


def np_batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """PyTorch's batch_norm in NumPy: (y, new running_mean, new running_var)."""
    axes = channel_axes(x.ndim)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        count = x.size // x.shape[1]
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * count / (count - 1)
    else:
        mean, var = running_mean, running_var
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * weight.reshape(shape) + bias.reshape(shape), running_mean, running_var


def np_layer_norm(x, normalized_ndim, weight, bias, eps):
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


@st.composite
def batch_norm_case(draw):
    """(x, weight, bias, running_mean, running_var), statistics as ndarrays."""
    shape = draw(gst.batch_norm_shapes())
    x = draw(gst.standardizable_tensors(shape, channel_axes(len(shape))))
    channels = (shape[1],)
    weight = draw(gst.tensors(shape=channels))
    bias = draw(gst.tensors(shape=channels))
    running_mean = draw(gst.tensors(shape=channels)).data
    running_var = draw(gst.tensors(shape=channels, elements=gst.positive(0.25, 4.0))).data
    return x, weight, bias, running_mean, running_var


@st.composite
def layer_norm_case(draw):
    shape, normalized_shape = draw(gst.layer_norm_shapes())
    axes = tuple(range(-len(normalized_shape), 0))
    x = draw(gst.standardizable_tensors(shape, axes))
    weight = draw(gst.tensors(shape=normalized_shape))
    bias = draw(gst.tensors(shape=normalized_shape))
    return x, normalized_shape, weight, bias


# ----- batch_norm ---------------------------------------------------------------------


@RULES
@given(batch_norm_case(), st.booleans(), st.floats(0.0, 1.0))
def test_batch_norm_matches_pytorch_formulas(case, training, momentum):
    x, weight, bias, running_mean, running_var = case
    expected = np_batch_norm(x.data, running_mean, running_var, weight.data, bias.data,
                             training, momentum, 1e-5)
    y = F.batch_norm(x, running_mean, running_var, weight, bias, training=training,
                     momentum=momentum)
    np.testing.assert_allclose(y.data, expected[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(running_mean, expected[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(running_var, expected[2], rtol=1e-12, atol=1e-14)


@RULES
@given(batch_norm_case(), st.booleans())
def test_batch_norm_derivatives(case, training):
    x, weight, bias, running_mean, running_var = case

    def fn(x, weight, bias):
        # Copies: every call in training would move the running statistics.
        return F.batch_norm(x, running_mean.copy(), running_var.copy(), weight, bias,
                            training=training)

    assert gradcheck(fn, [x, weight, bias])
    assert_forward_mode(fn, [x, weight, bias])
    assert_second_order(fn, [x, weight, bias])


@RULES
@given(batch_norm_case())
def test_batch_norm_without_weight_and_bias(case):
    x, _, _, running_mean, running_var = case
    ones, zeros = np.ones(x.shape[1]), np.zeros(x.shape[1])
    expected = np_batch_norm(x.data, running_mean, running_var, ones, zeros, True, 0.1, 1e-5)
    np.testing.assert_allclose(F.batch_norm(x, None, None).data, expected[0], atol=1e-10)

    def fn(x):
        return F.batch_norm(x, None, None)

    assert gradcheck(fn, [x])
    assert_forward_mode(fn, [x])
    assert_second_order(fn, [x])


def test_batch_norm_is_one_op():
    x = gk.Tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)), requires_grad=True)
    weight, bias = gk.Tensor(np.ones(3), requires_grad=True), gk.Tensor(np.zeros(3))
    y = F.batch_norm(x, np.zeros(3), np.ones(3), weight, bias)
    assert isinstance(y.grad_fn, BatchNorm)
    assert y.grad_fn.inputs[0] is x and y.grad_fn.inputs[1] is weight


def test_batch_norm_training_output_has_zero_mean_and_unit_variance_per_channel():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3, 5)) * [[[1.0], [4.0], [0.5]]] + 7.0
    y = F.batch_norm(x, np.zeros(3), np.ones(3)).data
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1.0, rtol=1e-3)


def test_batch_norm_running_statistics_move_in_training_only():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 2)) + np.array([3.0, -1.0])
    running_mean, running_var = np.zeros(2), np.ones(2)
    with gk.no_grad():  # grad mode does not matter: training does
        F.batch_norm(x, running_mean, running_var, momentum=0.5)
    np.testing.assert_allclose(running_mean, 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(running_var, 0.5 + 0.5 * x.var(axis=0, ddof=1))
    before = running_mean.copy(), running_var.copy()
    y = F.batch_norm(x, running_mean, running_var, training=False)
    np.testing.assert_array_equal(running_mean, before[0])
    np.testing.assert_array_equal(running_var, before[1])
    np.testing.assert_allclose(y.data, (x - before[0]) / np.sqrt(before[1] + 1e-5))


def test_batch_norm_keeps_float32():
    rng = np.random.default_rng(3)
    x = gk.Tensor(rng.standard_normal((4, 3, 2, 2)).astype(np.float32), requires_grad=True)
    weight = gk.Tensor(np.ones(3, np.float32), requires_grad=True)
    bias = gk.Tensor(np.zeros(3, np.float32), requires_grad=True)
    # float64 statistics, as a user may keep them, do not promote the float32 output
    running_mean, running_var = np.zeros(3), np.ones(3)
    for training in (True, False):
        y = F.batch_norm(x, running_mean, running_var, weight, bias, training=training)
        assert y.dtype == np.float32
        (y * y).sum().backward()
        assert x.grad.dtype == weight.grad.dtype == bias.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("x_shape", "stat_shape", "words"),
    [((4, 3, 2, 2), (4,), "3 channels on axis 1, but running_mean has shape (4,)"),
     ((4, 3), (3, 1), "running_mean has shape (3, 1)")],
)
def test_batch_norm_channel_mismatch_is_named(x_shape, stat_shape, words):
    with pytest.raises(ValueError, match=r"batch_norm: .*" + words.replace("(", r"\(").replace(
            ")", r"\)")):
        F.batch_norm(np.zeros(x_shape), np.zeros(stat_shape), np.ones(stat_shape))


def test_batch_norm_bad_arguments():
    x = np.random.default_rng(4).standard_normal((4, 3))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) must be \(3,\)"):
        F.batch_norm(x, np.zeros(3), np.ones(3), weight=np.ones(2))
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(x[:1], np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="running_mean is needed outside training"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(TypeError, match="running_var must be a float ndarray"):
        F.batch_norm(x, np.zeros(3), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="needs a channel axis"):
        F.batch_norm(np.zeros(3), None, None)
    # one value per channel is fine outside training, as in PyTorch
    assert F.batch_norm(x[:1], np.zeros(3), np.ones(3), training=False).shape == (1, 3)


# ----- layer_norm ---------------------------------------------------------------------


@RULES
@given(layer_norm_case())
def test_layer_norm_matches_numpy(case):
    x, normalized_shape, weight, bias = case
    y = F.layer_norm(x, normalized_shape, weight, bias)
    expected = np_layer_norm(x.data, len(normalized_shape), weight.data, bias.data, 1e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)


@RULES
@given(layer_norm_case(), st.booleans())
def test_layer_norm_derivatives(case, affine):
    x, normalized_shape, weight, bias = case
    inputs = [x, weight, bias] if affine else [x]

    def fn(x, weight=None, bias=None):
        return F.layer_norm(x, normalized_shape, weight, bias)

    assert gradcheck(fn, inputs)
    assert_forward_mode(fn, inputs)
    assert_second_order(fn, inputs)


def test_layer_norm_is_one_op_and_takes_an_int():
    x = gk.Tensor(np.random.default_rng(5).standard_normal((2, 3, 4)), requires_grad=True)
    y = F.layer_norm(x, 4)
    assert isinstance(y.grad_fn, LayerNorm)
    np.testing.assert_allclose(y.data.mean(axis=-1), 0.0, atol=1e-12)


def test_layer_norm_keeps_float32():
    x = gk.Tensor(np.random.default_rng(6).standard_normal((4, 8)).astype(np.float32),
                  requires_grad=True)
    weight = gk.Tensor(np.ones(8, np.float32), requires_grad=True)
    y = F.layer_norm(x, (8,), weight)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == weight.grad.dtype == np.float32


def test_layer_norm_bad_shapes():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(3,\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(1, 2, 3, 4\)"):
        F.layer_norm(x, (1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) must be normalized_shape"):
        F.layer_norm(x, (3, 4), weight=np.ones(3))
