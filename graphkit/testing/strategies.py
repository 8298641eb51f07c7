"""Hypothesis strategies that draw shapes and well-conditioned tensors for gradient tests.

Central differences need inputs away from an op's kinks and poles: positive values for
``log`` and ``sqrt``, values away from 0 for ``relu``, ``abs`` and divisors, and no ties
for ``max``. ``elements_for(op)`` knows which op needs what::

    from hypothesis import given
    from graphkit.testing import gradcheck, strategies as gst

    @given(gst.tensors(elements=gst.elements_for("log")))
    def test_log(x):
        assert gradcheck(lambda t: t.log(), [x])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphkit.tensor import Tensor

__all__ = [
    "away_from_zero",
    "broadcastable_shapes",
    "distinct_tensors",
    "elements_for",
    "matmul_shapes",
    "positive",
    "shapes",
    "tensors",
    "values",
]


def values(min_value: float = -3.0, max_value: float = 3.0) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value], subnormals excluded (a CPU that flushes
    them to zero would turn a drawn value into another)."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=64)


def positive(min_value: float = 0.1, max_value: float = 5.0) -> st.SearchStrategy[float]:
    """Floats bounded away from 0 from above: inputs for log, sqrt, pow's base."""
    return values(min_value, max_value)


def away_from_zero(gap: float = 0.1, bound: float = 3.0) -> st.SearchStrategy[float]:
    """Floats with |x| >= gap: inputs for relu, abs, step and divisors."""
    return values(gap, bound) | values(-bound, -gap)


_ELEMENTS = {
    "log": positive,
    "sqrt": positive,
    "pow": positive,
    "div": away_from_zero,
    "relu": away_from_zero,
    "abs": away_from_zero,
    "step": away_from_zero,
    "mae": away_from_zero,
}


def elements_for(op: str) -> st.SearchStrategy[float]:
    """Element values that keep central differences accurate for ``op`` (by op name)."""
    return _ELEMENTS.get(op, values)()


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, scalars (``()``) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``num_shapes`` shapes that NumPy broadcasts together (size-1 and missing axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda drawn: drawn.input_shapes)


@st.composite
def matmul_shapes(draw: Any, max_batch_dims: int = 2, max_side: int = 4) -> tuple:
    """Shapes ``(a, b)`` that ``a @ b`` accepts: 1-D, 2-D and broadcast batches."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, 0, max_batch_dims, 3))
    a = (k,) if draw(st.booleans()) and not batch_a else (*batch_a, n, k)
    b = (k,) if draw(st.booleans()) and not batch_b else (*batch_b, k, m)
    return a, b


def _draw_shape(draw: Any, shape: Any) -> tuple[int, ...]:
    """``shape`` itself, or one drawn from it when it is a strategy (default: ``shapes()``)."""
    if shape is None:
        shape = shapes()
    return draw(shape) if isinstance(shape, st.SearchStrategy) else shape


@st.composite
def tensors(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    elements: st.SearchStrategy[float] | None = None,
    dtype: Any = np.float64,
    requires_grad: bool = True,
) -> Tensor:
    """A Tensor of the given (or a drawn) shape whose elements come from ``elements``."""
    shape = _draw_shape(draw, shape)
    elements = values() if elements is None else elements
    if np.dtype(dtype) != np.float64:
        # Round each draw to the dtype, so that a float32 array holds exactly what was drawn.
        elements = elements.map(lambda value: float(np.dtype(dtype).type(value)))
    data = draw(hnp.arrays(dtype, shape, elements=elements))
    return Tensor(data, requires_grad=requires_grad)


@st.composite
def distinct_tensors(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    gap: float = 0.01,
    requires_grad: bool = True,
) -> Tensor:
    """A Tensor whose elements differ pairwise by at least ``gap``: no ties for max."""
    shape = _draw_shape(draw, shape)
    size = int(np.prod(shape))
    steps = draw(st.permutations(range(size)))
    offset = draw(values(-1.0, 1.0))
    data = (np.asarray(steps, dtype=np.float64) * gap * 10 + offset).reshape(shape)
    return Tensor(data, requires_grad=requires_grad)
