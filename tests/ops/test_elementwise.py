"""The elementwise ops (exp log sqrt abs relu sigmoid tanh step astype, the activations
leaky_relu elu gelu silu softplus, sin cos log1p expm1 square sign erf clip): values against
closed forms, gradients, forward mode, second derivatives, kinks, stability, float32."""

import math
import warnings

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit import ops
from graphkit.func import jvp
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _gelu(a):
    return a * 0.5 * (1 + _erf(a / np.sqrt(2)))


UNARY = {
    "exp": (lambda t: t.exp(), np.exp),
    "log": (lambda t: t.log(), np.log),
    "sqrt": (lambda t: t.sqrt(), np.sqrt),
    "abs": (lambda t: t.abs(), np.abs),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0.0)),
    "sigmoid": (lambda t: t.sigmoid(), _sigmoid),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "step": (gk.F.step, lambda a: (a > 0).astype(a.dtype)),
    "leaky_relu": (gk.F.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a)),
    "elu": (gk.F.elu, lambda a: np.where(a > 0, a, np.expm1(a))),
    "gelu": (gk.F.gelu, _gelu),
    "silu": (gk.F.silu, lambda a: a * _sigmoid(a)),
    "softplus": (gk.F.softplus, lambda a: np.log1p(np.exp(a))),
    "sin": (lambda t: t.sin(), np.sin),
    "cos": (lambda t: t.cos(), np.cos),
    "log1p": (lambda t: t.log1p(), np.log1p),
    "expm1": (lambda t: t.expm1(), np.expm1),
    "square": (lambda t: t.square(), np.square),
    "sign": (lambda t: t.sign(), np.sign),
    "erf": (lambda t: t.erf(), _erf),
    "clip": (lambda t: t.clip(-1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0)),
}
#: The arguments each op takes beside its input, where it needs some.
PARAMS = {"clip": {"min": -1.0, "max": 1.0}}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=20)
@given(data=st.data())
def test_unary_ops(name, data):
    method, np_fn = UNARY[name]
    x = data.draw(gst.tensors(elements=gst.elements_for(name)))
    out = method(x)
    assert out.shape == x.shape
    assert out.dtype == x.dtype
    np.testing.assert_allclose(out.data, np_fn(x.data), rtol=1e-12, atol=1e-15)
    # The same op called from graphkit.ops directly, on the Tensor and on its array.
    np.testing.assert_allclose(getattr(ops, name)(x, **PARAMS.get(name, {})).data, out.data)
    on_array = getattr(ops, name)(x.data, **PARAMS.get(name, {}))
    assert isinstance(on_array, np.ndarray | np.generic)
    np.testing.assert_array_equal(on_array, out.data)
    assert gradcheck(method, [x])
    assert_forward_mode(method, [x])
    assert_second_order(method, [x])


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
        (gk.F.leaky_relu, lambda a: np.where(a > 0, 1.0, 0.01), False),
        (lambda t: gk.F.leaky_relu(t, negative_slope=0.2), lambda a: np.where(a > 0, 1.0, 0.2),
         False),
        (gk.F.elu, lambda a: np.where(a > 0, 1.0, np.exp(a)), False),
        (lambda t: gk.F.elu(t, alpha=2.0), lambda a: np.where(a > 0, 1.0, 2 * np.exp(a)), False),
        (gk.F.gelu, lambda a: 0.5 * (1 + _erf(a / np.sqrt(2))) + a * np.exp(-a * a / 2)
         / np.sqrt(2 * np.pi), False),
        (gk.F.silu, lambda a: _sigmoid(a) * (1 + a * (1 - _sigmoid(a))), False),
        (gk.F.softplus, _sigmoid, False),
        (gk.F.sin, np.cos, False),
        (gk.F.cos, lambda a: -np.sin(a), False),
        (gk.F.log1p, lambda a: 1 / (1 + a), False),
        (gk.F.expm1, np.exp, False),
        (gk.F.square, lambda a: 2 * a, False),
        (gk.F.sign, np.zeros_like, False),
        (gk.F.erf, lambda a: 2 / np.sqrt(np.pi) * np.exp(-a * a), False),
        (lambda t: gk.F.clip(t, -1.0, 2.0), lambda a: ((a >= -1) & (a <= 2)).astype(float), False),
    ],
)
def test_closed_form_derivatives(method, derivative, positive):
    a = np.array([0.25, -0.5, 1.0, -0.9, 3.0, -0.75])  # log1p needs a > -1
    x = gk.Tensor(np.abs(a) if positive else a, requires_grad=True)
    g = np.array([1.0, 2.0, -1.0, 0.5, 3.0, -2.0])
    method(x).backward(g)
    np.testing.assert_allclose(x.grad.data, g * derivative(x.data), rtol=1e-12, atol=1e-15)


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


