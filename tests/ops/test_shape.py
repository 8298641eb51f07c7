"""The shape ops: values against NumPy, gradients against differences, forward mode against
differences and reverse mode, second derivatives, float32 kept, and the errors."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
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


# ----- the rules every shape op must satisfy -------------------------------------------------


def _check_rules(fn, inputs, second_order=True):
    """Reverse mode against differences, forward mode against differences and reverse
    mode, and second derivatives through the op's backward (create_graph): the op is
    linear, so squaring its output is what makes them non-zero."""
    assert gradcheck(fn, inputs)
    assert_forward_mode(fn, inputs)
    if second_order:
        assert_second_order(lambda *xs: fn(*xs) ** 2, inputs)


def _check_hessian(fn, x):
    """The Hessian of sum(fn(x)^3) forward over reverse (the jvp rules of the op's
    backward, on Tensors) against reverse over reverse."""
    def cubed(t):
        return (fn(t) ** 3).sum()

    expected = gk.func.jacrev(gk.func.jacrev(cubed))(x)
    np.testing.assert_allclose(gk.func.hessian(cubed)(x).data, expected.data, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(reshapes(), st.data())
def test_reshape_rules(shapes, data):
    shape, target = shapes
    x = data.draw(gst.tensors(shape=shape))
    _check_rules(lambda t: t.reshape(target), [x])


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_transpose_rules(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=3)))
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    _check_rules(lambda t: t.transpose(axes), [x])
    _check_rules(lambda t: t.T, [x], second_order=False)


@settings(max_examples=25, deadline=None)
@given(gst.broadcastable_shapes(2, max_side=3), st.data())
def test_broadcast_to_rules(shapes, data):
    target = np.broadcast_shapes(*shapes)
    x = data.draw(gst.tensors(shape=shapes[0]))
    _check_rules(lambda t: gk.F.broadcast_to(t, target), [x])
    np.testing.assert_array_equal(x.broadcast_to(target).data, np.broadcast_to(x.data, target))
    np.testing.assert_array_equal(x.broadcast_to(*target).data, np.broadcast_to(x.data, target))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_getitem_rules(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=3)))
    basic = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    picks = data.draw(hnp.integer_array_indices(x.shape, result_shape=gst.shapes(1, 2, 1, 5)))
    for index in (basic, picks):
        _check_rules(lambda t, index=index: t[index], [x])


def test_getitem_rules_with_repeated_integer_indices():
    x = gk.Tensor(np.random.default_rng(2).normal(size=(3, 2)), requires_grad=True)
    index = (np.array([0, 2, 0, 0]), np.array([1, 1, 1, 0]))
    _check_rules(lambda t: t[index], [x])
    _check_hessian(lambda t: t[index], x)
    _, tangent = gk.func.jvp(lambda t: t[index], (x,), (np.ones((3, 2)),))
    np.testing.assert_array_equal(tangent.data, np.ones(4))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_scatter_add_rules(data):
    shape = data.draw(gst.shapes(min_dims=1, max_dims=2))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=gst.shapes(1, 2, 1, 5)))
    g = data.draw(gst.tensors(shape=np.zeros(shape)[index].shape))
    _check_rules(lambda t: ops.scatter_add(t, shape=shape, index=index), [g])


@settings(max_examples=15, deadline=None)
@given(gst.tensors())
def test_identity_rules(x):
    out = ops.identity(x)
    assert out is not x
    np.testing.assert_array_equal(out.data, x.data)
    _check_rules(ops.identity, [x])


@settings(max_examples=25, deadline=None)
@given(gst.shapes(max_dims=2), st.integers(1, 3), st.data())
def test_stack_rules(shape, count, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [data.draw(gst.tensors(shape=shape, requires_grad=data.draw(st.booleans()) or k == 0))
          for k in range(count)]
    out = gk.F.stack(xs, axis=axis)
    np.testing.assert_array_equal(out.data, np.stack([x.data for x in xs], axis=axis))
    assert gk.stack(xs, axis=axis).shape == out.shape
    _check_rules(lambda *ts: gk.F.stack(ts, axis=axis), xs)


# ----- concatenate / cat ---------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(gst.concatenate_shapes(), st.data())
def test_concatenate(case, data):
    shapes, axis = case
    # Some inputs are constants: their tangents are zeros in the joined one.
    xs = [data.draw(gst.tensors(shape=s, requires_grad=data.draw(st.booleans()) or k == 0))
          for k, s in enumerate(shapes)]
    out = gk.F.concatenate(xs, axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate([x.data for x in xs], axis=axis))
    for alias in (gk.F.cat, gk.cat, gk.concatenate):
        np.testing.assert_array_equal(alias(xs, axis=axis).data, out.data)
    _check_rules(lambda *ts: gk.F.concatenate(ts, axis=axis), xs)


def test_concatenate_gradients_by_hand_and_mixed_inputs():
    a = gk.Tensor(np.ones((2, 2)), requires_grad=True)
    b = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    g = np.arange(10.0).reshape(2, 5)
    gk.cat([a, b, np.zeros((2, 0))], axis=1).backward(g)
    np.testing.assert_array_equal(a.grad.data, g[:, :2])
    np.testing.assert_array_equal(b.grad.data, g[:, 2:])
    only = gk.Tensor(np.ones(3), requires_grad=True)
    gk.cat([only]).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(only.grad.data, [1.0, 2.0, 3.0])
    out = gk.cat([[1.0, 2.0], np.array([3.0])])
    assert isinstance(out, gk.Tensor)
    np.testing.assert_array_equal(out.data, [1.0, 2.0, 3.0])


def test_concatenate_and_stack_errors_name_the_axis_and_both_shapes():
    a, b = np.ones((2, 3)), np.ones((2, 4))
    with pytest.raises(ValueError, match=r"concatenate: tensor 1 has shape \(2, 4\) but tensor 0 "
                                         r"has shape \(2, 3\); to concatenate along axis 0"):
        gk.cat([a, b], axis=0)
    assert gk.cat([a, b], axis=1).shape == (2, 7)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(2, 4\) but tensor 0 has "
                                         r"shape \(2, 3\); to stack them along a new axis 1"):
        gk.stack([a, b], axis=1)
    with pytest.raises(ValueError, match="tensor 1 has shape"):
        gk.cat([a, np.ones(6)])
    with pytest.raises(AxisError):
        gk.cat([a, a], axis=2)
    with pytest.raises(AxisError):
        gk.stack([a, a], axis=3)
    with pytest.raises(ValueError, match="0-d tensors"):
        gk.cat([1.0, 2.0])
    for join in (gk.cat, gk.stack):
        with pytest.raises(ValueError, match="at least one tensor"):
            join([])
        with pytest.raises(TypeError, match="sequence of tensors"):
            join(gk.Tensor(a))


# ----- split ---------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(gst.split_arguments(max_side=4), st.data())
def test_split(case, data):
    shape, sections, axis = case
    x = data.draw(gst.tensors(shape=shape))
    pieces = gk.F.split(x, sections, axis=axis)
    expected = np.split(x.data, sections, axis=axis)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(piece.data, want)
    assert [p.shape for p in x.split(sections, axis=axis)] == [e.shape for e in expected]

    def joined(t):
        parts = gk.F.split(t, sections, axis=axis)
        return gk.cat([p.flatten() * (k + 1) for k, p in enumerate(parts)])

    _check_rules(joined, [x])


def test_split_errors():
    x = gk.Tensor(np.ones((4, 6)))
    with pytest.raises(ValueError, match=r"split: 4 sections do not divide axis 1 of length 6"):
        gk.F.split(x, 4, axis=1)
    with pytest.raises(ValueError, match="0 sections"):
        gk.F.split(x, 0)
    with pytest.raises(ValueError, match="0-d"):
        gk.F.split(1.0, 1)
    with pytest.raises(AxisError):
        gk.F.split(x, 2, axis=2)


# ----- squeeze, expand_dims, flatten ---------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_squeeze(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    x = data.draw(gst.tensors(shape=shape))
    ones = [k for k, n in enumerate(shape) if n == 1]
    axis = data.draw(st.none() | st.sampled_from(ones) if ones else st.none())
    if ones and data.draw(st.booleans()):
        axis = tuple(data.draw(st.lists(st.sampled_from(ones), unique=True)))
    out = gk.F.squeeze(x, axis)
    np.testing.assert_array_equal(out.data, np.squeeze(x.data, axis))
    assert x.squeeze(axis).shape == out.shape
    _check_rules(lambda t: gk.F.squeeze(t, axis), [x])


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_expand_dims(data):
    x = data.draw(gst.tensors(shape=gst.shapes(max_dims=3)))
    count = data.draw(st.integers(1, 2))
    axes = data.draw(st.lists(st.integers(-x.ndim - count, x.ndim + count - 1), min_size=count,
                              max_size=count, unique_by=lambda a: a % (x.ndim + count)))
    axis = axes[0] if count == 1 and data.draw(st.booleans()) else tuple(axes)
    out = gk.F.expand_dims(x, axis)
    np.testing.assert_array_equal(out.data, np.expand_dims(x.data, axis))
    assert gk.F.unsqueeze(x, axis).shape == out.shape
    if isinstance(axis, int):
        assert x.unsqueeze(axis).shape == out.shape
    _check_rules(lambda t: gk.F.expand_dims(t, axis), [x])


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_flatten(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=4, max_side=3)))
    start = data.draw(st.integers(-x.ndim, x.ndim - 1))
    end = data.draw(st.integers(start % x.ndim, x.ndim - 1))
    out = gk.F.flatten(x, start, end)
    s, e = start % x.ndim, end
    expected = x.data.reshape((*x.shape[:s], -1, *x.shape[e + 1:]))
    np.testing.assert_array_equal(out.data, expected)
    assert x.flatten(start, end).shape == out.shape
    _check_rules(lambda t: gk.F.flatten(t, start, end), [x])


def test_flatten_squeeze_expand_dims_by_example_and_errors():
    x = gk.Tensor(np.ones((2, 1, 3, 1)))
    assert gk.F.flatten(x).shape == (6,)
    assert gk.F.flatten(x, 1).shape == (2, 3)
    assert gk.F.flatten(gk.Tensor(5.0)).shape == (1,)
    assert gk.F.squeeze(x).shape == (2, 3)
    assert gk.F.squeeze(x, -1).shape == (2, 1, 3)
    assert gk.F.expand_dims(x, (0, -1)).shape == (1, 2, 1, 3, 1, 1)
    with pytest.raises(ValueError, match=r"squeeze: axis 2 of shape \(2, 1, 3, 1\) has length 3"):
        gk.F.squeeze(x, 2)
    with pytest.raises(AxisError):
        gk.F.squeeze(x, 4)
    with pytest.raises(AxisError):
        gk.F.expand_dims(x, 5)
    with pytest.raises(ValueError, match="start_axis 2 comes after end_axis 1"):
        gk.F.flatten(x, 2, 1)


# ----- pad -----------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_pad(data):
    x = data.draw(gst.tensors(shape=gst.shapes(max_dims=3, max_side=3)))
    pad_width = data.draw(gst.pad_widths(x.ndim))
    value = data.draw(st.sampled_from([0.0, -1.5]))
    out = gk.F.pad(x, pad_width, value=value)
    np.testing.assert_array_equal(out.data, np.pad(x.data, pad_width, constant_values=value))
    _check_rules(lambda t: gk.F.pad(t, pad_width, value=value), [x])


def test_pad_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="negative width"):
        gk.F.pad(x, ((1, -1), (0, 0)))
    with pytest.raises(ValueError, match="fits neither every axis nor each of the 2 axes"):
        gk.F.pad(x, ((1, 1), (0, 0), (2, 2)))
    with pytest.raises(TypeError, match="pad_width must be ints"):
        gk.F.pad(x, 1.5)


# ----- flip, tile ----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_flip(data):
    x = data.draw(gst.tensors(shape=gst.shapes(max_dims=3)))
    axis = None
    if x.ndim and data.draw(st.booleans()):
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1)
                         | st.lists(st.integers(0, x.ndim - 1), unique=True).map(tuple))
    out = gk.F.flip(x, axis)
    np.testing.assert_array_equal(out.data, np.flip(x.data, axis))
    np.testing.assert_array_equal(x.flip(axis).data, out.data)
    _check_rules(lambda t: gk.F.flip(t, axis), [x])


@settings(max_examples=30, deadline=None)
@given(gst.tensors(shape=gst.shapes(max_dims=2, max_side=3)), gst.tile_reps())
def test_tile(x, reps):
    out = gk.F.tile(x, reps)
    np.testing.assert_array_equal(out.data, np.tile(x.data, reps))
    method = x.tile(*reps) if isinstance(reps, tuple) else x.tile(reps)
    assert method.shape == out.shape
    _check_rules(lambda t: gk.F.tile(t, reps), [x])


def test_tile_gradient_sums_the_copies_and_errors():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    gk.F.tile(x, (2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    assert gk.F.tile(x, 0).shape == (0,)
    with pytest.raises(ValueError, match="non-negative ints"):
        gk.F.tile(x, (-1,))
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast shape"):
        gk.F.broadcast_to(np.ones((2, 3)), (3, 3))


# ----- take_along_axis -----------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_take_along_axis(data):
    x = data.draw(gst.tensors(shape=gst.shapes(min_dims=1, max_dims=3, max_side=3)))
    indices, axis = data.draw(gst.take_along_axis_indices(x.shape))
    out = gk.F.take_along_axis(x, indices, axis)
    np.testing.assert_array_equal(out.data, np.take_along_axis(x.data, indices, axis))
    _check_rules(lambda t: gk.F.take_along_axis(t, indices, axis), [x])
    # Repeated indices accumulate: the gradient of the sum counts the picks.
    x.zero_grad()
    out.sum().backward()
    along = axis % x.ndim
    counts = np.zeros(x.shape)
    for position in np.ndindex(out.shape):
        at = tuple(p if n > 1 else 0 for p, n in zip(position, indices.shape))
        source = list(position)
        source[along] = indices[at] % x.shape[along]
        counts[tuple(source)] += 1
    np.testing.assert_array_equal(x.grad.data, counts)


def test_take_along_axis_by_example_and_errors():
    x = gk.Tensor([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]], requires_grad=True)
    picks = np.array([[2, 2], [0, -1]])
    out = gk.F.take_along_axis(x, picks, axis=1)
    np.testing.assert_array_equal(out.data, [[30.0, 30.0], [40.0, 60.0]])
    out.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 3.0], [3.0, 0.0, 4.0]])
    flat = gk.F.take_along_axis(x, np.array([5, 0]), axis=None)
    np.testing.assert_array_equal(flat.data, [60.0, 10.0])
    with pytest.raises(TypeError, match="indices must be integers"):
        gk.F.take_along_axis(x, np.array([[0.5]]), axis=1)
    with pytest.raises(ValueError, match="as many axes as x"):
        gk.F.take_along_axis(x, np.array([0]), axis=1)
    with pytest.raises(IndexError, match="out of range for axis 1 of length 3"):
        gk.F.take_along_axis(x, np.array([[3]]), axis=1)


# ----- float32, item assignment --------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: gk.cat([t, t], axis=1),
        lambda t: gk.stack([t, t]),
        lambda t: gk.F.split(t, 3, axis=1)[1],
        lambda t: gk.F.squeeze(t[None]),
        lambda t: gk.F.expand_dims(t, 1),
        lambda t: gk.F.flatten(t),
        lambda t: gk.F.pad(t, 1, value=2.0),
        lambda t: gk.F.flip(t),
        lambda t: gk.F.tile(t, (2, 1)),
        lambda t: gk.F.broadcast_to(t, (2, 2, 3)),
        lambda t: gk.F.take_along_axis(t, np.array([[0, 0]]), 1),
        lambda t: gk.einsum("ij->j", t),
    ],
)
def test_float32_stays_float32(fn):
    x = gk.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    _, tangent = gk.func.jvp(fn, (x,), (np.ones((2, 3), dtype=np.float32),))
    assert tangent.dtype == np.float32


def test_item_assignment_says_what_to_do_instead():
    x = gk.Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"item assignment.*gk\.where"):
        x[0] = 1.0
    with pytest.raises(TypeError, match="build a new Tensor"):
        x[np.array([True, False, True])] = gk.Tensor([1.0, 2.0])
    np.testing.assert_array_equal(x.data, np.zeros(3))


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: gk.cat([t, t * 2], axis=0),
        lambda t: gk.stack([t, t * 2], axis=1),
        lambda t: gk.F.pad(t, ((1, 0), (0, 2))),
        lambda t: gk.F.flip(t, 0),
        lambda t: gk.F.tile(t, (2, 2)),
        lambda t: gk.F.take_along_axis(t, np.array([[1, 1, 0]]), 0),
        lambda t: gk.F.broadcast_to(t, (2, 2, 3)),
        lambda t: ops.scatter_add(t, shape=(4, 3), index=(np.array([0, 3]),)),
    ],
)
def test_hessian_forward_over_reverse(fn):
    x = gk.Tensor(np.random.default_rng(3).normal(size=(2, 3)), requires_grad=True)
    _check_hessian(fn, x)
