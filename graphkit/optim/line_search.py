"""Line searches along a descent direction, with derivatives from the engine.

Along the ray ``x + t d`` (``t >= 0``) the objective is ``phi(t) = f(x + t d)``, with

    phi'(t)  = grad f(x + t d) . d
    phi''(t) = d . H(x + t d) d

both read off one forward-mode pass over the gradient: the jvp of ``(grad f, f)`` along
``d`` is ``(H d, grad f . d)``, a Hessian-vector product with no Hessian formed.
``f`` maps a Tensor of ``x``'s shape to a scalar Tensor; arrays here are float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from graphkit.autograd import grad
from graphkit.func import grad_and_value, jvp
from graphkit.graph import no_grad
from graphkit.tensor import Tensor

Objective = Callable[[Tensor], Tensor]

#: ``phi'(t)`` this small relative to ``phi'(0)`` counts as zero.
SLOPE_RTOL = 1e-12
#: A move of t this small relative to t pins the minimiser down.
STEP_RTOL = 1e-14
#: Cap on the derivative evaluations of one exact search (bisection alone needs ~100).
MAX_EVALUATIONS = 300
#: Armijo's sufficient-decrease constant and backtracking factor.
ARMIJO_C = 1e-4
ARMIJO_SHRINK = 0.5


def _scalar(value: object) -> Tensor:
    if not isinstance(value, Tensor) or value.size != 1:
        raise TypeError(f"f must return a scalar Tensor, got {value!r}")
    return value


def _evaluate(f: Objective, x: np.ndarray) -> tuple[Tensor, Tensor]:
    point = Tensor(x, requires_grad=True)
    return point, _scalar(f(point))


def value_and_gradient(f: Objective, x: np.ndarray) -> tuple[float, np.ndarray]:
    """``f(x)`` as a float and ``grad f(x)`` as an array of ``x``'s shape."""
    point, value = _evaluate(f, x)
    (gradient,) = grad(value, point)
    assert gradient is not None  # grad raises for an input the value does not use
    return value.item(), gradient.data


def directional_derivatives(
    f: Objective, point: np.ndarray, direction: np.ndarray
) -> tuple[float, float]:
    """``(phi'(t), phi''(t))`` at ``point = x + t * direction``."""
    gradient_and_value = grad_and_value(lambda t: _scalar(f(t)))
    _, (hessian_direction, slope) = jvp(gradient_and_value, (point,), (direction,))
    return slope.item(), float(np.vdot(hessian_direction.data, direction))


def exact_line_search(f: Objective, x: np.ndarray, direction: np.ndarray) -> float:
    """The ``t >= 0`` where ``phi'(t) = 0``, by safeguarded Newton iteration.

    ``direction`` must be a descent direction (``phi'(0) < 0``). The search keeps a
    bracket ``lo < t* < hi`` with ``phi'(lo) < 0 <= phi'(hi)`` (``hi`` starts at
    infinity). Each trial is the Newton step ``t - phi'(t) / phi''(t)`` when
    ``phi'' > 0`` and that lands inside the bracket; otherwise it doubles ``lo``
    while no upper end is known, else bisects. It stops when
    ``|phi'(t)| <= 1e-12 |phi'(0)|``; when ``t`` moved by less than ``1e-14 t`` (a
    Newton step that small, or a bracket ~2e-14 wide when bisecting); or when the
    trial point ``x + t d`` is the previous one to the last bit.

    The first trial is Newton's step from ``t = 0``, which for a quadratic
    ``f = 1/2 x^T A x + b^T x`` is exactly ``t* = -phi'(0) / phi''(0) = g.g / g.A.g``
    (with ``d = -g``).

    Raises:
        ArithmeticError: ``phi`` keeps decreasing however far the search goes
            (``f`` is unbounded below along ``direction``).
    """
    lo, hi = 0.0, math.inf
    t = 0.0
    point = x
    slope, curvature = directional_derivatives(f, point, direction)
    target = SLOPE_RTOL * abs(slope)
    for _ in range(MAX_EVALUATIONS):
        previous_t, previous_point = t, point
        if curvature > 0 and lo < (newton := t - slope / curvature) < hi:
            t = newton
        elif hi < math.inf:
            t = 0.5 * (lo + hi)
        else:
            t = 2.0 * lo if lo > 0 else 1.0
        point = x + t * direction
        # Rounding noise in phi' can exceed the target near t*; then it is the moves
        # that say t is pinned down as far as float64 can resolve it.
        if np.array_equal(point, previous_point):
            return t
        slope, curvature = directional_derivatives(f, point, direction)
        if slope < 0:
            lo = t
        else:
            hi = t
        if abs(slope) <= target or abs(t - previous_t) <= STEP_RTOL * t:
            return t
    if hi == math.inf:
        raise ArithmeticError(
            f"f decreases without bound along the search direction (phi'({t:g}) = {slope:g})"
        )
    return t


def armijo_backtracking(
    f: Objective,
    x: np.ndarray,
    direction: np.ndarray,
    value: float,
    gradient: np.ndarray,
) -> float:
    """The first ``t`` in ``1, 1/2, 1/4, ...`` with sufficient decrease
    ``f(x + t d) <= f(x) + 1e-4 * t * (grad f(x) . d)``.

    ``value`` and ``gradient`` are ``f(x)`` and ``grad f(x)``. Trials only evaluate
    ``f``, without recording a graph. The halving ends once ``x + t d`` no longer
    differs from ``x``, returning that ``t``, so the caller stalls instead of looping.
    """
    decrease_per_step = ARMIJO_C * float(np.vdot(gradient, direction))
    t = 1.0
    with no_grad():
        while True:
            candidate = x + t * direction
            if np.array_equal(candidate, x):
                return t
            if f(Tensor(candidate)).item() <= value + t * decrease_per_step:
                return t
            t *= ARMIJO_SHRINK
