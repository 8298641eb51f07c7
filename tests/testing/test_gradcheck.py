"""gk.testing.numerical_gradient, gradcheck and gradgradcheck: messages, kinks, forward mode."""

import re

import numpy as np
import pytest

import graphkit as gk
from graphkit.graph import Op
from graphkit.tensor import array_of
from graphkit.testing import (
    GradcheckError,
    NotDifferentiableError,
    gradcheck,
    gradgradcheck,
    numerical_gradient,
)


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
    """The analytic and the numerical value quoted in a GradcheckError message, which
    must be plain numbers (not NumPy reprs)."""
    match = re.search(rf"analytic {NUMBER} vs numerical {NUMBER}", message)
    assert match, message
    assert "np." not in message, message
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


# ----- what the error says -----------------------------------------------------------------------


def test_the_message_gives_the_derivative_itself_as_plain_numbers():
    # t[2] * t[2].detach() has derivative t[2] = 1.5 by backprop, 2 t[2] = 3 in truth.
    t = gk.Tensor([0.7, -0.4, 1.5], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: (t[0:2] ** 2).sum() + t[2] * t[2].detach(), [t])
    message = str(info.value)
    assert "input 0" in message and "index (2,)" in message
    assert "analytic 1.5 vs numerical 3.0" in message
    assert "output" not in message  # a scalar output has no element to name
    assert _values_in(message) == (1.5, 3.0)


def test_a_non_scalar_output_names_the_output_element():
    # Output element (1, 0) is x[1] * x[1].detach(): d/dx[1] is 2 x[1], backprop says x[1].
    x = gk.Tensor([0.5, 2.0, -1.0], requires_grad=True)

    def fn(x):
        return gk.stack([x * 3, x * x.detach() + x[0]], axis=0).reshape(2, 3)

    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, [x])
    message = str(info.value)
    assert "index (0,), output element (1, 0)" in message
    assert _values_in(message) == (2.0, 2.0 * 0.5 + 1.0) or "analytic" in message
    analytic, numeric = _values_in(message)
    assert (analytic, numeric) == (1.5, 2.0)  # x[0] + 1 vs 2 x[0] + 1


def test_the_failing_jacobian_entry_is_located_exactly():
    # BadReverse's Jacobian is the identity where it should be the reversal: with four
    # elements, entry (output 1, input 2) should be 1 and is 0.
    x = gk.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(BadReverse.apply, [x])
    message = str(info.value)
    assert "index (0,), output element (0,)" in message  # d y[0]/d x[0]: 1 vs 0
    assert _values_in(message) == (1.0, 0.0)
    assert "4 of 4 elements off" in message


def test_a_tuple_of_outputs_names_which_output():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"output 1 element \(0,\)"):
        gradcheck(lambda a: (a * 2, BadSquare.apply(a)), [x])
    assert gradcheck(lambda a: (a * 2, a.exp()), [x])


# ----- kinks -------------------------------------------------------------------------------------


class SortOp(Op):
    """x sorted: at a tie, a nudge swaps which element lands where."""

    __slots__ = ()

    def forward(self, x):
        self.saved = np.argsort(x, kind="stable")
        return x[self.saved]

    def backward(self, gy, y, x):
        return gk.ops.scatter_add(gy, shape=array_of(x).shape, index=self.saved)


@pytest.mark.parametrize(
    ("fn", "values"),
    [
        (gk.F.relu, [1.0, 0.0, -2.0]),
        (lambda x: x.abs(), [0.0, 1.0]),  # abs'(0) = 0 agrees with the central difference
        (lambda x: x.max(), [1.0, 3.0, 3.0]),  # a tie for the maximum
        (lambda x: gk.F.maximum(x[0], x[1]), [2.0, 2.0]),  # maximum's tie
        (lambda x: gk.F.max_pool2d(x.reshape(1, 1, 2, 2), 2), [0.5, 0.5, -1.0, 0.2]),
        (SortOp.apply, [1.0, 1.0, 0.0]),  # a sort that swaps
        (gk.F.step, [0.0, 1.0]),  # a jump, not just a corner
    ],
    ids=["relu", "abs", "max", "maximum", "max_pool", "sort", "step"],
)
def test_a_kink_is_reported_as_not_differentiable(fn, values):
    x = gk.Tensor(values, requires_grad=True)
    with pytest.raises(NotDifferentiableError) as info:
        gradcheck(fn, [x])
    message = str(info.value)
    assert "not differentiable" in message
    assert "input 0" in message and "from below" in message and "from above" in message
    assert isinstance(info.value, GradcheckError)


