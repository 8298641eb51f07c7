"""Sliding windows over (B, C, H, W) images: their geometry, and how the arrays that read
and write them are laid out in memory. im2col/col2im, conv2d, conv_transpose2d and the
max- and average-pooling ops are all built on these helpers.

Windows are read in one of two ways, never with a loop over pixels:

* all at once, as one strided view (B, C, OH, OW, KH, KW) of the padded input
  (``windows``: what im2col copies into its columns);
* offset by offset (``offset_views``): for each of the KH*KW kernel offsets, one strided
  view of the whole batch holding the pixel at that offset of every window (what pooling
  reduces over).

Writing back is the adjoint of reading offset by offset: ``add_at_offsets`` adds one
array per kernel offset into a padded buffer (col2im and the pooling backwards).

Images need not be stored batch first: an op's output keeps its input's memory order
(``memory_axes``), and conv2d's comes out "batch last", (C, H, W, B) in memory
(``BATCH_LAST``; see docs/design.md, "Images in memory"). Helpers that allocate take the
memory order to use, so that each per-offset slice walks its operands in memory order.

The large arrays of these ops (im2col columns, convolution outputs, padded buffers,
pooling results and their gradients) come from ``graphkit.ops.buffers``: a cache keyed
by shape and dtype that hands a buffer out again once the graph that used it is gone.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from itertools import product
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphkit.backend import ndarray
from graphkit.ops.buffers import empty_images, framed_images, memory_axes

Pair = tuple[int, int]

#: Memory order of a batch-last image array: (C, H, W, B), as axes of (B, C, H, W).
BATCH_LAST = (1, 2, 3, 0)


# ----- geometry -------------------------------------------------------------------------
def pair(value: int | tuple[int, int], what: str, minimum: int = 1) -> Pair:
    """An int or an (h, w) pair as an (h, w) tuple of ints >= ``minimum``."""
    # Tuples and ints first: np.ndim makes an array of its argument.
    if isinstance(value, tuple):
        values = value
    elif isinstance(value, int):
        values = (value, value)
    else:
        values = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(values) != 2 or any(int(v) != v or v < minimum for v in values):
        raise ValueError(
            f"{what} must be an int or an (h, w) pair of ints >= {minimum}, got {value!r}"
        )
    return int(values[0]), int(values[1])


def output_size(input_shape: tuple[int, ...], kernel: Pair, stride: Pair, pad: Pair) -> Pair:
    """(OH, OW) of a window sweep over (B, C, H, W) inputs; ValueError when none fits."""
    if len(input_shape) != 4:
        raise ValueError(f"expected an input of shape (B, C, H, W), got shape {input_shape}")
    padded = (input_shape[2] + 2 * pad[0], input_shape[3] + 2 * pad[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"kernel {kernel} is larger than the padded input {padded} "
            f"(input shape {input_shape}, pad {pad})"
        )
    return (padded[0] - kernel[0]) // stride[0] + 1, (padded[1] - kernel[1]) // stride[1] + 1


def transposed_output_size(
    input_shape: tuple[int, ...], kernel: Pair, stride: Pair, pad: Pair
) -> Pair:
    """(OH, OW) = (H - 1) * stride - 2 * pad + kernel: the smallest image whose window sweep
    has (H, W) windows, as PyTorch's transposed convolution; ValueError when it is empty."""
    if len(input_shape) != 4:
        raise ValueError(f"expected an input of shape (B, C, H, W), got shape {input_shape}")
    size = tuple((n - 1) * s - 2 * p + k
                 for n, k, s, p in zip(input_shape[2:], kernel, stride, pad))
    if min(size) < 1:
        raise ValueError(
            f"pad {pad} leaves no output: (H - 1) * stride - 2 * pad + kernel = {size} for input "
            f"shape {input_shape}, kernel {kernel}, stride {stride}"
        )
    return size[0], size[1]


def check_pool_pad(kernel: Pair, pad: Pair) -> None:
    """ValueError unless ``pad`` is at most half the kernel (PyTorch's rule for pooling:
    beyond it a window could hold nothing but padding)."""
    if 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
        raise ValueError(f"pad {pad} must be at most half the kernel {kernel}")


def tiles(input_shape: tuple[int, ...], out_size: Pair, kernel: Pair, stride: Pair,
          pad: Pair) -> bool:
    """Whether ``out_size`` windows cover the (B, C, H, W) input exactly, each pixel once."""
    return (
        stride == kernel
        and pad == (0, 0)
        and tuple(input_shape[2:]) == (out_size[0] * kernel[0], out_size[1] * kernel[1])
    )


def kernel_offsets(kernel: Pair) -> Iterator[Pair]:
    """The kernel offsets (i, j), row-major: the order every per-offset loop runs in."""
    return product(range(kernel[0]), range(kernel[1]))


def offset_slice(offset: Pair, stride: Pair, out_size: Pair) -> tuple[slice, ...]:
    """The index of (B, C, H, W) picking, from every window, the pixel at ``offset``."""
    (i, j), (sh, sw), (out_h, out_w) = offset, stride, out_size
    return (slice(None), slice(None), slice(i, i + sh * out_h, sh), slice(j, j + sw * out_w, sw))


