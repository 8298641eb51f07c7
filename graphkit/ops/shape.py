"""Shape ops: reshape, transpose, broadcast_to, getitem and its adjoint scatter_add, stack,
concatenate, pad, flip, tile, identity; and the functions made of them (split, squeeze,
expand_dims, flatten, take_along_axis).

Every op here moves or copies elements without arithmetic, so each backward is another
shape op (its adjoint) and each jvp is the op itself applied to the tangent.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from graphkit.backend import axes_of, sum_to, xp
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
        try:
            return xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"cannot broadcast shape {xp.shape(x)} to {self.shape}: aligned from the "
                "right, each axis of the input must have length 1 or the target's length"
            ) from None

    def backward(self, gy, y, x):
        return sum_to(gy, x.shape)

    def jvp(self, dxs, y, x):
        return broadcast_to(dxs[0], shape=self.shape)


def _normalize_index(index: Any) -> Any:
    """Tensors inside an index become integer (or bool) arrays; lists become arrays.

    Index arrays are copied: the op keeps them until backward, and a write into the
    caller's array in between must not change where the gradient goes."""
    if isinstance(index, tuple):
        return tuple(_normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index._data
    if isinstance(index, list):
        return _normalize_index(xp.asarray(index))
    if isinstance(index, xp.ndarray):
        if index.dtype.kind == "f":
            as_int = index.astype(xp.intp)
            if not (as_int == index).all():
                raise IndexError("tensor index must hold whole numbers")
            return as_int
        return index.copy()
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
        self.index = _normalize_index(index)

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
        _check_joinable("stack", xs, self.axis)
        return xp.stack(xs, axis=self.axis)

    def backward(self, gy, y, *xs):
        axis = self.axis % gy.ndim
        lead = (slice(None),) * axis
        grads = tuple(getitem(gy, index=(*lead, i)) for i in range(len(xs)))
        return grads if len(grads) > 1 else grads[0]  # a one-input op returns one gradient

    def jvp(self, dxs, y, *xs):
        return Stack.apply(*_zeros_where_missing(dxs, xs, y.dtype), axis=self.axis)


class Concatenate(Op):
    """Inputs joined along the existing axis ``axis`` (NumPy's ``concatenate``); they agree
    on every other axis."""

    __slots__ = ("axis",)

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        _check_joinable("concatenate", xs, self.axis)
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy, y, *xs):
        axis = self.axis % gy.ndim
        lead = (slice(None),) * axis
        grads = []
        start = 0
        for i, x in enumerate(xs):
            stop = start + xp.shape(x)[axis]
            grads.append(getitem(gy, index=(*lead, slice(start, stop)))
                         if self.needs_grad(i) else None)
            start = stop
        return tuple(grads) if len(grads) > 1 else grads[0]  # one input: one gradient

    def jvp(self, dxs, y, *xs):
        return Concatenate.apply(*_zeros_where_missing(dxs, xs, y.dtype), axis=self.axis)


def _zeros_where_missing(dxs, xs, dtype) -> list:
    """The tangents of a join's inputs, zeros of the input's shape where one has none: the
    output's tangent is the join of them all."""
    zeros: dict[tuple[int, ...], Any] = {}
    filled = []
    for x, dx in zip(xs, dxs):
        if dx is None:
            shape = xp.shape(x)
            dx = zeros.setdefault(shape, xp.zeros(shape, dtype=dtype))
        filled.append(dx)
    return filled


def _check_joinable(op: str, xs, axis: int) -> None:
    """ValueError naming both shapes and the axis unless ``xs`` can be stacked (one shape)
    or concatenated (one shape but along ``axis``)."""
    first = xp.shape(xs[0])
    if op == "concatenate":
        if not first:
            raise ValueError("0-d tensors have no axis to join along; use stack to give "
                             "them one")
        along = axes_of(axis, len(first))[0]  # AxisError when out of range
    else:
        axes_of(axis, len(first) + 1)
    for i, x in enumerate(xs[1:], 1):
        shape = xp.shape(x)
        if op == "stack":
            if shape != first:
                raise ValueError(f"tensor {i} has shape {shape} but tensor 0 has shape {first}; "
                                 f"to stack them along a new axis {axis} all must have one shape")
        elif len(shape) != len(first) or any(
            a != b for k, (a, b) in enumerate(zip(shape, first)) if k != along
        ):
            raise ValueError(f"tensor {i} has shape {shape} but tensor 0 has shape {first}; "
                             f"to concatenate along axis {axis} they must agree on every "
                             "other axis")