def test_a_jump_the_same_on_both_sides_is_not_differentiable():
    # sign at 0 jumps by 1 each way: the one-sided differences agree (1 / eps both), but
    # the central difference grows as the step shrinks.
    with pytest.raises(NotDifferentiableError, match="do not settle") as info:
        gradcheck(gk.F.sign, [gk.Tensor([1.0, 0.0], requires_grad=True)])
    assert "index (1,) (value 0.0)" in str(info.value)
    assert gradcheck(gk.F.sign, [gk.Tensor([1.0, -0.5], requires_grad=True)])


def test_the_kink_message_names_the_element_and_both_one_sided_derivatives():
    x = gk.Tensor([1.0, 0.0, -2.0], requires_grad=True)
    with pytest.raises(NotDifferentiableError) as info:
        gradcheck(gk.F.relu, [x])
    message = str(info.value)
    assert "index (1,) (value 0.0)" in message
    assert "output element (1,)" in message
    assert "0.0 from below and 1.0 from above" in message


@pytest.mark.parametrize(
    ("fn", "values"),
    [
        (lambda x: (10 * x * x).sum(), [0.0, 1e-3]),  # curvature 20 where the slope is ~0
        (lambda x: (x**4 * 50).sum(), [0.01, -0.02]),
        (lambda x: 1 / x, [0.05, 0.1]),  # a pole nearby, but not within eps
        (lambda x: x.exp(), [8.0, -3.0]),
        (gk.F.relu, [1e-3, -1e-3]),  # near the kink, but further than eps from it
        (lambda x: x.max(), [1.0, 1.0 + 1e-4]),  # nearly tied
    ],
)
def test_smooth_points_are_not_mistaken_for_kinks(fn, values):
    assert gradcheck(fn, [gk.Tensor(values, requires_grad=True)], check_forward_ad=True)


def test_a_point_where_fn_is_not_finite_nearby_is_not_differentiable():
    with pytest.raises(NotDifferentiableError, match="not finite"):
        gradcheck(lambda x: x.sqrt(), [gk.Tensor([4.0, 1e-7], requires_grad=True)])
    with pytest.raises(NotDifferentiableError, match=r"output element \(0,\) is -inf at this"):
        gradcheck(lambda x: x.log(), [gk.Tensor([0.0, 1.0], requires_grad=True)])


def test_eps_too_small_for_float32_says_so():
    x = gk.Tensor(np.array([1e4], dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda a: a * 2, [x])


def test_gradcheck_records_the_graph_even_under_no_grad():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        assert gradcheck(lambda a: a.tanh(), [x])


# ----- forward mode ------------------------------------------------------------------------------


class WrongJvpSquare(Op):
    """x * x with the right backward and a jvp that forgets the factor 2."""

    __slots__ = ()

    def forward(self, x):
        return x * x

    def backward(self, gy, y, x):
        return gy * 2 * x

    def jvp(self, dxs, y, x):
        return dxs[0] * x


def test_check_forward_ad_passes_correct_ops():
    x = gk.Tensor([[0.5, -1.2], [2.0, 0.3]], requires_grad=True)
    w = gk.Tensor([[1.5, -0.5], [0.2, 0.1]], requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh() * a, [x, w], check_forward_ad=True)
    assert gradcheck(lambda a: gk.F.softmax(a, axis=0), [x], check_forward_ad=True)


def test_check_forward_ad_catches_a_wrong_jvp_and_names_the_entry():
    x = gk.Tensor([1.5, -2.0], requires_grad=True)
    assert gradcheck(WrongJvpSquare.apply, [x])  # reverse mode alone is right
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongJvpSquare.apply, [x], check_forward_ad=True)
    message = str(info.value)
    assert "forward mode" in message
    assert "index (0,), output element (0,)" in message
    assert _values_in(message) == (1.5, 3.0)


def test_check_forward_ad_on_an_op_without_jvp_names_it():
    with pytest.raises(RuntimeError, match="BadSquare defines no jvp"):
        gradcheck(BadSquare.apply, [gk.Tensor([1.0], requires_grad=True)], atol=10,
                  check_forward_ad=True)


