"""im2col and col2im (graphkit.ops.im2col): the public functions lay windows out in the
book's "rows" layout, col2im is their adjoint, both are differentiable ops (reverse and
forward mode, second order, in both layouts), and neither depends on how its input is
stored in memory (batch first, batch last, or a strided slice); plus the error messages
for columns that do not fit."""

import numpy as np
import pytest
from book_reference import im2col as book_im2col
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st
from window_cases import assert_jvp_ignores_layouts, batch_last, random_array, strided_copy

import graphkit as gk
from graphkit import functional as F
from graphkit.ops.im2col import col2im_op, im2col_array, im2col_op
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


@given(gst.window_geometries(), st.integers(0, 2**16))
def test_im2col_is_the_books_layout_and_col2im_its_adjoint(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    cols = F.im2col(x, kernel, stride, pad)
    np.testing.assert_array_equal(cols, book_im2col(x, *kernel, stride, pad))
    c = random_array(cols.shape, seed + 1)
    back = F.col2im(c, shape, kernel, stride, pad)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10, atol=1e-10)


@given(gst.window_geometries())
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


def test_col2im_rejects_columns_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        F.col2im(np.zeros((5, 4)), (1, 1, 3, 3), 2)


# ----- memory layout --------------------------------------------------------------------
@settings(max_examples=25)
@given(gst.window_geometries(), st.integers(0, 2**16))
def test_im2col_and_col2im_do_not_depend_on_the_inputs_memory_layout(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    expected = book_im2col(x, *kernel, stride, pad)
    for stored in (batch_last(x), strided_copy(x)):
        np.testing.assert_array_equal(F.im2col(stored, kernel, stride, pad), expected)

    c = random_array(expected.shape, seed + 1)
    back = F.col2im(c, shape, kernel, stride, pad)
    spread = np.zeros((c.shape[0], 2 * c.shape[1]))
    spread[:, 1::2] = c
    for stored in (np.asfortranarray(c), spread[:, 1::2]):
        np.testing.assert_array_equal(F.col2im(stored, shape, kernel, stride, pad), back)


@settings(max_examples=25)
@given(gst.window_geometries(), st.integers(0, 2**16))
def test_im2col_gradient_does_not_depend_on_the_inputs_memory_layout(geometry, seed):
    shape, kernel, stride, pad = geometry
    x = random_array(shape, seed)
    g = random_array(F.im2col(x, kernel, stride, pad).shape, seed + 1)
    grads = []
    for stored in (x, batch_last(x), strided_copy(x)):
        t = gk.Tensor(stored, requires_grad=True)
        cols = F.im2col(t, kernel, stride, pad)
        np.testing.assert_array_equal(cols.data, book_im2col(x, *kernel, stride, pad))
        cols.backward(g)
        grads.append(t.grad.data)
    for other in grads[1:]:
        np.testing.assert_array_equal(other, grads[0])


# ----- forward mode and second order ----------------------------------------------------
@settings(max_examples=20)
@given(gst.window_geometries(max_side=4), st.sampled_from(["rows", "columns"]),
       st.integers(0, 2**16))
def test_im2col_and_col2im_forward_mode_and_second_order(geometry, layout, seed):
    shape, kernel, stride, pad = geometry
    kwargs = {"kernel_size": kernel, "stride": stride, "pad": pad, "layout": layout}
    x = gk.Tensor(random_array(shape, seed), requires_grad=True)
    assert_forward_mode(lambda t: im2col_op(t, **kwargs), [x])
    assert_second_order(lambda t: im2col_op(t, **kwargs).tanh(), [x])
    cols_shape = im2col_array(x.data, kernel, stride, pad, layout).shape
    c = gk.Tensor(random_array(cols_shape, seed + 1), requires_grad=True)
    assert_forward_mode(lambda t: col2im_op(t, input_shape=shape, **kwargs), [c])
    assert_second_order(lambda t: col2im_op(t, input_shape=shape, **kwargs).tanh(), [c])


@settings(max_examples=15)
@given(gst.window_geometries(), st.integers(0, 2**16))
def test_im2col_forward_mode_does_not_depend_on_memory_layouts(geometry, seed):
    shape, kernel, stride, pad = geometry
    assert_jvp_ignores_layouts(lambda t: F.im2col(t, kernel, stride, pad),
                               random_array(shape, seed), seed + 1)
