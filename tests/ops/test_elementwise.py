"""exp log sqrt abs relu sigmoid tanh step and astype: values, gradchecks, kinks, stability."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit import ops
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


UNARY = {
    "exp": (lambda t: t.exp(), np.exp),
    "log": (lambda t: t.log(), np.log),
    "sqrt": (lambda t: t.sqrt(), np.sqrt),
    "abs": (lambda t: t.abs(), np.abs),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0.0)),
    "sigmoid": (lambda t: t.sigmoid(), _sigmoid),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "step": (gk.F.step, lambda a: (a > 0).astype(a.dtype)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=30)
@given(data=st.data())
def test_unary_ops(name, data):
    method, np_fn = UNARY[name]
    x = data.draw(gst.tensors(elements=gst.elements_for(name)))
    out = method(x)
    assert out.shape == x.shape
    assert out.dtype == x.dtype
    np.testing.assert_allclose(out.data, np_fn(x.data), rtol=1e-12, atol=1e-15)
    # The same op called from graphkit.ops directly.
    np.testing.assert_allclose(getattr(ops, name)(x).data, out.data)
    assert gradcheck(method, [x])


@pytest.mark.parametrize(
    ("method", "derivative", "positive"),
    [
        (lambda t: t.exp(), np.exp, False),
        (lambda t: t.log(), lambda a: 1 / a, True),
        (lambda t: t.sqrt(), lambda a: 0.5 / np.sqrt(a), True),
        (lambda t: t.abs(), np.sign, False),
        (lambda t: t.relu(), lambda a: (a > 0).astype(float), False),
        (lambda t: t.sigmoid(), lambda a: _sigmoid(a) * (1 - _sigmoid(a)), False),
        (lambda t: t.tanh(), lambda a: 1 - np.tanh(a) ** 2, False),
        (gk.F.step, np.zeros_like, False),
    ],
)
def test_closed_form_derivatives(method, derivative, positive):
    a = np.array([0.25, -0.5, 1.0, -2.5, 4.0])
    x = gk.Tensor(np.abs(a) if positive else a, requires_grad=True)
    g = np.array([1.0, 2.0, -1.0, 0.5, 3.0])
    method(x).backward(g)
    np.testing.assert_allclose(x.grad.data, g * derivative(x.data), rtol=1e-12)


def test_kinks_follow_pytorch():
    x = gk.Tensor([0.0, 0.0, 0.0, 0.0], requires_grad=True)
    for f in (lambda t: t.relu(), lambda t: t.abs(), gk.F.step, lambda t: t**2):
        x.zero_grad()
        f(x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0, 0.0])


def test_step_is_one_above_zero_and_has_zero_gradient():
    x = gk.Tensor([-2.0, -0.0, 0.0, 1e-300, 3.0], requires_grad=True)
    y = gk.F.step(x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.0, 1.0, 1.0])
    (y * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(5))


def test_sigmoid_is_stable_and_accurate_far_out():
    x = gk.Tensor([-1000.0, -700.0, -40.0, -20.0, 0.0, 20.0, 40.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        y = x.sigmoid()
        y.backward(np.ones(8))
    assert np.isfinite(y.data).all()
    assert y.data[0] == 0.0 and y.data[-1] == 1.0
    assert y.data[4] == 0.5
    # Far left, sigmoid(x) ~ exp(x): relative accuracy, not just "close to 0".
    np.testing.assert_allclose(
        y.data[1:4],
        np.exp([-700.0, -40.0, -20.0]) / (1 + np.exp([-700.0, -40.0, -20.0])),
        rtol=1e-12,
    )
    # Below exp's range (x < -709) the result, subnormal at best, is 0, as in PyTorch.
    assert gk.Tensor([-745.0, -720.0]).sigmoid().data.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(y.data, _sigmoid(x.data), rtol=1e-12, atol=0)
    assert np.isfinite(x.grad.data).all()
    assert x.grad.data[0] == 0.0 and x.grad.data[-1] == 0.0
    np.testing.assert_allclose(x.grad.data[4], 0.25)
    # log of it stays finite where it does not underflow.
    assert np.isfinite(x[2].sigmoid().log().data)
    np.testing.assert_allclose(x[2].sigmoid().log().data, -40.0, rtol=1e-12)


def test_sigmoid_is_symmetric():
    a = np.linspace(-30, 30, 61)
    s = gk.Tensor(a).sigmoid().data
    np.testing.assert_allclose(s + gk.Tensor(-a).sigmoid().data, 1.0, rtol=1e-15)


def test_tanh_saturates_without_nan():
    x = gk.Tensor([-1000.0, 1000.0], requires_grad=True)
    y = x.tanh()
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [-1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_log_and_sqrt_of_zero_follow_numpy():
    with np.errstate(divide="ignore"):
        assert gk.Tensor(0.0).log().item() == -np.inf
    assert gk.Tensor(0.0).sqrt().item() == 0.0


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh"])
def test_float32_in_float32_out(name):
    method, _ = UNARY[name]
    x = gk.Tensor(np.array([0.5, 1.5, 2.0], dtype=np.float32), requires_grad=True)
    y = method(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


# ----- astype ------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(gst.tensors())
def test_astype_round_trip_gradcheck(x):
    out = x.astype(np.float64)
    np.testing.assert_array_equal(out.data, x.data)
    assert gradcheck(lambda t: t.astype(np.float64) * t.astype("float64"), [x])


def test_astype_to_float32_and_back():
    x = gk.Tensor([0.1, 0.2, 0.3], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    assert y.grad_fn is not None and y.grad_fn.name == "cast"
    np.testing.assert_array_equal(y.data, x.data.astype(np.float32))
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, 2 * x.data, rtol=1e-6)


def test_astype_from_float32_grad_is_float32():
    x = gk.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64
    (y**2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


@given(gst.tensors(shape=(12,), elements=gst.values(-700.0, -8.0)))
def test_sigmoid_keeps_relative_precision_in_the_negative_tail(x):
    exact = np.exp(x.data) / (1 + np.exp(x.data))  # exact on this range: no overflow
    np.testing.assert_allclose(gk.F.sigmoid(x).data, exact, rtol=1e-12)
