"""Checking analytic gradients against central differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from graphkit.autograd import grad
from graphkit.graph import no_grad
from graphkit.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "numerical_gradient"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-4):
    """df/dx by central differences: (f(x + eps) - f(x - eps)) / (2 eps), one element at a time.

    ``x`` is perturbed in place and restored; ``f(x)`` returns a float. Returns an array
    of ``x``'s shape.
    """
    grad_x = np.zeros_like(x, dtype=np.result_type(x.dtype, np.float64))
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x) and x.size:
        raise ValueError("numerical_gradient needs a contiguous array to perturb in place")
    for i in range(flat.size):
        original = flat[i]
        try:
            flat[i] = original + eps
            f_plus = float(f(x))
            flat[i] = original - eps
            f_minus = float(f(x))
        finally:  # x is the caller's array: restore it even when f raises
            flat[i] = original
        grad_x.reshape(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad_x


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare backprop with central differences for every input that requires grad.

    ``fn(*inputs)`` may return a Tensor of any shape: its output is projected on a fixed
    random direction ``v``, so the check covers the whole Jacobian through
    d(sum(v * fn))/dx. Passes when ``|analytic - numeric| <= atol + rtol * |numeric|``
    everywhere; otherwise raises ``GradcheckError`` naming the input, the index and
    both values. Use float64 inputs: float32 cannot resolve ``eps``-sized steps.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input Tensor with requires_grad=True")

    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    direction = np.random.default_rng(0).uniform(0.5, 1.5, out.shape)
    direction *= np.where(np.arange(out.size).reshape(out.shape) % 2, -1.0, 1.0)

    if not out.requires_grad:
        analytic = [np.zeros_like(inputs[i].data) for i in checked]
    else:
        grads = grad(out, [inputs[i] for i in checked], grad_outputs=direction.astype(out.dtype),
                     allow_unused=True)
        analytic = [
            np.zeros_like(inputs[i].data) if g is None else g.data
            for i, g in zip(checked, grads)
        ]

    def projected(_: np.ndarray) -> float:
        with no_grad():
            return float(np.sum(direction * fn(*inputs).data))

    for i, g in zip(checked, analytic):
        x = inputs[i]
        numeric = numerical_gradient(projected, x.data, eps=eps)
        bad = ~(np.abs(g - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            name = f" ({x.name})" if x.name else ""
            raise GradcheckError(
                f"gradient of input {i}{name}, shape {x.shape}, disagrees at index {index}: "
                f"analytic {g[index]!r} vs numerical {numeric[index]!r} "
                f"({int(bad.sum())} of {bad.size} elements off; atol={atol}, rtol={rtol})"
            )
    return True