@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_in_float32_out(name):
    fn, _ = UNARY[name]
    a = np.array([0.5, -0.75, 2.0], dtype=np.float32)
    x = gk.Tensor(np.abs(a) if name in ("log", "sqrt") else a, requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    (g,) = gk.grad(y.sum(), x)
    assert g.dtype == np.float32
    _, tangent = jvp(fn, (x,), (np.ones(3, np.float32),))
    assert tangent.dtype == np.float32
    scalar = fn(gk.Tensor(np.float32(0.5)))
    assert scalar.dtype == np.float32 and scalar.shape == ()


# ----- astype ------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(gst.tensors())
def test_astype_round_trip(x):
    out = x.astype(np.float64)
    np.testing.assert_array_equal(out.data, x.data)

    def f(t):
        return t.astype(np.float64) * t.astype("float64")

    assert gradcheck(f, [x])
    assert_forward_mode(f, [x])
    assert_second_order(f, [x])
    # To float32 (where differences cannot resolve eps): the tangent is the cast tangent.
    v = np.linspace(-1, 1, x.size).reshape(x.shape)
    out, tangent = jvp(lambda t: (t * t).astype(np.float32), (x,), (v,))
    assert out.dtype == tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent.data, (2 * x.data * v).astype(np.float32))


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


# ----- the activations' parameters, kinks, stability --------------------------------------------


@settings(max_examples=15)
@given(x=gst.tensors(elements=gst.away_from_zero()), slope=gst.values(-1.0, 1.0))
def test_leaky_relu_and_elu_take_their_parameter(x, slope):
    def leaky(t):
        return gk.F.leaky_relu(t, negative_slope=slope)

    np.testing.assert_allclose(leaky(x).data, np.where(x.data > 0, x.data, slope * x.data))
    assert gradcheck(leaky, [x])
    alpha = abs(slope) + 0.5

    def elu(t):
        return gk.F.elu(t, alpha=alpha)

    np.testing.assert_allclose(elu(x).data, np.where(x.data > 0, x.data, alpha * np.expm1(x.data)))
    assert gradcheck(elu, [x])
    assert_forward_mode(elu, [x])
    assert_second_order(elu, [x])


def test_kinks_of_the_new_ops_follow_pytorch():
    x = gk.Tensor([0.0, 0.0], requires_grad=True)
    # leaky_relu'(0) is the negative slope (PyTorch: x > 0 ? 1 : slope); elu'(0) is alpha.
    (g,) = gk.grad(gk.F.leaky_relu(x, negative_slope=0.1).sum(), x)
    np.testing.assert_array_equal(g.data, [0.1, 0.1])
    (g,) = gk.grad(gk.F.elu(x, alpha=2.0).sum(), x)
    np.testing.assert_array_equal(g.data, [2.0, 2.0])
    (g,) = gk.grad(gk.F.sign(x).sum(), x)
    np.testing.assert_array_equal(g.data, [0.0, 0.0])
    (g,) = gk.grad(gk.F.gelu(x).sum(), x)
    np.testing.assert_array_equal(g.data, [0.5, 0.5])


