"""max_pool2d and the ops its derivatives are made of (graphkit.ops.pooling): values
against a loop over output pixels, gradients against central differences, ties, padding
and overlapping windows; scatter_to_argmax and gather_at_argmax as a pair of adjoint,
differentiable ops (so derivatives of any order are right); a NaN or inf gradient kept to
the arg-max pixel of its window; and memory layout: values and gradients do not depend on
how the input or the upstream gradient is stored, and the output keeps the input's layout."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import (
    batch_last,
    conv_geometry,
    is_batch_last,
    pool_by_loops,
    random_array,
    strided_copy,
)

import graphkit as gk
from graphkit import functional as F
from graphkit.ops.pooling import MaxPool2d, gather_at_argmax, scatter_to_argmax
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

LAYOUTS = {"batch first": np.ascontiguousarray, "batch last": batch_last, "strided": strided_copy}
layouts = st.sampled_from(sorted(LAYOUTS))


def pooled_argmax(x, kernel, stride, pad):
    """The argmax array a real MaxPool2d forward on x saves, and the keyword arguments
    that scatter_to_argmax and gather_at_argmax take with it."""
    op = MaxPool2d(kernel, stride, pad)
    op.forward(x)
    geometry = {"input_shape": x.shape, "kernel_size": kernel, "stride": stride, "pad": pad}
    return op.saved, geometry


@given(
    conv_geometry(pool=True).flatmap(
        lambda g: st.tuples(st.just(g), gst.distinct_tensors(shape=g[0]))
    )
)
def test_max_pool2d_matches_loops_and_gradcheck(drawn):
    (_, kernel, stride, pad), x = drawn
    y = F.max_pool2d(x, kernel, stride, pad)
    np.testing.assert_array_equal(y.data, pool_by_loops(x.data, kernel, stride, pad))
    assert gradcheck(lambda t: F.max_pool2d(t, kernel, stride, pad), [x])


def test_max_pool2d_overlapping_windows_accumulate():
    x = gk.Tensor(np.array([[[[0.0, 1, 0], [1, 9, 1], [0, 1, 0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 2, stride=1)  # the 9 wins all four windows
    np.testing.assert_array_equal(y.data, np.full((1, 1, 2, 2), 9.0))
    y.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_pool2d_padding_never_wins():
    x = gk.Tensor(-1 - np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)  # all < 0
    y = F.max_pool2d(x, 3, stride=2, pad=1)
    np.testing.assert_array_equal(y.data[0, 0], [[-1, -2], [-5, -6]])
    y.sum().backward()
    assert x.grad.data.sum() == 4 and x.grad.data[0, 0, 0, 0] == 1


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    x = gk.Tensor(np.ones((1, 2, 4, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.data, np.broadcast_to(expected, (1, 2, 4, 4)))


def test_max_pool2d_default_stride_rectangles_and_float32():
    x = random_array((2, 3, 6, 4)).astype(np.float32)
    y = F.max_pool2d(x, (3, 2))
    assert y.shape == (2, 3, 2, 2) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data, pool_by_loops(x, (3, 2), (3, 2), (0, 0)))


def test_max_pool2d_rejects_bad_geometry():
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2, pad=2)
    with pytest.raises(ValueError, match=r"kernel \(5, 5\).*\(4, 4\)"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 5)


# ----- scatter_to_argmax and gather_at_argmax -------------------------------------------
@settings(max_examples=25)
@given(conv_geometry(pool=True), st.integers(0, 2**16), layouts, layouts, layouts)
def test_scatter_to_argmax_and_gather_at_argmax_are_adjoint(
    geometry, seed, argmax_layout, g_layout, x_layout
):
    shape, kernel, stride, pad = geometry
    x_seen_by_pooling = LAYOUTS[argmax_layout](random_array(shape, seed))
    argmax, kwargs = pooled_argmax(x_seen_by_pooling, kernel, stride, pad)
    g = LAYOUTS[g_layout](random_array(argmax.shape, seed + 1))
    x = LAYOUTS[x_layout](random_array(shape, seed + 2))
    scattered = scatter_to_argmax(g, argmax=argmax, **kwargs)
    gathered = gather_at_argmax(x, argmax=argmax, **kwargs)
    assert scattered.shape == shape and gathered.shape == argmax.shape
    np.testing.assert_allclose(np.sum(scattered * x), np.sum(g * gathered), rtol=1e-10, atol=1e-10)


@settings(max_examples=25)
@given(conv_geometry(pool=True), st.integers(0, 2**16))
def test_scatter_to_argmax_and_gather_at_argmax_gradcheck(geometry, seed):
    shape, kernel, stride, pad = geometry
    argmax, kwargs = pooled_argmax(random_array(shape, seed), kernel, stride, pad)
    x = gk.Tensor(random_array(shape, seed + 1), requires_grad=True)
    assert gradcheck(lambda t: gather_at_argmax(t, argmax=argmax, **kwargs), [x])
    g = gk.Tensor(random_array(argmax.shape, seed + 2), requires_grad=True)
    assert gradcheck(lambda t: scatter_to_argmax(t, argmax=argmax, **kwargs), [g])


def test_max_pool2d_gradient_is_differentiable_in_the_upstream_gradient():
    x = gk.Tensor(random_array((2, 2, 5, 4)), requires_grad=True)
    gy = gk.Tensor(random_array((2, 2, 6, 3), 1), requires_grad=True)

    def input_gradient(gy):
        with gk.enable_grad():  # gradcheck evaluates under no_grad
            y = F.max_pool2d(x, 2, stride=1, pad=(1, 0))
            (gx,) = gk.grad(y, [x], grad_outputs=gy, create_graph=True)
            return gx * gx

    assert gradcheck(input_gradient, [gy])


# ----- non-finite values ----------------------------------------------------------------
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_gradient_reaches_only_the_argmax_pixel(bad, layout):
    values = np.array([[1.0, 5, 2, 0], [3, 4, 8, 6], [7, 0.5, 9, 1.5], [2.5, 6.5, 3.5, 4.5]])
    x = gk.Tensor(LAYOUTS[layout](np.stack([values, -values])[:, None]), requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data[:, 0], [[[5, 8], [7, 9]], [[-1, 0], [-0.5, -1.5]]])
    gy = np.ones(y.shape)
    gy[0, 0, 0, 1] = bad  # window rows 0-1, columns 2-3 of the first image: the 8 wins
    y.backward(gy)
    expected = np.zeros((2, 1, 4, 4))
    expected[0, 0] = [[0, 1, 0, 0], [0, 0, bad, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    expected[1, 0] = [[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0]]
    np.testing.assert_array_equal(x.grad.data, expected)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("kernel", [(2, 2), (3, 2), (1, 1)])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf])
def test_scatter_when_windows_tile_the_input_matches_the_general_path(kernel, layout, bad):
    """Windows that cover the input exactly (stride = kernel, no padding, no pixel left
    over) take the assigning fast path; with one more input row, which no window
    covers, the same scatter takes the adding one."""
    x = LAYOUTS[layout](random_array((2, 3, 6, 4), seed=1))
    argmax, geometry = pooled_argmax(x, kernel, kernel, (0, 0))
    g = LAYOUTS[layout](random_array(argmax.shape, seed=2))
    if bad is not None:
        g[0, 1, 0, 0] = bad
    fast = scatter_to_argmax(g, argmax=argmax, **geometry)
    B, C, H, W = x.shape
    geometry["input_shape"] = (B, C, H + 1, W)
    general = scatter_to_argmax(g, argmax=argmax, **geometry)
    np.testing.assert_array_equal(fast, general[:, :, :H])
    np.testing.assert_array_equal(general[:, :, H], 0)
    assert np.isnan(fast).sum() == (bad is not None and np.isnan(bad))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_gather_at_argmax_ignores_non_finite_values_off_the_argmax(bad):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    argmax, kwargs = pooled_argmax(x, (2, 2), (2, 2), (0, 0))  # bottom-right pixels win
    other = x.copy()
    other[0, 0, 0, 0] = other[0, 0, 2, 3] = bad
    np.testing.assert_array_equal(
        gather_at_argmax(other, argmax=argmax, **kwargs), [[[[5, 7], [13, 15]]]]
    )


# ----- memory layout --------------------------------------------------------------------
@settings(max_examples=25)
@given(conv_geometry(pool=True), st.integers(0, 2**16))
def test_max_pool2d_does_not_depend_on_the_inputs_memory_layout(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    results = {}
    for name, store in LAYOUTS.items():
        t = gk.Tensor(store(x), requires_grad=True)
        y = F.max_pool2d(t, kernel, stride, pad)
        if name == "batch last" and not t.data.flags.c_contiguous:
            assert is_batch_last(y.data)  # (a layout is ambiguous when it is both orders)
        y.backward(random_array(y.shape, seed + 1))
        results[name] = (y.data, t.grad.data)
    y, gx = results["batch first"]
    np.testing.assert_array_equal(y, pool_by_loops(x, kernel, stride, pad))
    for other_y, other_gx in results.values():
        np.testing.assert_array_equal(other_y, y)
        np.testing.assert_array_equal(other_gx, gx)


@settings(max_examples=25)
@given(conv_geometry(pool=True), st.integers(0, 2**16), layouts, layouts)
def test_max_pool2d_gradient_does_not_depend_on_the_upstream_gradients_layout(
    geometry, seed, x_layout, gy_layout
):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    t = gk.Tensor(x.copy(), requires_grad=True)
    y = F.max_pool2d(t, kernel, stride, pad)
    gy = random_array(y.shape, seed + 1)
    y.backward(gy)
    stored = gk.Tensor(LAYOUTS[x_layout](x), requires_grad=True)
    F.max_pool2d(stored, kernel, stride, pad).backward(LAYOUTS[gy_layout](gy))
    np.testing.assert_array_equal(stored.grad.data, t.grad.data)


@pytest.mark.parametrize("layout", ["batch last", "strided"])
def test_max_pool2d_gradient_through_a_reshape_and_a_linear_layer(layout):
    x = random_array((3, 2, 6, 5))
    W = random_array((2 * 4 * 3, 4), 1)  # 2 channels of 4x3 pooled pixels in, 4 out

    def gradients(x):
        x, W_t = gk.Tensor(x, requires_grad=True), gk.Tensor(W.copy(), requires_grad=True)
        y = F.max_pool2d(x, (2, 3), stride=(2, 2), pad=(1, 1))
        assert y.shape == (3, 2, 4, 3)
        F.linear(y.reshape(3, -1), W_t).tanh().sum().backward()
        return x.grad.data, W_t.grad.data

    expected_gx, expected_gW = gradients(x.copy())
    gx, gW = gradients(LAYOUTS[layout](x))
    # y.reshape(3, -1) of a batch-last y is a view in column-major order, and the matrix
    # product rounds differently on it: equal to rounding, and nonzero at the same pixels.
    np.testing.assert_array_equal(gx != 0, expected_gx != 0)
    np.testing.assert_allclose(gx, expected_gx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gW, expected_gW, rtol=1e-12, atol=1e-14)
    assert np.count_nonzero(expected_gx) > 0


def test_max_pool2d_gradient_through_a_transpose_to_batch_last():
    x = random_array((3, 2, 4, 4))
    V = random_array((2, 2, 2, 3), 1)  # (C, OH, OW, B)

    def gradient(x):
        x = gk.Tensor(x, requires_grad=True)
        y = F.max_pool2d(x, 2).transpose(1, 2, 3, 0)  # its gradient arrives batch last
        (y * V).sum().backward()
        return x.grad.data

    expected = gradient(x.copy())
    windows = x.reshape(3, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(3, 2, 2, 2, 4)
    chosen = windows.argmax(axis=-1)
    manual = np.zeros((3, 2, 2, 2, 4))
    np.put_along_axis(manual, chosen[..., None], V.transpose(3, 0, 1, 2)[..., None], axis=-1)
    manual = manual.reshape(3, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(3, 2, 4, 4)
    np.testing.assert_array_equal(expected, manual)
    np.testing.assert_array_equal(gradient(batch_last(x)), expected)
