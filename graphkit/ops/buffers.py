"""Buffers kept across steps, and the memory order of arrays.

A training step allocates the same large arrays at every step: im2col columns,
convolution outputs, pooling results, activations. Fresh ones that live long cost more
than the work that fills them: the C allocator hands large freed blocks back to the
system, and the next step faults every page of them in again, zeroed. (Short-lived
temporaries are better left to the allocator, whose free lists serve the next ones
without faults: kept, they would only raise the peak.) So ops take them from
``reusable_empty`` (or ``kept_like``, which keeps an array's memory order), a cache
keyed by shape and dtype. The graph governs their lifetime: a buffer is handed out again
only once nothing refers to it any more (no Tensor, saved value, view or gradient), which
CPython's reference count tells exactly, since every view of an array holds a reference
to it.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from graphkit.backend import ndarray, xp

#: Below this many bytes the allocator serves an array from its free lists, without page
#: faults (glibc's default mmap threshold): not worth keeping.
_REUSE_FROM_BYTES = 128 * 1024
#: Buffers kept per shape and dtype (a step holds a few alike at once, e.g. a conv's
#: output and the gradient of it), and shapes kept, the least recently used dropped.
_KEPT_PER_KEY = 4
_KEPT_KEYS = 32

_kept: OrderedDict[tuple[Any, ...], list[ndarray]] = OrderedDict()
#: framed_images' buffers, whose frames hold their fill: apart, so no other caller
#: writes into a frame.
_framed: OrderedDict[tuple[Any, ...], list[ndarray]] = OrderedDict()
_kept_lock = threading.Lock()


def _count_when_unreferenced() -> int:
    """sys.getrefcount of a kept buffer that only the cache holds, read as
    ``reusable_empty`` reads it (the count differs between Python versions)."""
    count = 0
    for buffer in [xp.empty(0)]:
        count = sys.getrefcount(buffer)
    return count


_UNREFERENCED = _count_when_unreferenced()


def reusable_empty(shape: tuple[int, ...], dtype: Any) -> ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``: a buffer an
    earlier call made that nothing refers to any more, else a new one (kept for later
    calls while the cache has room). Small arrays are simply allocated."""
    dtype = np.dtype(dtype)
    if dtype.itemsize * math.prod(shape) < _REUSE_FROM_BYTES:
        return xp.empty(shape, dtype)
    return _free_or_new(_kept, (tuple(shape), dtype))[0]


def _free_or_new(
    cache: OrderedDict[tuple[Any, ...], list[ndarray]], key: tuple[Any, ...]
) -> tuple[ndarray, bool]:
    """A buffer of ``cache`` under ``key``, (shape, dtype, ...), that nothing refers to any
    more, else a new one (kept for later calls while the cache has room); and whether it
    is new."""
    with _kept_lock:  # two threads must never both find one buffer free
        buffers = cache.setdefault(key, [])
        cache.move_to_end(key)
        for buffer in buffers:
            # Writable too: the caller writes into it, and a user may have made an array
            # they were handed read-only before letting it go.
            if sys.getrefcount(buffer) == _UNREFERENCED and buffer.flags.writeable:
                return buffer, False
        fresh = xp.empty(key[0], key[1])
        if len(buffers) < _KEPT_PER_KEY:
            buffers.append(fresh)
        while len(cache) > _KEPT_KEYS:
            cache.popitem(last=False)
        return fresh, True


def empty_images(shape: tuple[int, ...], axes: tuple[int, ...], dtype: Any, fill: Any = None):
    """An array of ``shape`` stored in memory in the order ``axes`` (the window ops' (B, C,
    H, W) images, batch last or first), from ``reusable_empty``, filled with ``fill`` when
    given.

    In the usual order it is the allocated array itself, not a view of it: a gradient
    that owns its memory reaches a leaf's ``.grad`` without a copy.
    """
    stored, dtype, kept, undo = _images_plan(tuple(shape), tuple(axes), dtype)
    data = _free_or_new(_kept, (stored, dtype))[0] if kept else xp.empty(stored, dtype)
    if fill is not None:
        data.fill(fill)
    return data if undo is None else data.transpose(undo)


