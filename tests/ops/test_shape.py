"""reshape, transpose (.T, swapaxes), broadcast_to and getitem: values and gradients."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphkit as gk
from graphkit import ops
from graphkit.backend import AxisError
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

# ----- reshape ----------------------------------------------------------------------------------


@st.composite
def reshapes(draw):
    """A shape and another shape with the same number of elements (maybe with a -1)."""
    shape = draw(gst.shapes(max_dims=3))
    size = int(np.prod(shape))
    factors = []
    rest = size
    while rest > 1 and len(factors) < 3:
        divisors = [d for d in range(2, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        factors.append(d)
        rest //= d
    target = [*factors, rest] if rest > 1 else factors
    target = draw(st.permutations(target)) + [1] * draw(st.integers(0, 1))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@settings(max_examples=40)
@given(reshapes(), st.data())
def test_reshape(shapes, data):
    shape, target = shapes
    x = data.draw(gst.tensors(shape=shape))
    out = x.reshape(target)
    np.testing.assert_array_equal(out.data, x.data.reshape(target))
    np.testing.assert_array_equal(x.reshape(*target).data, out.data)
    assert gradcheck(lambda t: t.reshape(target), [x])


def test_reshape_forms_and_errors():
    x = gk.Tensor(np.arange(6.0), requires_grad=True)
    assert x.reshape(2, 3).shape == (2, 3)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape([1, -1]).shape == (1, 6)
    g = np.arange(6.0).reshape(2, 3) * 10
    x.reshape(2, 3).backward(g)
    np.testing.assert_array_equal(x.grad.data, g.reshape(6))
    with pytest.raises(ValueError, match="reshape"):
        x.reshape(4, 2)


# ----- transpose ---------------------------------------------------------------------------------


@settings(max_examples=40)
@given(st.data())
def test_transpose_with_a_full_permutation(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=4)))
    axes = data.draw(st.permutations(range(x.ndim)))
    # Negative axes are allowed, as in NumPy.
    axes = tuple(a - x.ndim if data.draw(st.booleans()) else a for a in axes)
    out = x.transpose(axes)
    np.testing.assert_array_equal(out.data, x.data.transpose(axes))
    np.testing.assert_array_equal(x.transpose(*axes).data, out.data)
    assert gradcheck(lambda t: t.transpose(axes), [x])


def test_transpose_with_negative_axes_by_hand():
    x = gk.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    g = np.random.default_rng(0).normal(size=(4, 2, 3))
    x.transpose(-1, 0, 1).backward(g)
    np.testing.assert_array_equal(x.grad.data, g.transpose(1, 2, 0))


@settings(max_examples=20)
@given(gst.tensors())
def test_transpose_without_axes_and_T_reverse(x):
    expected = x.data.transpose()
    for out in (x.transpose(), x.T, x.transpose(None)):
        np.testing.assert_array_equal(out.data, expected)
    assert gradcheck(lambda t: t.T, [x])
    assert gradcheck(lambda t: t.transpose(), [x])


@settings(max_examples=30)
@given(st.data())
def test_swapaxes(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=4)))
    a1 = data.draw(st.integers(-x.ndim, x.ndim - 1))
    a2 = data.draw(st.integers(-x.ndim, x.ndim - 1))
    out = x.swapaxes(a1, a2)
    np.testing.assert_array_equal(out.data, np.swapaxes(x.data, a1, a2))
    assert gradcheck(lambda t: t.swapaxes(a1, a2), [x])


def test_transpose_errors():
    x = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(AxisError):
        x.swapaxes(0, 2)
    with pytest.raises(AxisError):
        x.swapaxes(-3, 0)
    with pytest.raises(AxisError):
        x.transpose(0, 2)
    with pytest.raises(ValueError):
        x.transpose(0, 0)
    with pytest.raises(ValueError):
        x.transpose(0)


# ----- broadcast_to ------------------------------------------------------------------------------


@settings(max_examples=30)
@given(gst.broadcastable_shapes(2), st.data())
def test_broadcast_to(shapes, data):
    target = np.broadcast_shapes(*shapes)
    x = data.draw(gst.tensors(shape=shapes[0]))
    out = ops.broadcast_to(x, shape=target)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x.data, target))
    assert gradcheck(lambda t: ops.broadcast_to(t, shape=target), [x])


# ----- getitem -----------------------------------------------------------------------------------


def _check_getitem(x, index):
    out = x[index]
    np.testing.assert_array_equal(out.data, x.data[index])
    assert gradcheck(lambda t: t[index], [x])


@settings(max_examples=50)
@given(st.data())
def test_getitem_basic_indices(data):
    """Ints, slices (negative steps too), Ellipsis and None."""
    x = data.draw(gst.tensors(shape=gst.shapes(max_dims=3)))
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    _check_getitem(x, index)


@settings(max_examples=40)
@given(st.data())
def test_getitem_integer_arrays(data):
    """Integer arrays, repeated indices included: their gradients must accumulate."""
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=3)))
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=gst.shapes(1, 2, 1, 5)))
    _check_getitem(x, index)
    # The gradient of a sum over picks counts how often each element was picked.
    x.zero_grad()
    x[index].sum().backward()
    counts = np.zeros(x.shape)
    np.add.at(counts, index, 1.0)
    np.testing.assert_array_equal(x.grad.data, counts)


@settings(max_examples=40)
@given(st.data())
def test_getitem_bool_masks(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=3)))
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    _check_getitem(x, mask)
    rows = data.draw(hnp.arrays(np.bool_, x.shape[:1]))
    _check_getitem(x, rows)


def test_getitem_repeated_indices_accumulate():
    x = gk.Tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[np.array([0, 2, 0, 0, 1, 2])]
    np.testing.assert_array_equal(y.data, [10.0, 30.0, 10.0, 10.0, 20.0, 30.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(x.grad.data, [1.0 + 3.0 + 4.0, 5.0, 2.0 + 6.0])
    # Lists and integer Tensors index too.
    x.zero_grad()
    x[[1, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 0.0])
    x.zero_grad()
    x[gk.Tensor([2.0, 2.0, 2.0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 3.0])


def test_getitem_with_a_comparison_as_mask():
    x = gk.Tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    positive = x[x > 0]
    np.testing.assert_array_equal(positive.data, [2.0, 3.0])
    (positive * positive).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 4.0], [6.0, 0.0]])


def test_getitem_two_dimensional_fancy_and_mixed():
    a = np.arange(12.0).reshape(3, 4)
    x = gk.Tensor(a, requires_grad=True)
    rows, cols = np.array([0, 2, 0]), np.array([1, 3, 1])
    for index in [
        (rows, cols),
        (rows, slice(None, None, -1)),
        (slice(1, None), cols),
        (Ellipsis, -1),
        (1, slice(None, None, -2)),
        (None, 2),
        (rows[:, None], cols),
    ]:
        _check_getitem(x, index)
    x[rows, cols].sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1] = 2.0
    expected[2, 3] = 1.0
    np.testing.assert_array_equal(x.grad.data, expected)


def test_getitem_negative_steps():
    x = gk.Tensor(np.arange(5.0), requires_grad=True)
    y = x[::-2]
    np.testing.assert_array_equal(y.data, [4.0, 2.0, 0.0])
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 2.0, 0.0, 1.0])


def test_getitem_index_errors():
    x = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    for index in (2, -3, (0, 3), np.array([0, 2]), (slice(None), np.array([3]))):
        with pytest.raises(IndexError):
            x[index]
    with pytest.raises(IndexError):
        x[gk.Tensor([0.5])]  # not a whole number
    with pytest.raises(IndexError):
        x[np.array([True, False, True])]  # wrong mask shape
