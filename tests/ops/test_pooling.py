"""max_pool2d, avg_pool2d and the ops their derivatives are made of (graphkit.ops.pooling):
values against loops over output pixels, gradients against central differences, forward
mode against differences and reverse mode, second order, ties (to the first arg-max in
both modes), padding and overlapping windows; scatter_to_argmax and gather_at_argmax, and
spread_over_windows and avg_pool2d, as pairs of adjoint, differentiable ops (so
derivatives of any order are right); a NaN or inf gradient kept to the arg-max pixel of
its window; and memory layout: values and gradients do not depend on how the input or the
upstream gradient is stored, and the output keeps the input's layout."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import (
    LAYOUTS,
    assert_jvp_ignores_layouts,
    batch_last,
    is_batch_last,
    pool_by_loops,
    random_array,
)

import graphkit as gk
from graphkit import functional as F
from graphkit.func import hessian, jacfwd, jacrev, jvp
from graphkit.ops.buffers import memory_axes
from graphkit.ops.pooling import (
    MaxPool2d,
    avg_pool,
    gather_at_argmax,
    scatter_to_argmax,
    spread_over_windows,
)
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

layouts = st.sampled_from(sorted(LAYOUTS))


def pooled_argmax(x, kernel, stride, pad):
    """The argmax array a real MaxPool2d forward on x saves, and the keyword arguments
    that scatter_to_argmax and gather_at_argmax take with it."""
    op = MaxPool2d(kernel, stride, pad)
    op.forward(x)
    geometry = {"input_shape": x.shape, "kernel_size": kernel, "stride": stride, "pad": pad}
    return op.saved, geometry


@given(
    gst.window_geometries(pool=True).flatmap(
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
@given(gst.window_geometries(pool=True), st.integers(0, 2**16), layouts, layouts, layouts)
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
@given(gst.window_geometries(pool=True), st.integers(0, 2**16))
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
@given(gst.window_geometries(pool=True), st.integers(0, 2**16))
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
@given(gst.window_geometries(pool=True), st.integers(0, 2**16), layouts, layouts)
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


# ----- max_pool2d: forward mode and second order ----------------------------------------
def distinct_pooling_cases(max_side=5):
    """(geometry, x) with x's values pairwise apart, so no window holds a tie."""
    return gst.window_geometries(pool=True, max_side=max_side).flatmap(
        lambda g: st.tuples(st.just(g), gst.distinct_tensors(shape=g[0]))
    )


@settings(max_examples=20)
@given(distinct_pooling_cases(max_side=4))
def test_max_pool2d_forward_mode_and_second_order(drawn):
    (_, kernel, stride, pad), x = drawn
    assert_forward_mode(lambda t: F.max_pool2d(t, kernel, stride, pad), [x], eps=1e-4)
    assert_second_order(lambda t: F.max_pool2d(t, kernel, stride, pad).tanh(), [x], eps=1e-4)