@functools.lru_cache(maxsize=256)
def _images_plan(
    shape: tuple[int, ...], axes: tuple[int, ...], dtype: Any
) -> tuple[tuple[int, ...], np.dtype, bool, tuple[int, ...] | None]:
    """For ``empty_images``: the shape to allocate, the dtype, whether the array is large
    enough to keep, and the transpose that gives it ``shape`` (None: none needed).
    Remembered, as ``inverse``: a step asks for the same few arrays at every call."""
    dtype = np.dtype(dtype)
    stored = tuple(shape[a] for a in axes)
    kept = dtype.itemsize * math.prod(shape) >= _REUSE_FROM_BYTES
    return stored, dtype, kept, None if axes == tuple(range(len(axes))) else inverse(axes)


def framed_images(
    shape: tuple[int, ...], axes: tuple[int, ...], dtype: Any, pad: tuple[int, int], fill: float
) -> ndarray:
    """Padded (B, C, H, W) images of ``shape``, stored in the order ``axes``, whose frame of
    ``pad`` rows and columns holds ``fill`` and whose interior is uninitialised: for
    ``windows.padded``, which only ever writes the interior.

    The frame is filled once, when the buffer is made, and the buffer is handed out again
    only once nothing refers to it, whatever its size: filling a frame is four strided
    passes, several times the interior's one copy. Nothing may write into the frame of
    an array from here (the window ops only read padded inputs).
    """
    stored, dtype, _, undo = _images_plan(tuple(shape), tuple(axes), dtype)
    buffer, new = _free_or_new(_framed, (stored, dtype, undo, pad, float(fill)))
    images = buffer if undo is None else buffer.transpose(undo)
    if new:
        (ph, pw), (H, W) = pad, shape[2:]
        images[:, :, :ph] = images[:, :, H - ph :] = fill
        images[:, :, ph : H - ph, :pw] = images[:, :, ph : H - ph, W - pw :] = fill
    return images


def kept_like(x: Any) -> ndarray | None:
    """An elementwise op's ``out=`` for a result of x's shape and dtype, stored in memory
    in x's order: a buffer from ``reusable_empty`` when x is an ndarray large enough for
    one to be kept, else None (NumPy then allocates, as for a small or Python-scalar x).
    Boolean x gets None: NumPy gives arithmetic on booleans an integer result.

    x's order, because elementwise work on two arrays stored in different orders runs
    several times slower than on two alike (a convolution's output is stored batch last).
    """
    if not isinstance(x, ndarray) or x.dtype.kind == "b" or x.nbytes < _REUSE_FROM_BYTES:
        return None
    return empty_images(x.shape, memory_axes(x), x.dtype)


def release_buffers() -> None:
    """Drop every kept buffer (those still in use live on with their users)."""
    with _kept_lock:
        _kept.clear()
        _framed.clear()


# ----- memory order ---------------------------------------------------------------------
def memory_axes(x: ndarray) -> tuple[int, ...]:
    """The axes of ``x`` from the largest stride to the smallest: its layout in memory."""
    return _axes_by_stride(x.strides)


@functools.lru_cache(maxsize=256)
def _axes_by_stride(strides: tuple[int, ...]) -> tuple[int, ...]:
    # Remembered per strides: a program meets a handful, and the window ops ask at every
    # call.
    return tuple(sorted(range(len(strides)), key=lambda axis: -strides[axis]))


@functools.cache
def inverse(axes: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation undoing ``axes``: ``a.transpose(axes).transpose(inverse(axes))`` is
    ``a`` (np.argsort's, without building an array for a few small ints). Remembered: a
    program meets a handful of layouts, and the window ops ask at every call."""
    return tuple(sorted(range(len(axes)), key=axes.__getitem__))