class Pad(Op):
    """``x`` with ``pad_width[k] = (before, after)`` elements of ``value`` around axis k."""

    __slots__ = ("pad_width", "value")

    def __init__(self, pad_width, value=0.0):
        self.pad_width = pad_width
        self.value = value

    def forward(self, x):
        return xp.pad(x, self.pad_width, mode="constant", constant_values=self.value)

    def backward(self, gy, y, x):
        inner = tuple(slice(before, before + n)
                      for (before, _), n in zip(self.pad_width, xp.shape(x)))
        return getitem(gy, index=inner)

    def jvp(self, dxs, y, x):
        # The padding is a constant: its tangent is zero.
        return Pad.apply(dxs[0], pad_width=self.pad_width, value=0.0)


class Flip(Op):
    """``x`` with the order of elements reversed along ``axis`` (a tuple of axes)."""

    __slots__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return xp.flip(x, axis=self.axis)

    def backward(self, gy, y, x):
        return Flip.apply(gy, axis=self.axis)

    def jvp(self, dxs, y, x):
        return Flip.apply(dxs[0], axis=self.axis)


class Tile(Op):
    """NumPy's ``tile``: ``x`` repeated ``reps[k]`` times along axis k, where the shorter of
    ``reps`` and ``x.shape`` is padded with leading ones."""

    __slots__ = ("reps",)

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        return xp.tile(x, self.reps)

    def backward(self, gy, y, x):
        shape = xp.shape(x)
        ndim = max(len(shape), len(self.reps))
        sides = (1,) * (ndim - len(shape)) + shape
        reps = (1,) * (ndim - len(self.reps)) + self.reps
        # Copy r of axis k sits at (r, i) of a (reps[k], sides[k]) split of that axis.
        split = tuple(n for pair in zip(reps, sides) for n in pair)
        return gy.reshape(split).sum(axis=tuple(range(0, 2 * ndim, 2))).reshape(shape)

    def jvp(self, dxs, y, x):
        return Tile.apply(dxs[0], reps=self.reps)


reshape = Reshape.apply
transpose = Transpose.apply
broadcast_to = BroadcastTo.apply
getitem = GetItem.apply
scatter_add = ScatterAdd.apply
identity = Identity.apply


def stack(xs, axis: int = 0):
    """Arrays or Tensors of one shape joined along a new axis ``axis``."""
    xs = _sequence_of("stack", xs)
    return Stack.apply(*xs, axis=axis)


def concatenate(xs, axis: int = 0):
    """Arrays or Tensors joined along their axis ``axis``; they agree on every other axis."""
    xs = _sequence_of("concatenate", xs)
    return Concatenate.apply(*xs, axis=axis)


def _sequence_of(op: str, xs) -> tuple:
    xs = tuple(xs)
    if not xs:
        raise ValueError(f"{op}: needs at least one tensor, got an empty sequence")
    return xs


def flip(x, axis: int | tuple[int, ...] | None = None):
    """``x`` reversed along ``axis`` (an int, a tuple, or None for every axis)."""
    return Flip.apply(x, axis=axes_of(axis, xp.ndim(x)))


def split(x, sections_or_indices: int | Sequence[int], axis: int = 0) -> list:
    """NumPy's ``split``: an int k cuts axis ``axis`` into k equal parts (ValueError when
    k does not divide it); a sequence of indices cuts before each of them, as slices do."""
    shape = xp.shape(x)
    if not shape:
        raise ValueError("split: a 0-d tensor has no axis to split")
    along = axes_of(axis, len(shape))[0]
    length = shape[along]
    if isinstance(sections_or_indices, (int, xp.integer)):
        sections = int(sections_or_indices)
        if sections <= 0 or length % sections:
            raise ValueError(
                f"split: {sections} sections do not divide axis {axis} of length {length} "
                f"(shape {shape}) into equal parts; pass a list of indices to cut it unevenly"
            )
        step = length // sections
        bounds = [step * k for k in range(sections + 1)]
    else:
        bounds = [0, *(int(i) for i in sections_or_indices), length]
    lead = (slice(None),) * along
    return [getitem(x, index=(*lead, slice(start, stop)))
            for start, stop in pairwise(bounds)]


