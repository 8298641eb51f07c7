"""gk.functional (gk.F): what the wrappers accept and return; linear."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

F = gk.F


def test_F_is_functional():
    assert gk.F is gk.functional
    for name in (
        "relu",
        "sigmoid",
        "tanh",
        "step",
        "softmax",
        "log_softmax",
        "linear",
        "mse",
        "mae",
        "softmax_cross_entropy",
    ):
        assert callable(getattr(gk.F, name)), name


ACTIVATIONS = {
    "relu": (F.relu, lambda a: np.maximum(a, 0)),
    "sigmoid": (F.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (F.tanh, np.tanh),
    "step": (F.step, lambda a: (a > 0).astype(float)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("kind", ["tensor", "ndarray", "list", "scalar"])
def test_activations_accept_tensors_arrays_and_lists(name, kind):
    fn, np_fn = ACTIVATIONS[name]
    values = [[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]]
    x = {
        "tensor": gk.Tensor(values),
        "ndarray": np.array(values),
        "list": values,
        "scalar": 0.5,
    }[kind]
    out = fn(x)
    assert isinstance(out, gk.Tensor)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, np_fn(np.asarray(values if kind != "scalar" else 0.5)))
    assert out.grad_fn is None  # nothing required grad


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_are_differentiable_on_tensors(name):
    fn, _ = ACTIVATIONS[name]
    x = gk.Tensor([-1.5, -0.5, 0.5, 2.0], requires_grad=True)
    assert gradcheck(fn, [x])
    assert fn(x).grad_fn is not None


def test_step_gradient_is_zero_and_values_are_zero_or_one():
    x = gk.Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = F.step(x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 1.0])
    y.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))


def test_softmax_functions_accept_lists():
    p = F.softmax([1.0, 2.0, 3.0])
    assert isinstance(p, gk.Tensor)
    np.testing.assert_allclose(p.data.sum(), 1.0)
    lp = F.log_softmax([[1.0, 2.0], [3.0, 3.0]], axis=0)
    np.testing.assert_allclose(np.exp(lp.data).sum(axis=0), [1.0, 1.0])


# ----- linear ------------------------------------------------------------------------------------


@st.composite
def linear_inputs(draw):
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(gst.shapes(min_dims=0, max_dims=2))
    x = draw(gst.tensors(shape=(*batch, n_in)))
    W = draw(gst.tensors(shape=(n_in, n_out)))
    b = draw(gst.tensors(shape=(n_out,)))
    return x, W, b


@settings(max_examples=40)
@given(linear_inputs())
def test_linear(inputs):
    x, W, b = inputs
    out = F.linear(x, W, b)
    np.testing.assert_allclose(out.data, x.data @ W.data + b.data, atol=1e-12)
    assert out.shape == (*x.shape[:-1], W.shape[1])
    assert gradcheck(F.linear, [x, W, b])
    no_bias = F.linear(x, W)
    np.testing.assert_allclose(no_bias.data, x.data @ W.data, atol=1e-12)
    assert gradcheck(F.linear, [x, W])


def test_linear_closed_form_and_constant_inputs():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (B=2, in=3)
    W = gk.Tensor(np.ones((3, 2)), requires_grad=True)  # (in, out)
    b = gk.Tensor(np.zeros(2), requires_grad=True)
    y = F.linear(x, W, b)
    assert isinstance(y, gk.Tensor)
    y.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(W.grad.data, x.T @ np.ones((2, 2)))
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0])
    # W and b may be plain arrays too.
    z = F.linear(gk.Tensor(x), np.ones((3, 2)), np.array([1.0, -1.0]))
    np.testing.assert_array_equal(z.data, x @ np.ones((3, 2)) + [1.0, -1.0])


def test_linear_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="linear"):
        F.linear(np.ones((2, 3)), gk.Tensor(np.ones((2, 3))))


def test_losses_accept_lists_and_arrays():
    assert isinstance(F.mse([1.0, 2.0], [1.0, 0.0]), gk.Tensor)
    assert F.mse([1.0, 2.0], np.array([1.0, 0.0])).item() == 2.0
    assert F.mae(np.array([1.0, 2.0]), [1.0, 0.0]).item() == 1.0
