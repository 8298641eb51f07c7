"""The reductions (sum mean max min prod var std logsumexp) over axis None / int / tuple /
negative, with and without keepdims; cumsum, argmax, argmin: values, gradients, forward mode,
second derivatives, ties, zeros, stability."""

import warnings

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.backend import AxisError
from graphkit.func import jvp
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


@st.composite
def axes_for(draw, ndim):
    """None, an int or a tuple of distinct axes of an ndim-array, negatives included."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    as_int = st.integers(-ndim, ndim - 1)
    chosen = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    return draw(st.one_of(st.none(), as_int, chosen))


REDUCTIONS = {
    "sum": (lambda t, **kw: t.sum(**kw), np.sum),
    "mean": (lambda t, **kw: t.mean(**kw), np.mean),
    "max": (lambda t, **kw: t.max(**kw), np.max),
    "min": (lambda t, **kw: t.min(**kw), np.min),
    "prod": (lambda t, **kw: t.prod(**kw), np.prod),
    "var": (lambda t, **kw: t.var(**kw), np.var),
    "var_ddof1": (lambda t, **kw: gk.F.var(t, ddof=1, **kw),
                  lambda a, **kw: np.var(a, ddof=1, **kw)),
    "std": (lambda t, **kw: t.std(**kw), np.std),
    "std_ddof1": (lambda t, **kw: t.std(ddof=1, **kw), lambda a, **kw: np.std(a, ddof=1, **kw)),
    "logsumexp": (lambda t, **kw: t.logsumexp(**kw),
                  lambda a, **kw: np.log(np.sum(np.exp(a), **kw))),
}


def _count(shape, axis):
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis) % max(len(shape), 1)
    return int(np.prod([shape[i] for i in set(int(i) for i in axes)]))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=25)
@given(data=st.data())
def test_reductions(name, data):
    method, np_fn = REDUCTIONS[name]
    shape = data.draw(gst.shapes(max_dims=3))
    # max and min need no ties, std no constant slices: distinct elements for them.
    distinct = name in ("max", "min") or name.startswith("std")
    elements = gst.elements_for(name)
    x = data.draw(gst.distinct_tensors(shape=shape) if distinct
                  else gst.tensors(shape=shape, elements=elements))
    axis = data.draw(axes_for(len(shape)))
    if name.endswith("ddof1"):
        assume(_count(shape, axis) > 1)
    if name.startswith("std"):
        assume(_count(shape, axis) > 1)  # one element: a deviation of 0, where sqrt has a kink
    keepdims = data.draw(st.booleans())

    def f(t):
        return method(t, axis=axis, keepdims=keepdims)

    out = f(x)
    expected = np_fn(x.data, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected) and out.dtype == x.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    assert gradcheck(f, [x])
    assert_forward_mode(f, [x])
    # sum and mean are linear: their second derivatives mean something through a square.
    assert_second_order((lambda t: f(t * t)) if name in ("sum", "mean") else f, [x])


def test_sum_and_mean_closed_forms():
    x = gk.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    g = np.arange(8.0).reshape(2, 4)
    x.sum(axis=1).backward(g)
    np.testing.assert_array_equal(x.grad.data, np.broadcast_to(g[:, None, :], (2, 3, 4)))
    x.zero_grad()
    x.mean(axis=(0, -1), keepdims=True).backward(np.ones((1, 3, 1)))
    np.testing.assert_allclose(x.grad.data, np.full((2, 3, 4), 1 / 8))
    x.zero_grad()
    x.mean().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3, 4), 1 / 24))
    x.zero_grad()
    x.mean(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3, 4), 1 / 3))


def test_max_closed_form_and_ties_share_equally():
    x = gk.Tensor([[1.0, 5.0, 2.0], [7.0, 7.0, 0.0]], requires_grad=True)
    out = x.max(axis=1)
    np.testing.assert_array_equal(out.data, [5.0, 7.0])
    out.backward(np.array([2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, [[0.0, 2.0, 0.0], [1.5, 1.5, 0.0]])
    y = gk.Tensor([3.0, 3.0, 3.0, 1.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_allclose(y.grad.data, [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_keepdims_shapes():
    x = gk.Tensor(np.ones((2, 3, 4)))
    assert x.sum(axis=1, keepdims=True).shape == (2, 1, 4)
    assert x.mean(axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert x.max(keepdims=True).shape == (1, 1, 1)
    assert x.sum(axis=-1).shape == (2, 3)
    assert x.sum().shape == ()


def test_empty_reductions_follow_numpy():
    e = gk.Tensor(np.zeros((0, 3)), requires_grad=True)
    s = e.sum()
    assert s.item() == 0.0
    s.backward()
    assert e.grad.shape == (0, 3)
    np.testing.assert_array_equal(e.sum(axis=0).data, [0.0, 0.0, 0.0])
    assert gk.Tensor([]).sum().item() == 0.0
    m = e.mean(axis=1)
    assert m.shape == (0,)
    m.sum().backward()
    assert e.grad.shape == (0, 3)
    with pytest.raises(ValueError):
        e.max()  # NumPy: zero-size array to reduction operation maximum


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [2, -3, (0, 2), (1, -3), 5])
def test_axis_out_of_range_is_axis_error(name, axis):
    method, _ = REDUCTIONS[name]
    x = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(AxisError):
        method(x, axis=axis)


def test_reductions_of_float32_stay_float32():
    x = gk.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    for y in (x.sum(axis=0), x.mean(), x.max(axis=1, keepdims=True)):
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32


# ----- min, prod, var, std, logsumexp: ties, zeros, closed forms, stability ----------------------


def test_min_ties_share_equally():
    x = gk.Tensor([[4.0, 1.0, 1.0], [0.0, 2.0, 3.0]], requires_grad=True)
    out = x.min(axis=1)
    np.testing.assert_array_equal(out.data, [1.0, 0.0])
    (g,) = gk.grad(out, x, grad_outputs=np.array([2.0, 3.0]))
    np.testing.assert_array_equal(g.data, [[0.0, 1.0, 1.0], [3.0, 0.0, 0.0]])
    # Four tied copies of one element: a quarter each, so the element gets all of it.
    (g,) = gk.grad(gk.F.min(np.ones(4) * x[0, 1]), x)
    np.testing.assert_array_equal(g.data, [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])


def test_prod_with_zeros_is_exact():
    x = gk.Tensor([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0]],
                  requires_grad=True)
    out = x.prod(axis=1)
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 24.0])
    (g,) = gk.grad(out.sum(), x)
    # One zero: the product of the others at it, 0 elsewhere; two zeros: 0 everywhere.
    np.testing.assert_array_equal(g.data, [[0.0, 24.0, 0.0, 0.0], [0.0] * 4,
                                           [24.0, 12.0, 8.0, 6.0]])
    (g,) = gk.grad(gk.F.prod(x[0]), x)
    np.testing.assert_array_equal(g.data[0], [0.0, 24.0, 0.0, 0.0])
    _, tangent = jvp(lambda t: t.prod(axis=1), (x,), (np.ones(x.shape),))
    np.testing.assert_array_equal(tangent.data, [24.0, 0.0, 50.0])
    # Second derivatives, d²/dxi dxj = the product of the elements but i and j, with no,
    # one, two and three zeros in the slice.
    for values in ([2.0, 3.0, 5.0, 7.0], [2.0, 0.0, 5.0, 7.0], [0.0, 3.0, 0.0, 7.0],
                   [0.0, 0.0, 5.0, 0.0]):
        y = gk.Tensor(values, requires_grad=True)
        (g,) = gk.grad(y.prod(), y, create_graph=True)
        hessian = np.stack([gk.grad(g[i], y, retain_graph=True)[0].data for i in range(4)])
        expected = [[0.0 if i == j else np.prod(np.delete(values, [i, j])) for j in range(4)]
                    for i in range(4)]
        np.testing.assert_array_equal(hessian, expected)


def test_prod_of_a_product_that_is_not_exactly_divisible():
    # y / x would round; the gradient is the product of the others.
    a = np.array([0.1, 0.7, 1.3, 3.0])
    x = gk.Tensor(a, requires_grad=True)
    (g,) = gk.grad(x.prod(), x)
    others = [np.prod(np.delete(a, i)) for i in range(4)]
    np.testing.assert_allclose(g.data, others, rtol=1e-15)


def test_var_and_std_closed_forms():
    a = np.array([[1.0, 2.0, 4.0, 7.0], [3.0, 3.0, 3.0, 3.0]])
    x = gk.Tensor(a, requires_grad=True)
    for ddof in (0, 1):
        (g,) = gk.grad(x.var(axis=1, ddof=ddof).sum(), x)
        np.testing.assert_allclose(g.data, 2 * (a - a.mean(1, keepdims=True)) / (4 - ddof))
    (g,) = gk.grad(x.std(axis=1, ddof=1).sum(), x)
    std = a.std(axis=1, ddof=1, keepdims=True)
    # A constant row has std 0, where the gradient is 0 (as PyTorch), not NaN.
    np.testing.assert_allclose(g.data[0], (a[0] - a[0].mean()) / (3 * std[0]))
    np.testing.assert_array_equal(g.data[1], np.zeros(4))
    _, tangent = jvp(lambda t: t.std(axis=1), (x,), (np.ones(x.shape),))
    assert np.isfinite(tangent.data).all()
    assert x.var(ddof=1, keepdims=True).shape == (1, 1)
    np.testing.assert_allclose(gk.F.std(a, axis=0).data, a.std(axis=0))


def test_var_with_ddof_as_large_as_the_count_is_nan_as_numpy():
    x = gk.Tensor([2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = x.var(ddof=1)
        (g,) = gk.grad(out, x)
    assert np.isnan(out.item()) and np.isnan(g.data).all()


def test_logsumexp_is_stable_for_large_values():
    x = gk.Tensor([[1e4, 1e4, 0.0], [-1e4, -1e4 - 1, -1e4 - 2], [3.0, -np.inf, 1.0]],
                  requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.logsumexp(axis=1)
        (g,) = gk.grad(out.sum(), x)
    np.testing.assert_allclose(
        out.data, [1e4 + np.log(2), -1e4 + np.log(1 + np.exp(-1) + np.exp(-2)),
                   3 + np.log(1 + np.exp(-2))], rtol=1e-15)
    shifted = np.exp(x.data - x.data.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g.data, shifted / shifted.sum(axis=1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(gk.F.logsumexp(x[0]).item(), 1e4 + np.log(2), rtol=1e-15)
    assert x.logsumexp(axis=(0, 1), keepdims=True).shape == (1, 1)


def test_logsumexp_of_infinite_slices():
    with np.errstate(invalid="ignore"):
        out = gk.F.logsumexp([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 0.0]], axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf, np.inf, 0.0])


# ----- cumsum ------------------------------------------------------------------------------------


@settings(max_examples=25)
@given(data=st.data())
def test_cumsum(data):
    shape = data.draw(gst.shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(gst.tensors(shape=shape))

    def f(t):
        return t.cumsum(axis)

    np.testing.assert_allclose(f(x).data, np.cumsum(x.data, axis=axis), rtol=1e-13)
    assert gradcheck(f, [x])
    assert_forward_mode(f, [x])
    assert_second_order(lambda t: f(t * t), [x])
    g = np.arange(x.size, dtype=float).reshape(shape)
    (grad,) = gk.grad(f(x), x, grad_outputs=g)
    reversed_sums = np.flip(np.cumsum(np.flip(g, axis), axis), axis)
    np.testing.assert_allclose(grad.data, reversed_sums)


def test_cumsum_needs_an_int_axis_and_keeps_float32():
    x = gk.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = gk.F.cumsum(x, axis=1)
    assert y.dtype == np.float32 and y.data.tolist() == [[1, 2, 3], [1, 2, 3]]
    with pytest.raises(TypeError, match="cumsum: axis must be an int"):
        gk.F.cumsum(x, None)
    with pytest.raises(AxisError):
        x.cumsum(2)


# ----- argmax and argmin -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@settings(max_examples=25)
@given(data=st.data())
def test_argmax_and_argmin_are_numpy_s(name, data):
    shape = data.draw(gst.shapes(min_dims=1, max_dims=3))
    x = data.draw(gst.tensors(shape=shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    keepdims = data.draw(st.booleans())
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(x.data, axis=axis, keepdims=keepdims)
    assert isinstance(out, np.ndarray | np.integer) and np.asarray(out).dtype.kind == "i"
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(getattr(gk.F, name)(x, axis=axis, keepdims=keepdims), out)


def test_argmax_takes_the_first_of_ties():
    x = gk.Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(x.argmax(axis=1), [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=1), [0, 2])
    assert gk.F.argmax([0.0, 5.0, 5.0]) == 1


def test_min_prod_var_std_logsumexp_cumsum_keep_float32():
    x = gk.Tensor(np.array([[1.0, 2.0], [3.0, 5.0]], np.float32), requires_grad=True)
    for y in (x.min(axis=0), x.prod(), x.var(axis=1), x.std(ddof=1), x.logsumexp(axis=1),
              x.cumsum(0)):
        assert y.dtype == np.float32
        (g,) = gk.grad(y.sum(), x)
        assert g.dtype == np.float32


@pytest.mark.parametrize("name", ["sum", "max", "min", "prod", "logsumexp"])
@pytest.mark.parametrize("axis", [0, -1])
def test_a_0d_reduction_over_axis_0_differentiates(name, axis):
    # NumPy accepts axis 0 (and -1) for a 0-d array; the backward must too.
    x = gk.Tensor(2.0, requires_grad=True)
    y = getattr(x, name)(axis=axis)
    assert y.item() == pytest.approx(2.0)
    y.backward()
    assert x.grad.item() == pytest.approx(1.0)
