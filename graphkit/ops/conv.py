"""Convolution and pooling through im2col, and dropout.

im2col lays every window of a (B, C, H, W) input out as one column of a matrix, so a
convolution becomes a single matrix product. Two layouts of the same windows exist:

* ``"rows"`` (the book's, what the public ``im2col`` returns): one row per output pixel,
  shape (B*OH*OW, C*KH*KW), rows ordered (b, oh, ow), columns (c, kh, kw), so that
  ``conv = im2col(x) @ W.reshape(OC, -1).T``;
* ``"columns"`` (Caffe's, what ``conv2d`` uses inside): its transpose, (C*KH*KW, B*OH*OW).
  Its copy reads whole image rows and its col2im adds contiguous blocks, which makes a
  convolution's forward and backward about twice as fast as with ``"rows"``.

Both are one strided copy of a view of the (padded) input; ``col2im``, the adjoint, loops
over the KH*KW kernel offsets only, adding one slice of the output per offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from graphkit.backend import ndarray, xp
from graphkit.graph import Op
from graphkit.tensor import Tensor

Pair = tuple[int, int]

# The windows view is (B, C, OH, OW, KH, KW); each layout is a permutation of it.
_LAYOUT_AXES = {"rows": (0, 2, 3, 1, 4, 5), "columns": (1, 4, 5, 0, 2, 3)}
# col2im accumulates into a buffer laid out like the columns' (B, C) order, so that each
# per-offset slice-add walks both operands in memory order.
_BUFFER_AXES = {"rows": (0, 2, 3, 1), "columns": (1, 0, 2, 3)}


def pair(value: int | tuple[int, int], what: str, minimum: int = 1) -> Pair:
    """An int or an (h, w) pair as an (h, w) tuple of ints >= ``minimum``."""
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


def check_probability(p: float) -> float:
    """``p`` itself if it is a dropout probability, in [0, 1]; else ValueError."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must lie in [0, 1], got {p}")
    return p


def _padded(x: ndarray, pad: Pair, fill: float = 0.0) -> ndarray:
    if pad == (0, 0):
        return x
    (ph, pw), (B, C, H, W) = pad, x.shape
    out = xp.full((B, C, H + 2 * ph, W + 2 * pw), fill, dtype=x.dtype)
    out[:, :, ph : ph + H, pw : pw + W] = x
    return out


def _windows(x: ndarray, kernel: Pair, stride: Pair) -> ndarray:
    """A read-only view (B, C, OH, OW, KH, KW) of every window of ``x``; no copy."""
    view = sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def _im2col(x: ndarray, kernel: Pair, stride: Pair, pad: Pair, layout: str) -> ndarray:
    out_h, out_w = output_size(x.shape, kernel, stride, pad)
    cols = _windows(_padded(x, pad), kernel, stride).transpose(_LAYOUT_AXES[layout])
    B, C = x.shape[:2]
    per_pixel = C * kernel[0] * kernel[1]
    return cols.reshape(
        (B * out_h * out_w, per_pixel) if layout == "rows" else (per_pixel, B * out_h * out_w)
    )


def _col2im(
    cols: ndarray, input_shape: tuple[int, ...], kernel: Pair, stride: Pair, pad: Pair, layout: str
) -> ndarray:
    (B, C, H, W), (kh, kw), (sh, sw), (ph, pw) = input_shape, kernel, stride, pad
    out_h, out_w = output_size(input_shape, kernel, stride, pad)
    axes = _LAYOUT_AXES[layout]
    windows_shape = (B, C, out_h, out_w, kh, kw)
    expected = _im2col_shape(windows_shape, layout)
    if cols.shape != expected:
        raise ValueError(
            f"columns of shape {cols.shape} do not fit input shape {input_shape} "
            f"with kernel {kernel}, stride {stride}, pad {pad}: expected {expected}"
        )
    windows = cols.reshape([windows_shape[a] for a in axes]).transpose(np.argsort(axes))
    buffer_axes = _BUFFER_AXES[layout]
    padded_shape = (B, C, H + 2 * ph, W + 2 * pw)
    out = xp.zeros([padded_shape[a] for a in buffer_axes], dtype=cols.dtype)
    out = out.transpose(np.argsort(buffer_axes))
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + sh * out_h : sh, j : j + sw * out_w : sw] += windows[..., i, j]
    return out[:, :, ph : ph + H, pw : pw + W]


def _im2col_shape(windows_shape: tuple[int, ...], layout: str) -> Pair:
    B, C, out_h, out_w, kh, kw = windows_shape
    pixels, per_pixel = B * out_h * out_w, C * kh * kw
    return (pixels, per_pixel) if layout == "rows" else (per_pixel, pixels)