# ----- memory layout --------------------------------------------------------------------
def stored_as(x: ndarray, axes: tuple[int, ...]) -> ndarray:
    """x itself when it is stored in the memory order ``axes``, else a copy that is.

    Elementwise work on two arrays stored in different orders runs several times slower
    than on two alike, far more than the copy costs.
    """
    return padded(x, (0, 0), axes)


def padded(x: ndarray, pad: Pair, axes: tuple[int, ...], fill: float = 0.0) -> ndarray:
    """x (B, C, H, W) with ``pad`` rows and columns of ``fill`` around each image, stored
    in the memory order ``axes``; x itself when there is no padding and it already is.
    Read-only in effect: a padded copy's frame is kept for later calls
    (``buffers.framed_images``), so nothing may write into it."""
    if pad == (0, 0):
        if memory_axes(x) == axes:
            return x
        out = empty_images(x.shape, axes, x.dtype)
        out[...] = x
        return out
    (ph, pw), (B, C, H, W) = pad, x.shape
    out = framed_images((B, C, H + 2 * ph, W + 2 * pw), axes, x.dtype, pad, fill)
    out[:, :, ph : ph + H, pw : pw + W] = x
    return out


# ----- reading and writing windows ------------------------------------------------------
def windows(x: ndarray, kernel: Pair, stride: Pair) -> ndarray:
    """A read-only view (B, C, OH, OW, KH, KW) of every window of ``x``; no copy.

    Strided by hand, x's own strides with each window's start stepping by ``stride``:
    sliding_window_view's argument checks, and as_strided's detour through the array
    interface, take several times as long, on every call.
    """
    (sh, sw), s = stride, x.strides
    shape = (*x.shape[:2], *output_size(x.shape, kernel, stride, (0, 0)), *kernel)
    strides = (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3])
    owner = x if x.base is None else x.base
    # Straight on the memory of the array x looks into, when x is all of it with its axes
    # in another order (a padded copy, a batch-last output): then x starts where it does.
    if (type(owner) is ndarray and owner.flags.c_contiguous and owner.dtype == x.dtype
            and x.size and sorted(zip(s, x.shape)) == sorted(zip(owner.strides, owner.shape))):
        view = ndarray(shape, x.dtype, owner, 0, strides)
        view.setflags(False)  # type: ignore[call-arg]  # write=False, as write_guard does
        return view
    return as_strided(x, shape, strides, writeable=False)


def offset_views(source: ndarray, kernel: Pair, stride: Pair, out_size: Pair) -> list[ndarray]:
    """For each kernel offset (row-major), the view (B, C, OH, OW) of the (padded)
    ``source`` holding that offset's pixel of every window; no copy."""
    return [source[index] for index in _offset_slices(kernel, stride, out_size)]


@functools.lru_cache(maxsize=256)
def _offset_slices(kernel: Pair, stride: Pair, out_size: Pair) -> tuple[tuple[slice, ...], ...]:
    # Remembered per geometry: the same few at every step.
    return tuple(offset_slice(k, stride, out_size) for k in kernel_offsets(kernel))


def add_at_offsets(
    shares: Iterable[ndarray],
    input_shape: tuple[int, ...],
    out_size: Pair,
    kernel: Pair,
    stride: Pair,
    pad: Pair,
    axes: tuple[int, ...],
    dtype: Any,
) -> ndarray:
    """The adjoint of ``offset_views``: (B, C, H, W) zeros of ``dtype``, stored in the
    order ``axes``, with the k-th array of ``shares`` (B, C, OH, OW), (OH, OW) being
    ``out_size``, added at kernel offset k's pixel of every window; padding is cropped
    away.

    When the windows tile the input each pixel lies in exactly one window, so each share
    is assigned, with no zero fill and no read-back. Otherwise windows may overlap and
    shares add up; within one offset no two windows share a pixel.
    """
    buffer, targets, assign = offset_targets(input_shape, out_size, kernel, stride, pad, axes,
                                             dtype)
    for target, share in zip(targets, shares):
        if assign:
            target[...] = share
        else:
            target += share
    return cropped(buffer, input_shape, pad)


def offset_targets(
    input_shape: tuple[int, ...], out_size: Pair, kernel: Pair, stride: Pair, pad: Pair,
    axes: tuple[int, ...], dtype: Any,
) -> tuple[ndarray, list[ndarray], bool]:
    """What ``add_at_offsets`` writes into, for ops that compute each share in place: the
    padded (B, C, H, W) buffer of ``dtype`` stored in the order ``axes``, its view
    (B, C, OH, OW) at each kernel offset (row-major), and whether the windows tile it.
    When they tile, the buffer is uninitialised and each view is to be assigned;
    otherwise it is zeros and shares are to be added into the views."""
    (B, C, H, W), (ph, pw) = input_shape, pad
    assign = tiles(input_shape, out_size, kernel, stride, pad)
    buffer = empty_images((B, C, H + 2 * ph, W + 2 * pw), axes, dtype, None if assign else 0)
    return buffer, offset_views(buffer, kernel, stride, out_size), assign


def cropped(buffer: ndarray, input_shape: tuple[int, ...], pad: Pair) -> ndarray:
    """The (B, C, H, W) interior of a ``pad``-padded buffer: a view, or buffer itself."""
    (H, W), (ph, pw) = input_shape[2:], pad
    return buffer if pad == (0, 0) else buffer[:, :, ph : ph + H, pw : pw + W]
