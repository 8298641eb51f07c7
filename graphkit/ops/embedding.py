"""Embedding: rows of a table W picked by integer indices, as PyTorch's ``F.embedding``."""

from __future__ import annotations

from typing import Any

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.shape import scatter_add
from graphkit.tensor import Tensor


class Embedding(Op):
    """W (num, dim) -> W[indices], of shape (*indices.shape, dim).

    ``indices`` are a constant of the op (an integer array, checked to lie in
    [0, num)); the gradient of a row picked several times is the sum over its picks.
    """

    __slots__ = ("indices",)

    def __init__(self, indices):
        self.indices = indices

    def forward(self, W):
        return xp.take(W, self.indices, axis=0)

    def backward(self, gy, y, W):
        return scatter_add(gy, shape=W.shape, index=self.indices)

    def jvp(self, dxs, y, W):
        return Embedding.apply(dxs[0], indices=self.indices)

    def params(self) -> dict[str, Any]:
        return {"indices": self.indices.shape}


def _as_indices(indices: Any) -> Any:
    """``indices`` (an array, a list, a Tensor of whole numbers) as an integer array."""
    data = indices._data if isinstance(indices, Tensor) else xp.asarray(indices)
    if data.dtype.kind in "iu":
        # A copy: the op keeps the indices until backward, and a write into the caller's
        # array in between must not change which rows get the gradient.
        return data.copy()
    if data.dtype.kind == "f":
        as_int = data.astype(xp.intp)
        if (as_int == data).all():
            return as_int
        raise TypeError("embedding: indices must be whole numbers")
    raise TypeError(f"embedding: indices must be integers, got an array of {data.dtype}")


def embedding(indices: Any, W: Any) -> Any:
    """Rows of the table W (num, dim) at ``indices`` (any shape) -> (*indices.shape, dim).

    Out-of-range indices (negative ones included, as in PyTorch) raise IndexError.
    """
    table_shape = xp.shape(W.data if isinstance(W, Tensor) else W)
    if len(table_shape) != 2:
        raise ValueError(f"embedding: W of shape {table_shape} must be a (num, dim) table")
    indices = _as_indices(indices)
    num = table_shape[0]
    if indices.size:
        low, high = indices.min(), indices.max()
        if low < 0 or high >= num:
            bad = low if low < 0 else high
            raise IndexError(
                f"embedding: index {bad} is out of range for a table of {num} rows "
                f"(W of shape {table_shape}); indices must lie in [0, {num})"
            )
    return Embedding.apply(W, indices=indices)