class Im2col(Op):
    """x (B, C, H, W) -> its windows as a matrix, in ``layout`` (see the module docstring)."""

    __slots__ = ("kernel_size", "layout", "pad", "stride")

    def __init__(self, kernel_size: Pair, stride: Pair, pad: Pair, layout: str = "rows"):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.layout = layout

    def forward(self, x):
        return _im2col(x, self.kernel_size, self.stride, self.pad, self.layout)

    def backward(self, gy, y, x):
        return col2im_op(
            gy,
            input_shape=x.shape,
            kernel_size=self.kernel_size,
            stride=self.stride,
            pad=self.pad,
            layout=self.layout,
        )


class Col2im(Op):
    """Columns in ``layout`` -> (B, C, H, W), each window added back where im2col took it."""

    __slots__ = ("input_shape", "kernel_size", "layout", "pad", "stride")

    def __init__(
        self,
        input_shape: tuple[int, ...],
        kernel_size: Pair,
        stride: Pair,
        pad: Pair,
        layout: str = "rows",
    ):
        self.input_shape = tuple(input_shape)
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.layout = layout

    def forward(self, cols):
        return _col2im(cols, self.input_shape, self.kernel_size, self.stride, self.pad, self.layout)

    def backward(self, gy, y, cols):
        return im2col_op(
            gy, kernel_size=self.kernel_size, stride=self.stride, pad=self.pad, layout=self.layout
        )


im2col_op = Im2col.apply
col2im_op = Col2im.apply


class Conv2d(Op):
    """x (B, C, H, W), W (OC, C, KH, KW), b (OC,) or None -> y (B, OC, OH, OW).

    One matrix product W.reshape(OC, -1) @ im2col columns (the "columns" layout). The
    output is a transposed view of that (OC, B, OH, OW) product: copying it to
    (B, OC, OH, OW) order would cost a pass over memory that no later op needs.
    """

    __slots__ = ("pad", "stride")

    def __init__(self, stride: Pair = (1, 1), pad: Pair = (0, 0)):
        self.stride = stride
        self.pad = pad

    def forward(self, x, W, b):
        if x.ndim != 4 or W.ndim != 4:
            raise ValueError(f"x {x.shape} must be (B, C, H, W) and W {W.shape} (OC, C, KH, KW)")
        if x.shape[1] != W.shape[1]:
            raise ValueError(
                f"x has {x.shape[1]} channels but W expects {W.shape[1]}: x {x.shape}, W {W.shape}"
            )
        if b is not None and b.shape != W.shape[:1]:
            raise ValueError(f"b {b.shape} must be ({W.shape[0]},), one bias per output channel")
        out_h, out_w = output_size(x.shape, W.shape[2:], self.stride, self.pad)
        cols = _im2col(x, W.shape[2:], self.stride, self.pad, "columns")
        self.saved = cols
        y = W.reshape(W.shape[0], -1) @ cols
        if b is not None:
            y += b.reshape(-1, 1)
        return y.reshape(W.shape[0], x.shape[0], out_h, out_w).transpose(1, 0, 2, 3)

    def backward(self, gy, y, x, W, b):
        channels = W.shape[0]
        geometry = {
            "kernel_size": W.shape[2:],
            "stride": self.stride,
            "pad": self.pad,
            "layout": "columns",
        }
        gy_rows = gy.transpose(1, 0, 2, 3).reshape(channels, -1)  # (OC, B*OH*OW)
        gx = gW = gb = None
        if self.needs_grad(0):
            gx = col2im_op(W.reshape(channels, -1).T @ gy_rows, input_shape=x.shape, **geometry)
        if self.needs_grad(1):
            # Under create_graph the weight gradient must be differentiable in x too:
            # rebuild the columns as an op rather than reuse the saved array.
            differentiable = isinstance(x, Tensor) and x.requires_grad
            cols = im2col_op(x, **geometry) if differentiable else self.saved
            gW = (gy_rows @ cols.T).reshape(W.shape)
        if self.needs_grad(2):
            gb = gy_rows.sum(axis=1)
        return gx, gW, gb


