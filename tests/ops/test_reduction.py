"""sum, mean, max over axis None / int / tuple / negative, with and without keepdims."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.backend import AxisError
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
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=40)
@given(data=st.data())
def test_reductions(name, data):
    method, np_fn = REDUCTIONS[name]
    shape = data.draw(gst.shapes(max_dims=3))
    # max needs distinct elements: ties make it non-differentiable.
    x = data.draw(gst.distinct_tensors(shape=shape) if name == "max" else gst.tensors(shape=shape))
    axis = data.draw(axes_for(len(shape)))
    keepdims = data.draw(st.booleans())
    out = method(x, axis=axis, keepdims=keepdims)
    expected = np_fn(x.data, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda t: method(t, axis=axis, keepdims=keepdims), [x])


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