@settings(max_examples=25)
@given(
    gst.window_geometries(pool=True).flatmap(
        lambda g: st.tuples(st.just(g), gst.tensors(shape=g[0],
                                                    elements=st.sampled_from([0.0, 1.0])))
    ),
    st.integers(0, 2**16),
)
def test_max_pool2d_ties_take_the_first_maximum_in_forward_mode_too(drawn, seed):
    """Windows of 0s and 1s tie often: the tangent is that of each window's first arg-max
    (row-major, padding never), and forward mode agrees with reverse mode there."""
    (_, kernel, stride, pad), x = drawn
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    v = random_array(x.shape, seed)
    y, dy = jvp(lambda t: F.max_pool2d(t, kernel, stride, pad), (x,), (v,))
    values = np.pad(x.data, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    tangents = np.pad(v, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    expected = np.empty(y.shape)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            window = values[:, :, rows, cols].reshape(*x.shape[:2], -1)
            first = window.argmax(axis=-1)[..., None]  # NumPy's argmax: the first maximum
            picked = np.take_along_axis(tangents[:, :, rows, cols].reshape(window.shape),
                                        first, axis=-1)
            expected[:, :, i, j] = picked[..., 0]
    np.testing.assert_array_equal(dy.data, expected)
    u = random_array(y.shape, seed + 1)
    (gx,) = gk.grad(F.max_pool2d(x, kernel, stride, pad), [x], grad_outputs=u)
    np.testing.assert_allclose(np.sum(u * dy.data), np.sum(gx.data * v), rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(distinct_pooling_cases(), layouts)
def test_max_pool2d_forward_mode_does_not_depend_on_memory_layouts(drawn, layout):
    (_, kernel, stride, pad), x = drawn
    assert_jvp_ignores_layouts(lambda t: F.max_pool2d(t, kernel, stride, pad),
                               LAYOUTS[layout](x.data))


@settings(max_examples=20)
@given(gst.window_geometries(pool=True, max_side=4), st.integers(0, 2**16))
def test_scatter_to_argmax_and_gather_at_argmax_forward_mode_and_second_order(geometry, seed):
    shape, kernel, stride, pad = geometry
    argmax, kwargs = pooled_argmax(random_array(shape, seed), kernel, stride, pad)
    x = gk.Tensor(random_array(shape, seed + 1), requires_grad=True)
    assert_forward_mode(lambda t: gather_at_argmax(t, argmax=argmax, **kwargs), [x])
    assert_second_order(lambda t: gather_at_argmax(t, argmax=argmax, **kwargs).tanh(), [x])
    g = gk.Tensor(random_array(argmax.shape, seed + 2), requires_grad=True)
    assert_forward_mode(lambda t: scatter_to_argmax(t, argmax=argmax, **kwargs), [g])
    assert_second_order(lambda t: scatter_to_argmax(t, argmax=argmax, **kwargs).tanh(), [g])


@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_hessians_through_pooling_agree_in_every_order_of_modes(pool):
    """Forward over reverse (gk.func.hessian), forward over forward and reverse over
    reverse: the jvp rules of the pooling ops and of the ops of their backward."""
    x = random_array((2, 2, 4, 3))
    x[0, 0, 0, 0] = x.max() + 1  # a pixel that wins two overlapping windows

    def f(t):
        return pool(t, (2, 2), stride=1, pad=(1, 0)).tanh().sum()

    reverse = jacrev(jacrev(f))(x).data
    assert np.abs(reverse).max() > 0.01
    np.testing.assert_allclose(hessian(f)(x).data, reverse, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jacfwd(jacfwd(f))(x).data, reverse, rtol=1e-10, atol=1e-12)


# ----- avg_pool2d -----------------------------------------------------------------------
@given(gst.window_geometries(pool=True), st.integers(0, 2**16))
def test_avg_pool2d_matches_loops_and_gradcheck(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = gk.Tensor(random_array(shape, seed), requires_grad=True)
    y = F.avg_pool2d(x, kernel, stride, pad)
    np.testing.assert_allclose(y.data, pool_by_loops(x.data, kernel, stride, pad, "mean"),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, pad), [x])


@settings(max_examples=20)
@given(gst.window_geometries(pool=True, max_side=4), st.integers(0, 2**16))
def test_avg_pool2d_forward_mode_and_second_order(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = gk.Tensor(random_array(shape, seed), requires_grad=True)
    assert_forward_mode(lambda t: F.avg_pool2d(t, kernel, stride, pad), [x])
    assert_second_order(lambda t: F.avg_pool2d(t, kernel, stride, pad).tanh(), [x])


@settings(max_examples=25)
@given(gst.window_geometries(pool=True), st.integers(0, 2**16), layouts, layouts)
def test_spread_over_windows_is_the_adjoint_of_avg_pool2d(geometry, seed, x_layout, g_layout):
    shape, kernel, stride, pad = geometry
    geometry_kwargs = {"kernel_size": kernel, "stride": stride, "pad": pad}
    x = LAYOUTS[x_layout](random_array(shape, seed))
    pooled = avg_pool(x, **geometry_kwargs)
    g = LAYOUTS[g_layout](random_array(pooled.shape, seed + 1))
    spread = spread_over_windows(g, input_shape=shape, layout=memory_axes(x), **geometry_kwargs)
    assert spread.shape == shape
    np.testing.assert_allclose(np.sum(pooled * g), np.sum(x * spread), rtol=1e-10, atol=1e-10)
    t = gk.Tensor(random_array(pooled.shape, seed + 2), requires_grad=True)
    assert gradcheck(lambda t: spread_over_windows(t, input_shape=shape, layout=memory_axes(x),
                                                   **geometry_kwargs), [t])


def test_avg_pool2d_counts_the_padding_in_the_mean():
    x = gk.Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    y = F.avg_pool2d(x, 2, stride=2, pad=1)  # windows of 1, 2, 2 and 4 real pixels
    np.testing.assert_allclose(y.data[0, 0], [[0.25, 0.5], [0.5, 1.0]])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((1, 1, 3, 3), 0.25))


def test_avg_pool2d_overlapping_windows_add_their_shares():
    x = gk.Tensor(random_array((1, 1, 3, 3)), requires_grad=True)
    F.avg_pool2d(x, 2, stride=1).sum().backward()
    np.testing.assert_allclose(x.grad.data[0, 0], np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4)


@pytest.mark.parametrize("kernel", [(2, 2), (3, 2), (2, 1)])
def test_avg_pool2d_gradient_when_windows_tile_matches_the_general_path(kernel):
    """Tiling windows take add_at_offsets' assigning path; one more input row, which no
    window covers, the adding one: the same gradient, and zero on that row."""
    x = random_array((2, 3, 6, 4))
    taller = np.concatenate([x, random_array((2, 3, 1, 4), 1)], axis=2)
    gy = random_array((2, 3, 6 // kernel[0], 4 // kernel[1]), 2)
    grads = []
    for data in (x, taller):
        t = gk.Tensor(data, requires_grad=True)
        y = F.avg_pool2d(t, kernel)
        np.testing.assert_allclose(y.data, pool_by_loops(x, kernel, kernel, (0, 0), "mean"))
        y.backward(gy)
        grads.append(t.grad.data)
    np.testing.assert_array_equal(grads[1][:, :, :6], grads[0])
    np.testing.assert_array_equal(grads[1][:, :, 6], 0)


def test_avg_pool2d_default_stride_float32_and_arrays():
    x = random_array((2, 3, 6, 4)).astype(np.float32)
    y = F.avg_pool2d(x, (3, 2))
    assert y.shape == (2, 3, 2, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, pool_by_loops(x, (3, 2), (3, 2), (0, 0), "mean"),
                               rtol=1e-6)
    t = gk.Tensor(x, requires_grad=True)
    F.avg_pool2d(t, 2).sum().backward()
    assert t.grad.dtype == np.float32
    assert isinstance(gk.ops.avg_pool2d(x, 2), np.ndarray)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"kernel_size": 2, "pad": 2}, ["avg_pool2d", "at most half"]),
        ({"kernel_size": 5}, ["avg_pool2d", "kernel (5, 5)", "(4, 4)"]),
        ({"kernel_size": 0}, ["avg_pool2d: kernel_size"]),
        ({"kernel_size": 2, "stride": (1, 2, 3)}, ["avg_pool2d: stride"]),
        ({"kernel_size": 2, "pad": -1}, ["avg_pool2d: pad"]),
    ],
)
def test_avg_pool2d_rejects_bad_geometry_naming_itself(kwargs, words):
    with pytest.raises(ValueError) as info:
        F.avg_pool2d(np.zeros((1, 1, 4, 4)), **kwargs)
    for word in words:
        assert word in str(info.value)


def test_avg_pool2d_rejects_an_input_that_is_not_a_batch_of_images():
    with pytest.raises(ValueError, match=r"avg_pool2d.*\(B, C, H, W\).*\(4, 4\)"):
        F.avg_pool2d(np.zeros((4, 4)), 2)


@settings(max_examples=25)
@given(gst.window_geometries(pool=True), st.integers(0, 2**16), layouts, layouts)
def test_avg_pool2d_keeps_the_layout_and_ignores_the_gradients(geometry, seed, x_layout,
                                                              gy_layout):
    """The output and the backward's result are stored as the input is; values and
    gradients do not depend on any of the layouts."""
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    t = gk.Tensor(x.copy(), requires_grad=True)
    y = F.avg_pool2d(t, kernel, stride, pad)
    gy = random_array(y.shape, seed + 1)
    y.backward(gy)
    stored = gk.Tensor(LAYOUTS[x_layout](x), requires_grad=True)
    other = F.avg_pool2d(stored, kernel, stride, pad)
    other.backward(LAYOUTS[gy_layout](gy))
    np.testing.assert_allclose(other.data, y.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stored.grad.data, t.grad.data, rtol=1e-12, atol=1e-12)
    if x_layout == "batch last" and min(shape) > 1 and min(y.shape) > 1:
        assert is_batch_last(other.data)
        spread = spread_over_windows(LAYOUTS[gy_layout](gy), input_shape=shape, kernel_size=kernel,
                                     stride=stride, pad=pad, layout=memory_axes(stored.data))
        assert spread.strides[0] == spread.itemsize  # batch last, cropped where padded
    assert_jvp_ignores_layouts(lambda t: F.avg_pool2d(t, kernel, stride, pad), x, seed + 2)


def test_avg_pool2d_after_a_conv_stays_batch_last_through_the_backward():
    x = gk.Tensor(random_array((3, 2, 6, 6)), requires_grad=True)
    W = gk.Tensor(random_array((4, 2, 3, 3), 1), requires_grad=True)
    h = F.conv2d(x, W, pad=1)
    y = F.avg_pool2d(h, 2)
    assert is_batch_last(h.data) and is_batch_last(y.data)
    (gh,) = gk.grad(y, [h], grad_outputs=random_array(y.shape, 2))
    assert is_batch_last(gh.data)
