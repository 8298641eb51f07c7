"""conv2d (graphkit.ops.conv): values against a loop over output pixels, gradients against
central differences (first and second order, the latter through pooling and dropout
too), the float32 and no-bias paths, the error messages, and memory layout: the output
is a batch-last view, and values and gradients do not depend on how the input is stored."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import (
    batch_last,
    conv_by_loops,
    conv_geometry,
    is_batch_last,
    random_array,
    strided_copy,
)

import graphkit as gk
from graphkit import functional as F
from graphkit.graph import RELEASED
from graphkit.testing import gradcheck


@given(conv_geometry(), st.integers(1, 2), st.integers(0, 2**16))
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
@given(conv_geometry(), st.integers(1, 2), st.integers(0, 2**16))
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
