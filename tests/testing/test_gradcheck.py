"""gk.testing.numerical_gradient and gk.testing.gradcheck."""

import re

import numpy as np
import pytest

import graphkit as gk
from graphkit.graph import Op
from graphkit.testing import GradcheckError, gradcheck, numerical_gradient


class BadSquare(Op):
    """x * x with a backward that forgets the factor 2."""

    __slots__ = ()

    def forward(self, x):
        return x * x

    def backward(self, gy, y, x):
        return gy * x


class BadMul(Op):
    """a * b whose gradient for b is wrong (it returns a + 1 instead of a)."""

    __slots__ = ()

    def forward(self, a, b):
        return a * b

    def backward(self, gy, y, a, b):
        return gy * b, gy * (a + 1)


class BadReverse(Op):
    """x[::-1] whose backward forgets to reverse: right for a sum, wrong for a Jacobian."""

    __slots__ = ()

    def forward(self, x):
        return x[::-1]

    def backward(self, gy, y, x):
        return gy


class SlightlyOff(Op):
    """2 x with a gradient off by 0.05 %."""

    __slots__ = ()

    def forward(self, x):
        return 2 * x

    def backward(self, gy, y, x):
        return gy * 2.001


NUMBER = r"(-?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"


def _values_in(message):
    """The analytic and the numerical value quoted in a GradcheckError message."""
    match = re.search(
        rf"analytic (?:np\.float64\()?{NUMBER}\)? vs numerical "
        rf"(?:np\.float64\()?{NUMBER}",
        message,
    )
    assert match, message
    return float(match.group(1)), float(match.group(2))


# ----- numerical_gradient ------------------------------------------------------------------------


def test_numerical_gradient_matches_known_gradients():
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]])
    np.testing.assert_allclose(numerical_gradient(lambda a: np.sum(a**2), x), 2 * x, atol=1e-8)
    np.testing.assert_allclose(
        numerical_gradient(lambda a: np.sum(np.sin(a)), x), np.cos(x), atol=1e-8
    )
    g = numerical_gradient(lambda a: a[0, 0] * a[1, 2], x)
    expected = np.zeros_like(x)
    expected[0, 0], expected[1, 2] = x[1, 2], x[0, 0]
    np.testing.assert_allclose(g, expected, atol=1e-10)


def test_numerical_gradient_is_central_differences_with_eps():
    # For x^3 the central difference is 3x^2 + eps^2 exactly; a one-sided one would differ.
    x = np.array([1.0, 2.0])
    g = numerical_gradient(lambda a: np.sum(a**3), x, eps=0.1)
    np.testing.assert_allclose(g, 3 * x**2 + 0.01, rtol=1e-10)


def test_numerical_gradient_perturbs_in_place_and_restores():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    seen = []

    def f(a):
        assert a is x  # perturbed in place, not copied
        seen.append(a.copy())
        return float(np.sum(a))

    g = numerical_gradient(f, x, eps=1e-3)
    assert len(seen) == 2 * x.size
    np.testing.assert_array_equal(x, before)
    # Each call saw exactly one element moved by +-eps.
    moved = [np.flatnonzero(s != before) for s in seen]
    assert all(len(m) == 1 for m in moved)
    np.testing.assert_allclose(sorted(abs(s - before).sum() for s in seen), [1e-3] * 6)
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 1.0)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])
    before = x.copy()

    def f(a):
        if a[0] < 1.0:
            raise ArithmeticError("no")
        return float(a.sum())

    with pytest.raises(ArithmeticError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_a_0d_array():
    x = np.array(2.0)
    g = numerical_gradient(lambda a: float(a**2), x)
    assert g.shape == ()
    assert g == pytest.approx(4.0)
    assert x == 2.0


def test_numerical_gradient_needs_an_array_it_can_perturb():
    x = np.arange(6.0).reshape(2, 3).T  # not contiguous: reshape(-1) would copy
    with pytest.raises(ValueError):
        numerical_gradient(lambda a: float(a.sum()), x)


# ----- gradcheck ---------------------------------------------------------------------------------


def test_gradcheck_passes_correct_ops():
    x = gk.Tensor([[0.5, -1.2], [2.0, 0.3]], requires_grad=True)
    w = gk.Tensor([[1.5, -0.5], [0.2, 0.1]], requires_grad=True)
    assert gradcheck(lambda a: (a * a).sum(), [x]) is True
    assert gradcheck(lambda a, b: (a @ b).tanh(), [x, w]) is True
    assert gradcheck(lambda a: a.exp(), x) is True  # a single Tensor instead of a list


def test_gradcheck_with_non_scalar_outputs():
    x = gk.Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    assert gradcheck(lambda a: a.sigmoid() * a, [x])
    assert gradcheck(lambda a: a[::-1], [gk.Tensor([1.0, 2.0, 3.0], requires_grad=True)])


def test_gradcheck_skips_constants_and_frozen_tensors():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    frozen = gk.Tensor([3.0, 4.0])
    assert gradcheck(lambda a, b, c: a * b * c, [x, frozen, 2.0])


def test_gradcheck_leaves_inputs_and_grads_alone():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    before = x.data.copy()
    gradcheck(lambda a: a**3, [x])
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_gradcheck_catches_a_wrong_op_and_names_the_input_index_and_values():
    x = gk.Tensor([1.5, -2.0, 3.0], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(BadSquare.apply, [x])
    message = str(info.value)
    assert "input 0" in message
    assert "index (0,)" in message
    analytic, numeric = _values_in(message)
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)  # the missing factor 2
    assert analytic != 0


def test_gradcheck_names_the_second_input():
    a = gk.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = gk.Tensor([[0.5, 0.5], [0.5, 0.5]], requires_grad=True, name="bias")
    with pytest.raises(GradcheckError) as info:
        gradcheck(BadMul.apply, [a, b])
    message = str(info.value)
    assert "input 1" in message and "bias" in message
    assert "index (0, 0)" in message
    analytic, numeric = _values_in(message)
    assert analytic != pytest.approx(numeric)


def test_gradcheck_checks_the_whole_jacobian_not_just_the_sum():
    x = gk.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    # BadReverse's gradient of sum(y) is right, so only a projection that is not all
    # ones can see that its Jacobian is wrong.
    y = BadReverse.apply(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(4))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(BadReverse.apply, [x])


def test_gradcheck_catches_a_function_that_drops_the_graph():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: a.detach() * 3, [x])
    # A function that truly does not depend on its input passes: both gradients are 0.
    assert gradcheck(lambda a: gk.Tensor([1.0, 2.0]) * 3, [x])


def test_gradcheck_tolerances():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    assert gradcheck(SlightlyOff.apply, [x])  # within the default rtol of 1e-3
    with pytest.raises(GradcheckError):
        gradcheck(SlightlyOff.apply, [x], atol=1e-8, rtol=1e-5)
    assert gradcheck(SlightlyOff.apply, [x], atol=1e-2, rtol=0.0)


def test_gradcheck_argument_errors():
    with pytest.raises(ValueError):
        gradcheck(lambda a: a * 2, [gk.Tensor([1.0])])  # nothing requires grad
    with pytest.raises(TypeError):
        gradcheck(lambda a: a.data * 2, [gk.Tensor([1.0], requires_grad=True)])


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)
    assert gk.testing.GradcheckError is GradcheckError
    assert gk.testing.gradcheck is gradcheck
    assert gk.testing.numerical_gradient is numerical_gradient