def squeeze(x, axis: int | tuple[int, ...] | None = None):
    """``x`` without its axes of length 1 (only those in ``axis`` when given; ValueError
    when one of those is longer, as NumPy)."""
    shape = xp.shape(x)
    if axis is None:
        axes = tuple(k for k, n in enumerate(shape) if n == 1)
    else:
        axes = axes_of(axis, len(shape))
        longer = [k for k in axes if shape[k] != 1]
        if longer:
            raise ValueError(f"squeeze: axis {longer[0]} of shape {shape} has length "
                             f"{shape[longer[0]]}, not 1, so it cannot be squeezed out")
    return reshape(x, shape=tuple(n for k, n in enumerate(shape) if k not in axes))


def expand_dims(x, axis: int | tuple[int, ...]):
    """``x`` with a new axis of length 1 at each position in ``axis`` (of the result)."""
    shape = xp.shape(x)
    axes = axes_of(axis, len(shape) + (len(axis) if isinstance(axis, tuple) else 1))
    rest = iter(shape)
    return reshape(x, shape=tuple(1 if k in axes else next(rest)
                                  for k in range(len(shape) + len(axes))))


def flatten(x, start_axis: int = 0, end_axis: int = -1):
    """``x`` with axes ``start_axis`` to ``end_axis`` (both included) merged into one, as
    ``torch.flatten``; a 0-d ``x`` becomes shape (1,)."""
    shape = xp.shape(x)
    if not shape:
        return reshape(x, shape=(1,))
    start, end = (axes_of(a, len(shape))[0] for a in (start_axis, end_axis))
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                         f"for shape {shape}")
    merged = 1
    for n in shape[start:end + 1]:
        merged *= n
    return reshape(x, shape=(*shape[:start], merged, *shape[end + 1:]))


def pad(x, pad_width: Any, value: float = 0.0):
    """``x`` padded with ``value`` as ``numpy.pad(x, pad_width, constant_values=value)``:
    ``pad_width`` is an int (every side), a ``(before, after)`` pair (every axis), or one
    pair per axis."""
    ndim = xp.ndim(x)
    widths = xp.asarray(pad_width)
    if widths.dtype.kind not in "iu" or widths.ndim > 2:
        raise TypeError(f"pad: pad_width must be ints: an int, a (before, after) pair or one "
                        f"pair per axis, got {pad_width!r}")
    try:
        pairs = xp.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} fits neither every axis nor each of "
                         f"the {ndim} axes of shape {xp.shape(x)}; give an int, a "
                         "(before, after) pair, or one pair per axis") from None
    if (pairs < 0).any():
        raise ValueError(f"pad: pad_width {pad_width!r} has a negative width")
    if not ndim:
        return identity(x)  # a 0-d array has no sides to pad, as in NumPy
    return Pad.apply(x, pad_width=tuple((int(b), int(a)) for b, a in pairs), value=value)


def tile(x, reps: int | Sequence[int]):
    """``x`` repeated ``reps[k]`` times along axis k, as ``numpy.tile``."""
    reps = (reps,) if isinstance(reps, (int, xp.integer)) else tuple(reps)
    if any(not isinstance(r, (int, xp.integer)) or r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative ints, got {reps!r}")
    return Tile.apply(x, reps=tuple(int(r) for r in reps))


def take_along_axis(x, indices: Any, axis: int | None):
    """``numpy.take_along_axis``: the elements of ``x`` at ``indices`` along ``axis``, with
    ``indices`` of ``x``'s rank broadcast against it on the other axes (``axis=None``: on
    ``x`` flattened). Gradients of repeated indices accumulate."""
    indices = xp.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {indices.dtype}")
    if axis is None:
        x = reshape(x, shape=(-1,))
        axis = 0
    shape = xp.shape(x)
    if indices.ndim != len(shape):
        raise ValueError(f"take_along_axis: indices of shape {indices.shape} must have as many "
                         f"axes as x of shape {shape}")
    along = axes_of(axis, len(shape))[0]
    length = shape[along]
    if indices.size and (indices.min() < -length or indices.max() >= length):
        raise IndexError(f"take_along_axis: indices from {indices.min()} to {indices.max()} "
                         f"out of range for axis {axis} of length {length} (shape {shape})")
    # The index NumPy builds: along the other axes, each position picks its own element.
    ndim = len(shape)
    index = tuple(
        indices if k == along else xp.arange(n).reshape((1,) * k + (n,) + (1,) * (ndim - k - 1))
        for k, n in enumerate(shape)
    )
    return getitem(x, index=index)