# ----- gradgradcheck -----------------------------------------------------------------------------


class DetachedSquare(Op):
    """x * x whose backward reads x as an array: right first derivative, and a second
    derivative of 0, since nothing records how the gradient depends on x."""

    __slots__ = ()

    def forward(self, x):
        return x * x

    def backward(self, gy, y, x):
        return gy * 2 * array_of(x)


def test_gradgradcheck_passes_correct_ops():
    x = gk.Tensor([[0.5, -1.2], [2.0, 0.3]], requires_grad=True)
    w = gk.Tensor([[1.5, -0.5], [0.2, 0.1]], requires_grad=True)
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), [x, w])
    assert gradgradcheck(lambda a: (a.sigmoid() * a).sum(), x)
    assert gradgradcheck(lambda a: a * 3, [x])  # linear: a second derivative of 0


def test_gradgradcheck_catches_a_backward_that_cuts_the_graph():
    x = gk.Tensor([1.5, -2.0], requires_grad=True)
    assert gradcheck(DetachedSquare.apply, [x])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(DetachedSquare.apply, [x])
    message = str(info.value)
    assert message.startswith("gradgradcheck: ")
    assert "the gradient of input 0 element (0,)" in message
    analytic, numeric = _values_in(message)
    assert analytic == 0.0 and numeric > 1.0  # d(2 v x)/dx = 2 v, v the cotangent


def test_gradgradcheck_checks_the_derivative_in_the_cotangent_too():
    class DetachedCotangent(Op):  # 2 x, its backward reading gy as an array
        __slots__ = ()

        def forward(self, x):
            return 2 * x

        def backward(self, gy, y, x):
            return array_of(gy) * 2

    x = gk.Tensor([1.0, -0.5], requires_grad=True)
    assert gradcheck(DetachedCotangent.apply, [x])
    with pytest.raises(GradcheckError, match=r"with respect to|grad_outputs") as info:
        gradgradcheck(DetachedCotangent.apply, [x])
    assert "grad_outputs, shape (2,), index (0,)" in str(info.value)
    assert _values_in(str(info.value)) == (0.0, 2.0)


def test_gradgradcheck_reports_a_kink_of_the_gradient():
    # |x| x is smooth once (derivative 2|x|) but its gradient has a corner at 0.
    with pytest.raises(NotDifferentiableError, match="not differentiable"):
        gradgradcheck(lambda a: a.abs() * a, [gk.Tensor([0.0, 1.0], requires_grad=True)])
    assert gradcheck(lambda a: a.abs() * a, [gk.Tensor([0.0, 1.0], requires_grad=True)])


def test_gradgradcheck_is_public():
    assert gk.testing.gradgradcheck is gradgradcheck
    assert gk.testing.NotDifferentiableError is NotDifferentiableError


@pytest.mark.parametrize("distance", [4.2e-7, 2e-7, 5e-8, 1e-8])
def test_a_kink_just_within_eps_is_stepped_over(distance):
    # relu at a point closer to its kink than eps: the central difference at eps straddles
    # the kink, a smaller step does not.
    for x in (distance, -distance):
        assert gradcheck(gk.F.relu, [gk.Tensor([x, 1.0], requires_grad=True)])
        assert gradcheck(lambda a: gk.F.maximum(a[0], a[1]),
                         [gk.Tensor([1.0, 1.0 + x], requires_grad=True)])


def test_the_function_may_use_its_inputs_without_taking_them():
    # As a model uses its parameters: the check moves them in place, for every call.
    x = gk.Tensor([[0.5, -1.0], [2.0, 0.3]])
    w = gk.Tensor([[1.5, -0.5], [0.2, 0.1]], requires_grad=True)
    assert gradcheck(lambda *_: (x @ w).tanh(), [w])
    assert gradgradcheck(lambda *_: (x @ w).tanh(), [w])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda *_: BadSquare.apply(w), [w])


def test_the_inputs_arrays_are_never_written_to():
    # The moves go into copies swapped in and out, so arrays a graph saved stay as they were.
    data = np.array([0.3, -1.2, 2.0])
    data.flags.writeable = False
    x = gk.Tensor(data, requires_grad=True)
    assert gradcheck(lambda a: a.sigmoid() * a, [x], check_forward_ad=True)
    assert gradgradcheck(lambda a: a.sigmoid() * a, [x])
    assert x.data is data
