"""Tensors made from nothing: ``gk.zeros``, ``gk.ones``, ``gk.full``, ``gk.arange``, ``gk.eye``,
``gk.zeros_like``, ``gk.ones_like``, ``gk.randn``, ``gk.rand``.

As in PyTorch, a shape is given as ints or as one tuple (``gk.zeros(2, 3)`` or
``gk.zeros((2, 3))``); the dtype is float64 unless ``dtype`` says otherwise (the ``_like``
functions take the dtype of their argument); each result is a leaf that requires grad only
when asked to.
"""

from __future__ import annotations

from typing import Any

from graphkit.backend import xp
from graphkit.tensor import Tensor, dims_of

__all__ = ["arange", "eye", "full", "ones", "ones_like", "rand", "randn", "zeros", "zeros_like"]


def _shape_of(op: str, shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``(2, 3)`` from ``(2, 3)`` or ``((2, 3),)``: the shape arguments as PyTorch takes them."""
    shape = dims_of(shape)
    if any(not isinstance(n, (int, xp.integer)) or isinstance(n, bool) or n < 0 for n in shape):
        raise TypeError(f"{op}: a shape is non-negative ints, as {op}(2, 3) or {op}((2, 3)), "
                        f"got {shape!r}")
    return tuple(int(n) for n in shape)


def _made(array: Any, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad, dtype=xp.float64 if dtype is None else dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _made(xp.zeros(_shape_of("zeros", shape)), dtype, requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _made(xp.ones(_shape_of("ones", shape)), dtype, requires_grad)


def full(shape: Any, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of ``shape`` (an int or a tuple) with every element ``value``."""
    shape = _shape_of("full", (shape,) if isinstance(shape, (int, xp.integer)) else tuple(shape))
    return _made(xp.full(shape, value, dtype=xp.float64 if dtype is None else dtype), dtype,
                 requires_grad)


def arange(
    start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``start, start + step, ...`` up to ``stop`` excluded; ``arange(n)`` is ``0 .. n-1``."""
    if step == 0:
        raise ValueError("arange: step must not be 0")
    values = xp.arange(start, step=step) if stop is None else xp.arange(start, stop, step)
    return _made(values, dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The (n, m) identity matrix (m defaults to n): ones on the diagonal, zeros elsewhere."""
    shape = _shape_of("eye", (n,) if m is None else (n, m))
    return _made(xp.eye(shape[0], shape[-1]), dtype, requires_grad)


def _dtype_like(t: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    like = t.dtype if isinstance(t, Tensor) else xp.asarray(t).dtype
    return like if like.kind == "f" else xp.float64


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and (floating) dtype, unless ``dtype`` is given."""
    return _made(xp.zeros(xp.shape(t)), _dtype_like(t, dtype), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and (floating) dtype, unless ``dtype`` is given."""
    return _made(xp.ones(xp.shape(t)), _dtype_like(t, dtype), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from NumPy's global RNG (``gk.manual_seed`` repeats them)."""
    return _made(xp.random.standard_normal(_shape_of("randn", shape)), dtype, requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from NumPy's global RNG (``gk.manual_seed`` repeats them)."""
    return _made(xp.random.random_sample(_shape_of("rand", shape)), dtype, requires_grad)