class MaxPool2d(Op):
    """x (B, C, H, W) -> the maximum of each window, (B, C, OH, OW).

    The gradient goes to the first arg-max of each window (as PyTorch's); overlapping
    windows add up. Padding is -inf, so it never wins.
    """

    __slots__ = ("kernel_size", "pad", "stride")

    def __init__(self, kernel_size: Pair, stride: Pair, pad: Pair = (0, 0)):
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        kh, kw = self.kernel_size
        if 2 * self.pad[0] > kh or 2 * self.pad[1] > kw:
            raise ValueError(f"pad {self.pad} must be at most half the kernel {self.kernel_size}")
        output_size(x.shape, self.kernel_size, self.stride, self.pad)  # no window fits: raise
        windows = _windows(_padded(x, self.pad, -xp.inf), self.kernel_size, self.stride)
        # Passes per kernel offset, vectorised over pixels, with no copy of the windows:
        # the maximum first, then the offset holding it, the first one on ties (from the
        # last offset to the first, so the first writes last). 2.4 times faster than one
        # pass of compare-and-copy per offset (2.7 vs 6.5 ms on LeNet's first pool).
        offsets = [windows[..., i, j] for i in range(kh) for j in range(kw)]
        y = offsets[0].copy()
        for window_values in offsets[1:]:
            xp.maximum(y, window_values, out=y)
        last = kh * kw - 1  # where no earlier offset holds the maximum, the last one does
        argmax = xp.full(y.shape, last, dtype=np.min_scalar_type(last))
        for k in range(last - 1, -1, -1):
            argmax = xp.where(offsets[k] == y, argmax.dtype.type(k), argmax)
        self.saved = argmax
        return y

    def backward(self, gy, y, x):
        B, C, H, W = x.shape
        kh, kw = self.kernel_size
        argmax = self.saved.reshape(1, -1)
        onehot = argmax == xp.arange(kh * kw, dtype=argmax.dtype).reshape(-1, 1)
        # Channels folded into the batch make each window a column of a 1-channel im2col.
        cols = gy.reshape(1, -1) * onehot.astype(gy.dtype)
        gx = col2im_op(
            cols,
            input_shape=(B * C, 1, H, W),
            kernel_size=self.kernel_size,
            stride=self.stride,
            pad=self.pad,
            layout="columns",
        )
        return gx.reshape(x.shape)


class Dropout(Op):
    """Zeroes each element with probability ``p`` and scales survivors by 1 / (1 - p).

    The mask comes from ``generator`` (a ``numpy.random.Generator``) or, when it is None,
    from NumPy's global RNG, so ``np.random.seed`` makes it repeatable.
    """

    __slots__ = ("generator", "p")

    def __init__(self, p: float, generator: np.random.Generator | None = None):
        self.p = check_probability(p)
        self.generator = generator

    def forward(self, x):
        draw = xp.random.random_sample if self.generator is None else self.generator.random
        keep = draw(x.shape) >= self.p
        scale = 1.0 / (1.0 - self.p) if self.p < 1 else 0.0
        self.saved = keep.astype(x.dtype) * scale
        return x * self.saved

    def backward(self, gy, y, x):
        return gy * self.saved

    def params(self) -> dict[str, Any]:
        return {"p": self.p}


def _array_or_tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else xp.asarray(x)


def im2col(x: Any, kernel_size: int | Pair, stride: int | Pair = 1, pad: int | Pair = 0) -> Any:
    """Every window of x (B, C, H, W) as one row: (B*OH*OW, C*KH*KW).

    Rows run over (b, oh, ow), columns over (c, kh, kw), so a convolution is
    ``im2col(x, k) @ W.reshape(OC, -1).T``. Zero padding. An ndarray gives an ndarray;
    a Tensor gives a differentiable Tensor (col2im is the backward).
    """
    return im2col_op(
        _array_or_tensor(x),
        kernel_size=pair(kernel_size, "kernel_size"),
        stride=pair(stride, "stride"),
        pad=pair(pad, "pad", minimum=0),
    )


def col2im(
    cols: Any,
    input_shape: tuple[int, int, int, int],
    kernel_size: int | Pair,
    stride: int | Pair = 1,
    pad: int | Pair = 0,
) -> Any:
    """The adjoint of ``im2col``: rows (B*OH*OW, C*KH*KW) added back into (B, C, H, W).

    Where windows overlap their values add up; padding is cropped away.
    ``<im2col(x), c> == <x, col2im(c)>`` for every x and c.
    """
    return col2im_op(
        _array_or_tensor(cols),
        input_shape=tuple(input_shape),
        kernel_size=pair(kernel_size, "kernel_size"),
        stride=pair(stride, "stride"),
        pad=pair(pad, "pad", minimum=0),
    )


def conv2d(x: Any, W: Any, b: Any = None, stride: int | Pair = 1, pad: int | Pair = 0) -> Any:
    """2-D cross-correlation (as PyTorch's conv2d): x (B, C, H, W), W (OC, C, KH, KW),
    b (OC,) -> (B, OC, OH, OW) with OH = (H + 2*pad - KH) // stride + 1."""
    return Conv2d.apply(x, W, b, stride=pair(stride, "stride"), pad=pair(pad, "pad", minimum=0))


def max_pool2d(
    x: Any, kernel_size: int | Pair, stride: int | Pair | None = None, pad: int | Pair = 0
) -> Any:
    """The maximum over each window of x (B, C, H, W); stride defaults to the kernel size."""
    kernel = pair(kernel_size, "kernel_size")
    return MaxPool2d.apply(
        x,
        kernel_size=kernel,
        stride=kernel if stride is None else pair(stride, "stride"),
        pad=pair(pad, "pad", minimum=0),
    )


def dropout(x: Any, p: float = 0.5, generator: np.random.Generator | None = None) -> Any:
    """Inverted dropout, always applied: ``functional.dropout`` skips it outside training."""
    return Dropout.apply(x, p=p, generator=generator)