def test_clip_gradient_is_one_at_the_bounds_and_zero_outside():
    x = gk.Tensor([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5], requires_grad=True)
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.data, [-1.0, -1.0, -0.5, 0.0, 1.0, 1.0])
    (g,) = gk.grad(y.sum(), x)
    np.testing.assert_array_equal(g.data, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    (g,) = gk.grad(x.clamp(min=0.0).sum(), x)  # one bound: the other side is open
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    (g,) = gk.grad(gk.F.clip(x, max=-1.0).sum(), x)
    np.testing.assert_array_equal(g.data, [1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    # min > max: every element is max and no gradient gets through, as torch.clamp.
    z = gk.F.clip(x, 1.0, -1.0)
    np.testing.assert_array_equal(z.data, np.full(6, -1.0))
    (g,) = gk.grad(z.sum(), x)
    np.testing.assert_array_equal(g.data, np.zeros(6))


def test_clip_errors_name_the_op():
    x = gk.Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="clip: give at least one of min and max"):
        gk.F.clip(x)
    with pytest.raises(TypeError, match=r"clip: min must be a number.*maximum"):
        x.clip(gk.Tensor([0.0, 0.0]))
    with pytest.raises(TypeError, match="clip: max"):
        gk.F.clip(x, 0.0, np.array([1.0, 2.0]))
    assert gk.F.clip(x, np.float32(1.5)).data.tolist() == [1.5, 2.0]


def test_erf_is_exact_to_double_precision():
    a = np.concatenate([np.linspace(-7, 7, 20001), [0.46875, -0.46875, 4.0, -4.0, 1e-300, 27.0]])
    np.testing.assert_allclose(gk.F.erf(a).data, _erf(a), rtol=1e-15, atol=0)
    special = gk.F.erf([np.inf, -np.inf, -0.0, np.nan]).data
    assert special[0] == 1.0 and special[1] == -1.0 and np.isnan(special[3])
    assert special[2] == 0.0 and np.signbit(special[2])


def test_gelu_far_out_and_its_second_derivative():
    x = gk.Tensor([-40.0, -8.0, 8.0, 40.0], requires_grad=True)
    y = gk.F.gelu(x)
    np.testing.assert_allclose(y.data, _gelu(x.data), rtol=1e-12, atol=1e-300)
    assert y.data[-1] == 40.0 and y.data[0] == 0.0
    # gelu'' = φ(x) (2 - x²), through create_graph.
    a = np.array([-1.5, -0.3, 0.0, 0.7, 2.0])
    t = gk.Tensor(a, requires_grad=True)
    (g,) = gk.grad(gk.F.gelu(t).sum(), t, create_graph=True)
    (h,) = gk.grad(g.sum(), t)
    np.testing.assert_allclose(h.data, np.exp(-a * a / 2) / np.sqrt(2 * np.pi) * (2 - a * a),
                               rtol=1e-12)


def test_softplus_is_stable_far_out():
    x = gk.Tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = gk.F.softplus(x)
        (g,) = gk.grad(y.sum(), x)
    np.testing.assert_allclose(y.data, [0.0, np.exp(-50.0), np.log(2), 50.0, 1000.0], rtol=1e-15)
    np.testing.assert_allclose(g.data, _sigmoid(x.data), rtol=1e-15)


def test_log1p_and_expm1_keep_small_arguments_exact():
    tiny = gk.Tensor([1e-18, -1e-12, 3e-10])
    np.testing.assert_allclose(tiny.log1p().data, np.log1p(tiny.data), rtol=1e-15)
    np.testing.assert_allclose(tiny.expm1().data, tiny.data, rtol=1e-9)
    assert tiny.log1p().data[0] == 1e-18 and tiny.expm1().data[0] == 1e-18


def test_elu_does_not_overflow_on_the_branch_it_drops():
    x = gk.Tensor([1000.0, -1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = gk.F.elu(x)
        (g,) = gk.grad(y.sum(), x)
    np.testing.assert_array_equal(y.data, [1000.0, -1.0])
    np.testing.assert_array_equal(g.data, [1.0, 0.0])
