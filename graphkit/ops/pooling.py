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
from graphkit.ops.buffers import empty_images, memory_axes
from graphkit.ops.windows import (
    Pair,
    add_at_offsets,
    check_pool_pad,
    cropped,
    offset_targets,
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
        layout = memory_axes(x)
        y = empty_images(offsets[0].shape, layout, x.dtype)
        xp.copyto(y, offsets[0])
        for values in offsets[1:]:
            xp.maximum(y, values, out=y)
        # The first offset holding the maximum is the number of offsets before it that
        # don't: count them, one pass each, several times faster than a where() per
        # offset; ties go to the first maximum.
        n = len(offsets)
        argmax = empty_images(y.shape, layout, np.min_scalar_type(n - 1), 0 if n == 1 else None)
        if n > 1:
            not_found = xp.not_equal(offsets[0], y, out=empty_images(y.shape, layout, bool))
            argmax[...] = not_found
            differs = empty_images(y.shape, layout, bool) if n > 2 else None
            for values in offsets[1:-1]:
                not_found &= xp.not_equal(values, y, out=differs)
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
        buffer, targets, assign = offset_targets(self.input_shape, self.argmax.shape[2:],
                                                 self.kernel_size, self.stride, self.pad,
                                                 layout, g.dtype)
        # One mask, refilled for each offset in turn. Tiling windows (the usual 2x2/2)
        # take each share straight into its place in the result; overlapping ones add
        # it up from one more buffer.
        mask = empty_images(g.shape, layout, bool)
        share = None if assign else empty_images(g.shape, layout, g.dtype)
        finite = _finite(g)
        for k, target in enumerate(targets):
            xp.equal(self.argmax, k, out=mask)
            if assign:
                _select(g, mask, finite, out=target)
            else:
                target += _select(g, mask, finite, out=share)
        return cropped(buffer, self.input_shape, self.pad)

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
        finite = _finite(x)
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


def _finite(values: ndarray) -> bool:
    """Whether every value is finite, so that ``_select`` may multiply by its masks.

    Read off the sum, in one pass and no array as large: a sum of finite numbers is
    finite unless it overflows, which only sends ``_select`` down its slower exact path.
    """
    return bool(xp.isfinite(values.sum()))


def _select(values: ndarray, mask: ndarray, finite: bool, out: ndarray | None = None) -> ndarray:
    """``values`` where ``mask`` holds, else 0 (into ``out`` when given). Multiplying by
    the mask is several times faster than where(), but makes inf * 0 a NaN."""
    if finite:
        return xp.multiply(values, mask, out=out)
    if out is None:
        return xp.where(mask, values, 0)
    out.fill(0)
    xp.copyto(out, values, where=mask)
    return out


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
