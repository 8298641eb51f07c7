"""Steepest descent: move along ``-grad f`` with a line search until the gradient vanishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from graphkit.optim.line_search import (
    Objective,
    armijo_backtracking,
    exact_line_search,
    value_and_gradient,
)

LINE_SEARCHES = ("exact", "armijo")


@dataclass(frozen=True)
class OptimizeResult:
    """What ``steepest_descent`` found.

    Attributes:
        x: the last iterate (float64, ``x0``'s shape).
        fun: ``f(x)``.
        grad_norm: the Euclidean norm of ``grad f(x)``.
        n_iter: the number of steps taken, ``len(path) - 1``.
        path: every iterate, ``x0`` first and ``x`` last.
        converged: whether ``grad_norm <= tol`` (False when ``max_iter`` ran out).
    """

    x: np.ndarray
    fun: float
    grad_norm: float
    n_iter: int
    path: list[np.ndarray]
    converged: bool


def steepest_descent(
    f: Objective,
    x0: Any,
    tol: float = 1e-6,
    max_iter: int = 1000,
    line_search: str = "exact",
) -> OptimizeResult:
    """Minimise ``f`` by ``x_{k+1} = x_k - t_k grad f(x_k)``.

    Stops at the first iterate with ``||grad f(x_k)|| <= tol`` (``x0`` itself if it
    qualifies) or after ``max_iter`` steps, whichever comes first; running out of
    steps is reported by ``converged=False``, not raised. The step ``t_k`` comes from
    ``line_search``: ``"exact"`` minimises ``t -> f(x_k - t grad f(x_k))`` over
    ``t >= 0`` by Newton's method on its derivative (for a quadratic with Hessian
    ``A`` this is ``t_k = g.g / g.A.g``); ``"armijo"`` backtracks from ``t = 1``,
    halving until ``f`` decreases by at least ``1e-4 t ||g||^2``.

    Args:
        f: maps a Tensor of ``x0``'s shape to a scalar Tensor, written with graphkit
            ops so the engine can differentiate it (twice, for ``"exact"``).
        x0: the starting point, any array-like; the iteration runs in float64.
        tol: the gradient-norm tolerance.
        max_iter: the most steps to take.
        line_search: ``"exact"`` or ``"armijo"``.
    """
    if line_search not in LINE_SEARCHES:
        raise ValueError(f"line_search must be one of {LINE_SEARCHES}, got {line_search!r}")
    x = np.array(x0, dtype=np.float64)
    path = [x]
    value, gradient = value_and_gradient(f, x)
    grad_norm = float(np.linalg.norm(gradient))
    while grad_norm > tol and len(path) <= max_iter:
        direction = -gradient
        if line_search == "exact":
            t = exact_line_search(f, x, direction)
        else:
            t = armijo_backtracking(f, x, direction, value, gradient)
        x = x + t * direction
        path.append(x)
        value, gradient = value_and_gradient(f, x)
        grad_norm = float(np.linalg.norm(gradient))
    return OptimizeResult(
        x=x,
        fun=value,
        grad_norm=grad_norm,
        n_iter=len(path) - 1,
        path=path,
        converged=grad_norm <= tol,
    )
