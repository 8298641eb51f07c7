"""Shape ops: reshape, transpose, broadcast_to, getitem and its adjoint scatter_add, stack,
identity."""

from __future__ import annotations

from typing import Any

from graphkit.backend import sum_to, xp
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

    def jvp(self, dxs, y, x):
        return dxs[0].reshape(self.shape)


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

    def jvp(self, dxs, y, x):
        return dxs[0].transpose(self.axes)


class BroadcastTo(Op):
    """``x`` repeated along broadcast axes to ``shape``; backward sums them back."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy, y, x):
        return sum_to(gy, x.shape)

    def jvp(self, dxs, y, x):
        return broadcast_to(dxs[0], shape=self.shape)


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

    def jvp(self, dxs, y, x):
        return getitem(dxs[0], index=self.index)

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

    def jvp(self, dxs, y, g):
        return scatter_add(dxs[0], shape=self.shape, index=self.index)


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


class Identity(Op):
    """``x`` itself as a new node: a separate handle on the same values, for transforms
    that differentiate with respect to one use of a tensor."""

    __slots__ = ()

    def forward(self, x):
        return x

    def backward(self, gy, y, x):
        return gy

    def jvp(self, dxs, y, x):
        return dxs[0]


class Stack(Op):
    """Inputs of one shape joined along a new axis ``axis`` (NumPy's ``stack``)."""

    __slots__ = ("axis",)

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        return xp.stack(xs, axis=self.axis)

    def backward(self, gy, y, *xs):
        axis = self.axis % gy.ndim
        lead = (slice(None),) * axis
        grads = tuple(getitem(gy, index=(*lead, i)) for i in range(len(xs)))
        return grads if len(grads) > 1 else grads[0]  # a one-input op returns one gradient

    def jvp(self, dxs, y, *xs):
        zeros = None
        filled = []
        for x, dx in zip(xs, dxs):
            if dx is None:
                zeros = xp.zeros(xp.shape(x), dtype=y.dtype) if zeros is None else zeros
                dx = zeros
            filled.append(dx)
        return Stack.apply(*filled, axis=self.axis)


reshape = Reshape.apply
transpose = Transpose.apply
broadcast_to = BroadcastTo.apply
getitem = GetItem.apply
scatter_add = ScatterAdd.apply
identity = Identity.apply


def stack(xs, axis: int = 0):
    """Arrays or Tensors of one shape joined along a new axis ``axis``."""
    return Stack.apply(*xs, axis=axis)
