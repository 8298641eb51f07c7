"""Shape ops: reshape, transpose, broadcast_to, getitem and its adjoint scatter_add."""

from __future__ import annotations

from typing import Any

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.tensor import Tensor


class Reshape(Op):
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy, y, x):
        return gy.reshape(x.shape)


class Transpose(Op):
    """NumPy's transpose: ``axes`` is a full permutation, None reverses the axes."""

    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy, y, x):
        if self.axes is None:
            return gy.transpose()
        # Negative axes count from the end; normalise them before inverting the permutation.
        return gy.transpose(tuple(xp.argsort([a % x.ndim for a in self.axes])))


class BroadcastTo(Op):
    """``x`` repeated along broadcast axes to ``shape``; backward sums them back."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy, y, x):
        # sum_to lives with the arithmetic ops; imported here to keep the modules acyclic.
        from graphkit.ops.arithmetic import sum_to

        return sum_to(gy, x.shape)


def _normalize_index(index: Any) -> Any:
    """Tensors inside an index become integer (or bool) arrays; lists become arrays."""
    if isinstance(index, tuple):
        return tuple(_normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, list):
        index = xp.asarray(index)
    if isinstance(index, xp.ndarray) and index.dtype.kind == "f":
        as_int = index.astype(xp.intp)
        if not (as_int == index).all():
            raise IndexError("tensor index must hold whole numbers")
        return as_int
    return index


def _has_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, xp.ndarray) for i in parts)


class GetItem(Op):
    """``x[index]``: basic and integer-array indexing; repeated indices accumulate."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = _normalize_index(index)

    def forward(self, x):
        return x[self.index]

    def backward(self, gy, y, x):
        return scatter_add(gy, shape=x.shape, index=self.index)

    def label(self) -> str:
        return f"getitem {_index_text(self.index)}"


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``g`` added at ``index`` (getitem's adjoint)."""

    __slots__ = ("index", "shape")

    def __init__(self, shape, index):
        self.shape = shape
        self.index = index

    def forward(self, g):
        out = xp.zeros(self.shape, dtype=g.dtype)
        if _has_advanced(self.index):
            # Integer arrays may repeat an index; add.at accumulates where += would not.
            xp.add.at(out, self.index, g)
        else:
            out[self.index] = g
        return out

    def backward(self, gy, y, g):
        return getitem(gy, index=self.index)


def _index_text(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    text = []
    for i in parts:
        if isinstance(i, slice):
            text.append(":".join("" if v is None else str(v) for v in (i.start, i.stop, i.step)))
        elif isinstance(i, xp.ndarray):
            text.append(f"<{i.dtype} {i.shape}>")
        else:
            text.append(repr(i))
    return "[" + ", ".join(text) + "]"


reshape = Reshape.apply
transpose = Transpose.apply
broadcast_to = BroadcastTo.apply
getitem = GetItem.apply
scatter_add = ScatterAdd.apply
