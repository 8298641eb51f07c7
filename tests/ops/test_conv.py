"""conv2d, max_pool2d, dropout and im2col/col2im: values against direct loops, gradients
against central differences (first and second order), and the error messages."""

import numpy as np
import pytest
from book_reference import im2col as book_im2col
from hypothesis import given
from hypothesis import strategies as st

import graphkit as gk
from graphkit import functional as F
from graphkit.graph import RELEASED
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


# ----- references written with loops over output pixels ---------------------------------
def conv_by_loops(x, W, b, stride, pad):
    (sh, sw), (ph, pw) = stride, pad
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = W.shape[2:]
    out_h, out_w = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], W.shape[0], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            y[:, :, i, j] = np.einsum("bchw,ochw->bo", window, W) + b
    return y


def pool_by_loops(x, kernel, stride, pad):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    out_h, out_w = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.empty((*x.shape[:2], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            y[:, :, i, j] = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw].max(axis=(2, 3))
    return y


# ----- drawn geometries -----------------------------------------------------------------
@st.composite
def conv_geometry(draw, max_pad=2, pool=False):
    """(input shape, kernel, stride, pad) with at least one window; rectangular often."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    limits = (kernel[0] // 2, kernel[1] // 2) if pool else (max_pad, max_pad)
    pad = (draw(st.integers(0, limits[0])), draw(st.integers(0, limits[1])))
    h = draw(st.integers(max(1, kernel[0] - 2 * pad[0]), 5))
    w = draw(st.integers(max(1, kernel[1] - 2 * pad[1]), 5))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    return shape, kernel, stride, pad


def random_array(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----- im2col / col2im ------------------------------------------------------------------
@given(conv_geometry(), st.integers(0, 2**16))
def test_im2col_is_the_books_layout_and_col2im_its_adjoint(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    cols = F.im2col(x, kernel, stride, pad)
    np.testing.assert_array_equal(cols, book_im2col(x, *kernel, stride, pad))
    c = random_array(cols.shape, seed + 1)
    back = F.col2im(c, shape, kernel, stride, pad)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10, atol=1e-10)


@given(conv_geometry())
def test_im2col_and_col2im_as_ops_are_differentiable(geometry):
    shape, kernel, stride, pad = geometry
    x = gk.Tensor(random_array(shape), requires_grad=True)
    assert gradcheck(lambda t: F.im2col(t, kernel, stride, pad), [x])
    cols = gk.Tensor(random_array(F.im2col(x.data, kernel, stride, pad).shape), requires_grad=True)
    assert gradcheck(lambda c: F.col2im(c, shape, kernel, stride, pad), [cols])


def test_im2col_takes_ints_and_pairs_and_keeps_float32():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    cols = F.im2col(x, 3, stride=1, pad=1)
    assert cols.shape == (2 * 4 * 5, 3 * 3 * 3) and cols.dtype == np.float32
    np.testing.assert_array_equal(cols, F.im2col(x, (3, 3), (1, 1), (1, 1)))
    assert F.col2im(cols, x.shape, 3, 1, 1).dtype == np.float32


def test_col2im_adds_overlapping_windows():
    ones = np.ones((1, 1, 3, 3))
    cols = np.ones_like(F.im2col(ones, 2))
    counts = F.col2im(cols, ones.shape, 2)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# ----- conv2d ---------------------------------------------------------------------------
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


def test_col2im_rejects_columns_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        F.col2im(np.zeros((5, 4)), (1, 1, 3, 3), 2)


# ----- max_pool2d -----------------------------------------------------------------------
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


# ----- dropout --------------------------------------------------------------------------
def test_dropout_scales_survivors_and_routes_the_gradient():
    x = gk.Tensor(np.ones((200, 100)), requires_grad=True)
    y = F.dropout(x, p=0.3)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


def test_dropout_is_the_identity_in_eval_mode_and_at_p0():
    x = gk.Tensor(random_array((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((3, 4)))


def test_dropout_masks_repeat_under_a_seed():
    x = np.ones((10, 10))
    np.random.seed(7)
    first = F.dropout(x, 0.5).data
    np.random.seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    masks = [F.dropout(x, 0.5, generator=np.random.default_rng(3)).data for _ in range(2)]
    np.testing.assert_array_equal(*masks)


def test_dropout_keeps_float32_and_rejects_bad_p():
    assert F.dropout(np.ones(5, np.float32), 0.5).dtype == np.float32
    with pytest.raises(ValueError, match=r"1\.5"):
        F.dropout(np.ones(3), 1.5)
