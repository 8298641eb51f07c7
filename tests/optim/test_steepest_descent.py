import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphkit.optim import OptimizeResult, steepest_descent
from graphkit.optim.line_search import directional_derivatives, exact_line_search


def _quadratic(A: np.ndarray, b: np.ndarray | None = None):
    """f(x) = 1/2 x^T A x + b^T x, written with graphkit ops."""

    def f(x):
        value = 0.5 * (x @ (A @ x))
        return value if b is None else value + (x * b).sum()

    return f


def _closed_form_path(A, x0, tol):
    """Exact steepest descent on 1/2 x^T A x: t_k = g.g / g.A.g, x_{k+1} = x_k - t_k g."""
    path = [np.asarray(x0, dtype=float)]
    while np.linalg.norm(g := A @ path[-1]) > tol:
        path.append(path[-1] - (g @ g) / (g @ A @ g) * g)
    return path


def _rosenbrock(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def _quartic_exp(x):
    return x[0] ** 4 + x[1] ** 2 + x[0].exp()


def _quartic_exp_gradient(x):
    return np.array([4 * x[0] ** 3 + np.exp(x[0]), 2 * x[1]])


def test_path_on_2x1_sq_plus_x2_sq_is_the_closed_form_path():
    A = np.diag([4.0, 2.0])  # f = 2 x1^2 + x2^2 = 1/2 x^T A x
    result = steepest_descent(lambda x: 2 * x[0] ** 2 + x[1] ** 2, (1.0, 1.0), tol=0.1)
    expected = _closed_form_path(A, [1.0, 1.0], tol=0.1)
    assert len(result.path) == len(expected)
    for got, want in zip(result.path, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    assert result.n_iter == len(result.path) - 1
    assert result.converged
    assert result.grad_norm <= 0.1 < np.linalg.norm(A @ result.path[-2])
    np.testing.assert_array_equal(result.x, result.path[-1])
    assert result.fun == pytest.approx(2 * result.x[0] ** 2 + result.x[1] ** 2, rel=1e-15)


@st.composite
def _spd_quadratics(draw):
    n = draw(st.integers(1, 4))
    square = hnp.arrays(np.float64, (n, n), elements=st.floats(-1, 1))
    M = draw(square)
    eigenvalue_floor = draw(st.floats(0.1, 2.0))
    A = M @ M.T + eigenvalue_floor * np.eye(n)
    vectors = hnp.arrays(np.float64, n, elements=st.floats(-3, 3))
    return A, draw(vectors), draw(vectors)


@settings(max_examples=40, deadline=None)
@given(_spd_quadratics())
def test_each_exact_step_on_a_spd_quadratic_is_the_closed_form_step(problem):
    A, b, x0 = problem
    result = steepest_descent(_quadratic(A, b), x0, tol=1e-8, max_iter=30)
    for x, x_next in zip(result.path, result.path[1:]):
        g = A @ x + b
        expected = x - (g @ g) / (g @ A @ g) * g
        np.testing.assert_allclose(x_next, expected, rtol=1e-10, atol=1e-12)
    assert result.converged or result.n_iter == 30
    np.testing.assert_allclose(result.grad_norm, np.linalg.norm(A @ result.x + b), atol=1e-14)


def test_exact_line_search_zeroes_the_slope_on_a_non_quadratic():
    result = steepest_descent(_quartic_exp, [1.0, 1.0], tol=1e-8)
    assert result.converged and result.n_iter > 2
    for x, x_next in zip(result.path, result.path[1:]):
        g = _quartic_exp_gradient(x)
        # phi'(t*) = -grad f(x_next) . g: zero relative to phi'(0) = -g.g, down to the
        # ~1e-15 rounding error of a gradient made of O(1) terms.
        slope = _quartic_exp_gradient(x_next) @ g
        assert abs(slope) <= 1e-10 * (g @ g) + 1e-15 * np.linalg.norm(g)


def test_exact_line_search_recovers_from_negative_curvature():
    # f = (x^2 - 1)^2 is concave at 0.1, so Newton is not trusted until bracketed.
    f = lambda x: ((x**2 - 1) ** 2).sum()  # noqa: E731
    assert directional_derivatives(f, np.array([0.1]), np.array([0.396]))[1] < 0
    result = steepest_descent(f, [0.1], tol=1e-10)
    assert result.n_iter == 1
    np.testing.assert_allclose(result.x, [1.0], rtol=1e-14)


def test_exact_line_search_on_an_unbounded_function_raises():
    with pytest.raises(ArithmeticError, match="without bound"):
        exact_line_search(lambda x: -(x**2).sum(), np.array([1.0]), np.array([1.0]))


def test_armijo_solves_rosenbrock():
    result = steepest_descent(
        _rosenbrock, [-1.2, 1.0], tol=1e-4, max_iter=20000, line_search="armijo"
    )
    assert result.converged
    assert np.linalg.norm(result.x - 1.0) < 1e-3
    assert all(
        _rosenbrock(next_x) < _rosenbrock(x) for x, next_x in zip(result.path, result.path[1:])
    )


def test_stops_at_x0_when_its_gradient_is_small_enough():
    result = steepest_descent(_quadratic(np.eye(2)), np.array([1e-3, 0.0]), tol=1e-2)
    assert result.n_iter == 0 and len(result.path) == 1 and result.converged
    np.testing.assert_array_equal(result.x, [1e-3, 0.0])


def test_max_iter_returns_unconverged():
    result = steepest_descent(_rosenbrock, [-1.2, 1.0], max_iter=5)
    assert isinstance(result, OptimizeResult)
    assert not result.converged
    assert result.n_iter == 5 and len(result.path) == 6
    assert result.grad_norm > 1e-6


def test_x0_as_int_list_works_in_float64_and_is_not_aliased():
    x0 = np.array([3.0, -2.0])
    result = steepest_descent(_quadratic(np.diag([1.0, 3.0])), x0)
    assert result.x.dtype == np.float64
    np.testing.assert_array_equal(x0, [3.0, -2.0])
    assert steepest_descent(_quadratic(np.eye(2)), [3, -2]).path[0].dtype == np.float64


def test_matrix_shaped_x0():
    target = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = steepest_descent(lambda x: ((x - target) ** 2).sum(), np.zeros((2, 2)))
    assert result.n_iter == 1
    np.testing.assert_allclose(result.x, target, rtol=1e-14)


def test_unknown_line_search_raises_naming_it():
    with pytest.raises(ValueError, match="'wolfe'"):
        steepest_descent(_rosenbrock, [0.0, 0.0], line_search="wolfe")


def test_non_scalar_objective_raises():
    with pytest.raises(TypeError, match="scalar Tensor"):
        steepest_descent(lambda x: x * 2, [1.0, 2.0])
