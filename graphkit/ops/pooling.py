"""Max- and average pooling, and the ops their derivatives are made of.

Every loop here runs over the KH*KW kernel offsets, each pass one strided view of the
whole batch (``graphkit.ops.windows``): never over pixels, and never with a copy of the
windows. Each pooling op's backward is an op whose own backward is the pooling again
(max: ``ScatterToArgmax`` and ``GatherAtArgmax``; average: ``SpreadOverWindows`` and
``AvgPool2d``), so derivatives of every order come out of the same few loops.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np

from graphkit.backend import ndarray, xp
from graphkit.graph import Op
from graphkit.ops.windows import (
    Pair,
    add_at_offsets,
    check_pool_pad,
    empty_images,
    memory_axes,
    offset_views,
    output_size,
    padded,
    pair,
    stored_as,
)
from graphkit.tensor import array_of


class MaxPool2d(Op):
    """x (B, C, H, W) -> the maximum of each window, (B, C, OH, OW).

    The gradient goes to the first arg-max of each window (as PyTorch's); overlapping
    windows add up. Padding is -inf, so it never wins. The output keeps x's layout in
    memory (batch last after a convolution).
    """

    __slots__ = ("kernel_size", "pad", "stride")

    def __init__(self, kernel_size: Pair, stride: Pair, pad: Pair = (0, 0)):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        offsets = _views_of(self, x, -xp.inf)
        y = offsets[0].copy(order="K")
        for values in offsets[1:]:
            xp.maximum(y, values, out=y)
        # The first offset holding the maximum is the number of offsets before it that
        # don't: count them, one pass each, several times faster than a where() per
        # offset; ties go to the first maximum.
        argmax = xp.zeros_like(y, dtype=np.min_scalar_type(len(offsets) - 1))
        not_found = xp.ones_like(y, dtype=bool)
        for values in offsets[:-1]:
            not_found &= values != y
            argmax += not_found
        self.saved = argmax
        return y

    def backward(self, gy, y, x):
        return scatter_to_argmax(gy, **_geometry(self, self.saved, x.shape))

    def jvp(self, dxs, y, x):
        return gather_at_argmax(dxs[0], **_geometry(self, self.saved, x.shape))


class ScatterToArgmax(Op):
    """g (B, C, OH, OW) -> zeros (B, C, H, W) with each g added at its window's arg-max.

    ``argmax`` (B, C, OH, OW) numbers each window's chosen pixel by its kernel offset,
    row-major. The backward of max-pooling; its own backward is ``GatherAtArgmax``.
    """

    __slots__ = ("argmax", "input_shape", "kernel_size", "pad", "stride")

    def __init__(self, argmax, input_shape, kernel_size, stride, pad):
        self.argmax = argmax
        self.input_shape = input_shape
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

    def forward(self, g):
        layout = memory_axes(self.argmax)
        g = stored_as(g, layout)
        finite = bool(xp.isfinite(g).all())
        offsets = self.kernel_size[0] * self.kernel_size[1]
        shares = (_select(g, self.argmax == k, finite) for k in range(offsets))
        return add_at_offsets(shares, self.input_shape, self.argmax.shape[2:],
                              self.kernel_size, self.stride, self.pad, layout, g.dtype)

    def backward(self, gy, y, g):
        return gather_at_argmax(gy, **_geometry(self, self.argmax, self.input_shape))

    def jvp(self, dxs, y, g):
        return scatter_to_argmax(dxs[0], **_geometry(self, self.argmax, self.input_shape))

    def params(self) -> dict[str, Any]:
        """What graph drawings show: the geometry, not the arg-max array."""
        return _pooling(self)


class GatherAtArgmax(ScatterToArgmax):
    """x (B, C, H, W) -> (B, C, OH, OW), the value of x at each window's arg-max.

    The adjoint of ``ScatterToArgmax``, with the same arguments.
    """

    __slots__ = ()

    def forward(self, x):
        finite = bool(xp.isfinite(x).all())
        out = xp.zeros_like(self.argmax, dtype=x.dtype)
        for k, values in enumerate(_views_of(self, x)):
            out += _select(values, self.argmax == k, finite)
        return out

    def backward(self, gy, y, x):
        return scatter_to_argmax(gy, **_geometry(self, self.argmax, self.input_shape))

    def jvp(self, dxs, y, x):
        return gather_at_argmax(dxs[0], **_geometry(self, self.argmax, self.input_shape))


class AvgPool2d(Op):
    """x (B, C, H, W) -> the mean of each window, (B, C, OH, OW).

    Padding is zeros and counts in the mean (PyTorch's default, count_include_pad=True):
    every window is divided by KH*KW. The output keeps x's layout in memory.
    """

    __slots__ = ("kernel_size", "pad", "stride")

    def __init__(self, kernel_size: Pair, stride: Pair, pad: Pair = (0, 0)):
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, x):
        offsets = _views_of(self, x)
        # A float array, in x's memory order, made by the first sum and added into after.
        dtype = np.result_type(x.dtype, 1.0)
        if len(offsets) == 1:
            y = offsets[0].astype(dtype, order="K")
        else:
            y = xp.add(offsets[0], offsets[1], dtype=dtype)
        for values in offsets[2:]:
            y += values
        y /= len(offsets)
        return y

    def backward(self, gy, y, x):
        return spread_over_windows(gy, input_shape=tuple(x.shape), layout=memory_axes(
            array_of(x)), **_pooling(self))

    def jvp(self, dxs, y, x):
        return avg_pool(dxs[0], **_pooling(self))


class SpreadOverWindows(Op):
    """g (B, C, OH, OW) -> (B, C, H, W): each g / (KH*KW) added to every pixel of its
    window, where windows overlap the shares adding up; padding cropped away.

    The backward of average pooling and its adjoint: its own backward is ``AvgPool2d``.
    ``layout`` is the memory order of the result, the pooled input's, so that the
    gradient flowing on is stored as the activations it meets.
    """

    __slots__ = ("input_shape", "kernel_size", "layout", "pad", "stride")

    def __init__(self, input_shape, kernel_size, stride, pad, layout):
        self.input_shape, self.layout = input_shape, layout
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, g):
        # One pass both divides and stores the share in the result's memory order.
        share = empty_images(g.shape, self.layout, np.result_type(g.dtype, 1.0))
        xp.divide(g, self.kernel_size[0] * self.kernel_size[1], out=share)
        return add_at_offsets(repeat(share), self.input_shape, g.shape[2:], self.kernel_size,
                              self.stride, self.pad, self.layout, share.dtype)

    def backward(self, gy, y, g):
        return avg_pool(gy, **_pooling(self))

    def jvp(self, dxs, y, g):
        return spread_over_windows(dxs[0], input_shape=self.input_shape, layout=self.layout,
                                   **_pooling(self))

    def params(self) -> dict[str, Any]:
        """What graph drawings show: the geometry, not the memory order."""
        return {"input_shape": self.input_shape, **_pooling(self)}


def _select(values: ndarray, mask: ndarray, finite: bool) -> ndarray:
    """``values`` where ``mask`` holds, else 0. Multiplying by the mask is several times
    faster than where(), but makes inf * 0 a NaN."""
    return values * mask if finite else xp.where(mask, values, 0)


def _views_of(op: Any, x: ndarray, fill: float = 0.0) -> list[ndarray]:
    """The views (B, C, OH, OW) of x padded with ``fill``, one per kernel offset of the
    pooling op ``op``, each holding that offset's pixel of every window."""
    check_pool_pad(op.kernel_size, op.pad)
    out_size = output_size(x.shape, op.kernel_size, op.stride, op.pad)
    source = padded(x, op.pad, memory_axes(x), fill)
    return offset_views(source, op.kernel_size, op.stride, out_size)


def _pooling(op: Any) -> dict[str, Any]:
    """The window geometry of a pooling op, as keyword arguments of another."""
    return {"kernel_size": op.kernel_size, "stride": op.stride, "pad": op.pad}


def _geometry(op: Any, argmax: ndarray, input_shape: tuple[int, ...]) -> dict[str, Any]:
    return {"argmax": argmax, "input_shape": tuple(input_shape), **_pooling(op)}


scatter_to_argmax = ScatterToArgmax.apply
gather_at_argmax = GatherAtArgmax.apply
avg_pool = AvgPool2d.apply
spread_over_windows = SpreadOverWindows.apply


def max_pool2d(
    x: Any, kernel_size: int | Pair, stride: int | Pair | None = None, pad: int | Pair = 0
) -> Any:
    """The maximum over each window of x (B, C, H, W); stride defaults to the kernel size."""
    return MaxPool2d.apply(x, **_pooling_arguments("max_pool2d", kernel_size, stride, pad))


def avg_pool2d(
    x: Any, kernel_size: int | Pair, stride: int | Pair | None = None, pad: int | Pair = 0
) -> Any:
    """The mean over each window of x (B, C, H, W), zero padding counted in it (as
    PyTorch's default); stride defaults to the kernel size."""
    return AvgPool2d.apply(x, **_pooling_arguments("avg_pool2d", kernel_size, stride, pad))


def _pooling_arguments(
    op: str, kernel_size: int | Pair, stride: int | Pair | None, pad: int | Pair
) -> dict[str, Pair]:
    """A pooling op's geometry as (h, w) pairs; stride defaults to the kernel."""
    kernel = pair(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None else pair(stride, f"{op}: stride")
    return {"kernel_size": kernel, "stride": stride, "pad": pair(pad, f"{op}: pad", minimum=0)}
