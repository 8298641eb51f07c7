"""conv2d and conv_transpose2d (graphkit.ops.conv): values against loops over pixels,
conv_transpose2d as the adjoint of conv2d, gradients against central differences (first
and second order, the latter through pooling and dropout too), forward mode against
differences and reverse mode, forward over reverse and forward over forward, the float32
and no-bias paths, the error messages, and memory layout: the outputs are batch-last
views, and values and gradients do not depend on how the input is stored."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import (
    assert_jvp_ignores_layouts,
    batch_last,
    conv_by_loops,
    conv_transpose_by_loops,
    is_batch_last,
    random_array,
    strided_copy,
)

import graphkit as gk
from graphkit import functional as F
from graphkit.func import hessian, jacfwd, jacrev
from graphkit.graph import RELEASED
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


@given(gst.window_geometries(), st.integers(1, 2), st.integers(0, 2**16))
def test_conv2d_matches_loops_and_gradcheck(geometry, out_channels, seed):
    shape, kernel, stride, pad = geometry
    x = gk.Tensor(random_array(shape, seed), requires_grad=True)
    W = gk.Tensor(random_array((out_channels, shape[1], *kernel), seed + 1), requires_grad=True)
    b = gk.Tensor(random_array(out_channels, seed + 2), requires_grad=True)
    y = F.conv2d(x, W, b, stride, pad)
    np.testing.assert_allclose(
        y.data, conv_by_loops(x.data, W.data, b.data, stride, pad), rtol=1e-12, atol=1e-12
    )
    assert gradcheck(lambda x, W, b: F.conv2d(x, W, b, stride=stride, pad=pad), [x, W, b])


def test_conv2d_without_bias_and_on_arrays():
    x, W = random_array((2, 3, 6, 5)), random_array((4, 3, 3, 2))
    y = gk.ops.conv2d(x, W)  # arrays in, array out: nothing recorded
    assert isinstance(y, np.ndarray)
    np.testing.assert_allclose(y, conv_by_loops(x, W, 0.0, (1, 1), (0, 0)), atol=1e-12)
    W_t = gk.Tensor(W, requires_grad=True)
    assert gradcheck(lambda W: F.conv2d(x.tolist(), W, stride=(2, 1), pad=(1, 0)), [W_t])


def test_second_derivatives_through_conv_pool_and_dropout():
    x = gk.Tensor(random_array((2, 2, 5, 4)), requires_grad=True)
    W = gk.Tensor(random_array((3, 2, 3, 2), 1) * 0.5, requires_grad=True)
    b = gk.Tensor(random_array(3, 2), requires_grad=True)

    def gradient_norms(x, W, b):
        with gk.enable_grad():  # gradcheck evaluates under no_grad
            y = F.max_pool2d(F.conv2d(x, W, b, stride=(2, 1), pad=1), (2, 1), stride=1)
            mask = np.random.default_rng(0)  # the same dropout mask at every evaluation
            loss = F.dropout(y, 0.3, generator=mask).tanh().sum()
            gx, gW, gb = gk.grad(loss, [x, W, b], create_graph=True)
            return (gx * gx).sum() + (gW * gW).sum() + (gb * gb).sum()

    assert gradcheck(gradient_norms, [x, W, b])


def test_conv2d_keeps_float32_and_frees_its_columns():
    x = gk.Tensor(random_array((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    W = gk.Tensor(random_array((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = gk.Tensor(np.zeros(4, np.float32), requires_grad=True)
    y = F.conv2d(x, W, b, pad=1)
    assert y.dtype == np.float32
    op = y.grad_fn
    y.sum().backward()
    assert op.saved is RELEASED
    assert x.grad.dtype == W.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("x_shape", "W_shape", "kwargs", "words"),
    [
        ((2, 3, 8, 8), (6, 4, 3, 3), {}, ["3 channels", "expects 4", "(6, 4, 3, 3)"]),
        ((1, 1, 4, 4), (1, 1, 7, 3), {"pad": 1}, ["kernel (7, 3)", "(6, 6)", "(1, 1, 4, 4)"]),
        ((3, 8, 8), (6, 3, 3, 3), {}, ["(3, 8, 8)", "(B, C, H, W)"]),
    ],
)
def test_conv2d_rejects_bad_shapes(x_shape, W_shape, kwargs, words):
    with pytest.raises(ValueError) as info:
        F.conv2d(np.zeros(x_shape), np.zeros(W_shape), **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("bad", [0, -1, (1, 2, 3), 1.5])
def test_bad_stride_raises(bad):
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride=bad)


# ----- memory layout --------------------------------------------------------------------
def test_conv2d_output_is_stored_batch_last():
    x = gk.Tensor(random_array((3, 2, 6, 5)), requires_grad=True)
    W = gk.Tensor(random_array((4, 2, 3, 2), 1), requires_grad=True)
    y = F.conv2d(x, W, stride=(2, 1), pad=1)
    assert y.shape == (3, 4, 3, 6)
    assert is_batch_last(y.data) and not y.data.flags.c_contiguous
    assert is_batch_last(gk.ops.conv2d(x.data, W.data))


@settings(max_examples=25)
@given(gst.window_geometries(), st.integers(1, 2), st.integers(0, 2**16))
def test_conv2d_does_not_depend_on_the_inputs_memory_layout(geometry, out_channels, seed):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    W = random_array((out_channels, shape[1], *kernel), seed + 1)
    b = random_array(out_channels, seed + 2)
    results = []
    for stored in (x, batch_last(x), strided_copy(x)):
        tensors = [gk.Tensor(a, requires_grad=True) for a in (stored, W.copy(), b.copy())]
        y = F.conv2d(*tensors, stride=stride, pad=pad)
        assert is_batch_last(y.data)
        y.backward(random_array(y.shape, seed + 3))
        results.append([y.data] + [t.grad.data for t in tensors])
    np.testing.assert_allclose(
        results[0][0], conv_by_loops(x, W, b, stride, pad), rtol=1e-12, atol=1e-12
    )
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            np.testing.assert_array_equal(got, expected)


# ----- conv2d: forward mode and second order --------------------------------------------
def conv_inputs(geometry, out_channels, seed, transposed=False):
    """x, W and b as Tensors that require grad, for conv2d or conv_transpose2d."""
    if transposed:
        x_shape, W_shape, stride, pad = geometry
    else:
        x_shape, kernel, stride, pad = geometry
        W_shape = (out_channels, x_shape[1], *kernel)
    x = gk.Tensor(random_array(x_shape, seed), requires_grad=True)
    W = gk.Tensor(random_array(W_shape, seed + 1) * 0.5, requires_grad=True)
    b = gk.Tensor(random_array(W_shape[1 if transposed else 0], seed + 2), requires_grad=True)
    return (x, W, b), stride, pad


@settings(max_examples=15)
@given(gst.window_geometries(max_side=4), st.integers(1, 2), st.integers(0, 2**16))
def test_conv2d_forward_mode_and_second_order(geometry, out_channels, seed):
    inputs, stride, pad = conv_inputs(geometry, out_channels, seed)
    assert_forward_mode(lambda x, W, b: F.conv2d(x, W, b, stride, pad), inputs)
    assert_second_order(lambda x, W, b: F.conv2d(x, W, b, stride, pad).tanh(), inputs)


@settings(max_examples=15)
@given(gst.window_geometries(), st.integers(0, 2**16))
def test_conv2d_forward_mode_does_not_depend_on_memory_layouts(geometry, seed):
    (_, W, b), stride, pad = conv_inputs(geometry, 2, seed)
    assert_jvp_ignores_layouts(lambda t: F.conv2d(t, W, b, stride, pad),
                               random_array(geometry[0], seed + 3), seed + 4)


@pytest.mark.parametrize("conv", [F.conv2d, F.conv_transpose2d])
def test_hessians_through_convolutions_agree_in_every_order_of_modes(conv):
    """Forward over reverse (gk.func.hessian), forward over forward and reverse over
    reverse give the same second derivatives, in x and in W; and forward mode over the
    weight gradient sees x's tangent (the saved im2col columns must not hide it)."""
    x, W = random_array((2, 2, 4, 3)), random_array((2, 2, 2, 2), 1)
    f = lambda x, W: conv(x, W, stride=(2, 1), pad=(0, 1)).tanh().sum()  # noqa: E731
    for argnums, at in ((0, x), (1, W)):
        def g(t, argnums=argnums):
            return f(t, W) if argnums == 0 else f(x, t)

        reverse = jacrev(jacrev(g))(at).data
        np.testing.assert_allclose(hessian(g)(at).data, reverse, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(jacfwd(jacfwd(g))(at).data, reverse, rtol=1e-10, atol=1e-12)

    def weight_gradient(x):
        return gk.func.grad(f, argnums=1)(x, W)

    np.testing.assert_allclose(jacfwd(weight_gradient)(x).data,
                               jacrev(weight_gradient)(x).data, rtol=1e-10, atol=1e-12)


# ----- conv_transpose2d -----------------------------------------------------------------
@given(gst.conv_transpose_geometries(), st.integers(0, 2**16))
def test_conv_transpose2d_matches_loops_and_gradcheck(geometry, seed):
    (x, W, b), stride, pad = conv_inputs(geometry, None, seed, transposed=True)
    y = F.conv_transpose2d(x, W, b, stride, pad)
    (_, _, H, Wd), (_, _, kh, kw) = x.shape, W.shape
    assert y.shape == (x.shape[0], W.shape[1], (H - 1) * stride[0] - 2 * pad[0] + kh,
                       (Wd - 1) * stride[1] - 2 * pad[1] + kw)
    np.testing.assert_allclose(y.data, conv_transpose_by_loops(x.data, W.data, b.data, stride,
                                                               pad), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, W, b: F.conv_transpose2d(x, W, b, stride, pad), [x, W, b])


@given(gst.conv_transpose_geometries(), st.integers(0, 2**16))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(geometry, seed):
    """<conv2d(z, W), x> == <z, conv_transpose2d(x, W)> for every z of the output's shape."""
    (x, W, _), stride, pad = conv_inputs(geometry, None, seed, transposed=True)
    y = gk.ops.conv_transpose2d(x.data, W.data, stride=stride, pad=pad)
    z = random_array(y.shape, seed + 3)
    forward = gk.ops.conv2d(z, W.data, stride=stride, pad=pad)
    assert forward.shape == x.shape
    np.testing.assert_allclose(np.sum(forward * x.data), np.sum(z * y), rtol=1e-10, atol=1e-10)


@settings(max_examples=15)
@given(gst.conv_transpose_geometries(max_side=3), st.integers(0, 2**16))
def test_conv_transpose2d_forward_mode_and_second_order(geometry, seed):
    inputs, stride, pad = conv_inputs(geometry, None, seed, transposed=True)
    assert_forward_mode(lambda x, W, b: F.conv_transpose2d(x, W, b, stride, pad), inputs)
    assert_second_order(lambda x, W, b: F.conv_transpose2d(x, W, b, stride, pad).tanh(), inputs)


@settings(max_examples=15)
@given(gst.conv_transpose_geometries(), st.integers(0, 2**16))
def test_conv_transpose2d_does_not_depend_on_the_inputs_memory_layout(geometry, seed):
    (x, W, b), stride, pad = conv_inputs(geometry, None, seed, transposed=True)
    assert_jvp_ignores_layouts(lambda t: F.conv_transpose2d(t, W, b, stride, pad), x.data, seed)
    gy = random_array(F.conv_transpose2d(x, W, b, stride, pad).shape, seed + 5)
    results = []
    for stored in (x.data, batch_last(x.data), strided_copy(x.data)):
        tensors = [gk.Tensor(a.copy() if a is not stored else a, requires_grad=True)
                   for a in (stored, W.data, b.data)]
        y = F.conv_transpose2d(*tensors, stride=stride, pad=pad)
        # Batch last: a view of col2im's (C, H, W, B) buffer, cropped where it is padded.
        assert y.data.strides[0] == y.data.itemsize
        assert is_batch_last(y.data) or pad != (0, 0)
        y.backward(gy)
        results.append([y.data] + [t.grad.data for t in tensors])
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_upsamples_by_its_stride():
    """A 2x2 kernel of ones at stride 2 copies each pixel into a 2x2 block (PyTorch's
    familiar U-Net upsampling), summed over input channels and shifted by the bias."""
    x = random_array((2, 3, 3, 4))
    y = F.conv_transpose2d(x, np.ones((3, 1, 2, 2)), np.array([0.5]), stride=2)
    expected = x.sum(axis=1, keepdims=True).repeat(2, axis=2).repeat(2, axis=3) + 0.5
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


def test_conv_transpose2d_keeps_float32_and_runs_on_arrays():
    x = gk.Tensor(random_array((2, 3, 4, 4)).astype(np.float32), requires_grad=True)
    W = gk.Tensor(random_array((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    b = gk.Tensor(np.zeros(2, np.float32), requires_grad=True)
    y = F.conv_transpose2d(x, W, b, stride=2, pad=1)
    assert y.shape == (2, 2, 7, 7) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == W.grad.dtype == b.grad.dtype == np.float32
    out = gk.ops.conv_transpose2d(x.data.astype(np.float64), W.data.astype(np.float64))
    assert isinstance(out, np.ndarray) and out.shape == (2, 2, 6, 6)


@pytest.mark.parametrize(
    ("x_shape", "W_shape", "b_shape", "kwargs", "words"),
    [
        ((2, 3, 4, 4), (4, 2, 3, 3), None, {}, ["conv_transpose2d", "3 channels", "expects 4",
                                               "(C_in, C_out, KH, KW)"]),
        ((2, 3, 4, 4), (3, 2, 3, 3), (3,), {}, ["conv_transpose2d", "b (3,)", "(2,)"]),
        ((3, 4, 4), (3, 2, 3, 3), None, {}, ["conv_transpose2d", "(3, 4, 4)", "(B, C, H, W)"]),
        ((1, 1, 1, 2), (1, 1, 1, 1), None, {"pad": 1}, ["conv_transpose2d", "pad (1, 1)"]),
    ],
)
def test_conv_transpose2d_rejects_bad_shapes(x_shape, W_shape, b_shape, kwargs, words):
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(ValueError) as info:
        F.conv_transpose2d(np.zeros(x_shape), np.zeros(W_shape), b, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("bad", [0, -1, (1, 2, 3), 1.5])
def test_conv_transpose2d_rejects_a_bad_stride_naming_itself(bad):
    with pytest.raises(ValueError, match="conv_transpose2d: stride"):
        F.conv_transpose2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride=bad)
