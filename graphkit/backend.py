"""The array namespace every op computes with.

Ops call ``xp.tanh``, ``xp.matmul`` and friends instead of ``numpy`` directly, so a
CuPy backend can later be dropped in here without touching a single op.
"""

from __future__ import annotations

from typing import Any

import numpy

xp = numpy
ndarray = numpy.ndarray
#: NumPy 1.x promotes float32 with a Python number to float64 when no operand has a
#: dimension; NumPy 2 treats Python numbers as "weak" and keeps float32.
STRONG_PYTHON_SCALARS = int(numpy.__version__.split(".")[0]) < 2

try:  # numpy >= 2.0
    from numpy.exceptions import AxisError
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # numpy 1.24 - 1.26
    from numpy import AxisError  # type: ignore[attr-defined,no-redef]
    from numpy.core.numeric import normalize_axis_tuple  # type: ignore[no-redef]

__all__ = ["STRONG_PYTHON_SCALARS", "AxisError", "axes_of", "ndarray", "sum_to", "xp"]


def axes_of(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """Normalise ``axis`` (None, int or tuple, negatives allowed) to sorted positive axes.

    Raises NumPy's ``AxisError`` (a ValueError) for an axis out of range.
    """
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0:
        # NumPy (and PyTorch) let a reduction of a 0-d array name axis 0 or -1: no axis.
        normalize_axis_tuple(axis, 1)
        return ()
    return tuple(sorted(normalize_axis_tuple(axis, ndim)))


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` (an array or a Tensor) over the axes broadcasting added to reach ``shape``.

    The engine applies it to every gradient an op returns in a broadcast shape; it uses
    only ``.sum`` and ``.reshape``, so on Tensors it records a differentiable graph.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead >= 0:
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
        )
        summed = g.sum(axis=axes, keepdims=True)
        if summed.shape[lead:] == shape:
            return summed.reshape(shape)
    # A backward that returns a wrongly shaped gradient must fail loudly, not be reshaped.
    raise ValueError(f"cannot sum a gradient of shape {g.shape} back to shape {shape}")
