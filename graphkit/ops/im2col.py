"""im2col and col2im, the ops convolution is built on.

im2col lays every window of a (B, C, H, W) input out as one column of a matrix, so a
convolution becomes a single matrix product. Two layouts of the same windows exist:

* ``"rows"`` (the book's, what the public ``im2col`` returns): one row per output pixel,
  shape (B*OH*OW, C*KH*KW), rows ordered (b, oh, ow), columns (c, kh, kw), so that
  ``conv = im2col(x) @ W.reshape(OC, -1).T``;
* ``"columns"`` (what ``conv2d`` and ``conv_transpose2d`` use inside): (C*KH*KW, OH*OW*B),
  rows ordered (c, kh, kw) and columns (oh, ow, b), the batch last. Images are kept
  "batch last" in memory too, (C, H, W, B), so every copy and add here moves runs of
  OW*B contiguous numbers instead of rows of OW, and a convolution's output is a free
  view of its matrix product (docs/design.md, "Images in memory").

im2col is one strided copy of a view of the (padded) input, into a buffer kept across
steps (``buffers.reusable_empty``); ``col2im``, the adjoint, loops over the KH*KW kernel
offsets only, adding one slice of the output per offset. The window geometry and the
memory layouts live in ``graphkit.ops.windows``.
"""

from __future__ import annotations

from typing import Any

from graphkit.backend import ndarray, xp
from graphkit.graph import Op
from graphkit.ops.buffers import inverse, reusable_empty
from graphkit.ops.windows import (
    BATCH_LAST,
    Pair,
    add_at_offsets,
    kernel_offsets,
    output_size,
    padded,
    pair,
    windows,
)
from graphkit.tensor import Tensor

# The windows view is (B, C, OH, OW, KH, KW); each layout is a permutation of it.
_LAYOUT_AXES = {"rows": (0, 2, 3, 1, 4, 5), "columns": (1, 4, 5, 2, 3, 0)}
# The memory order im2col reads its (padded) input in, and col2im accumulates in, so that
# each per-offset slice walks both operands in memory order.
_INPUT_AXES = {"rows": (0, 1, 2, 3), "columns": BATCH_LAST}
_BUFFER_AXES = {"rows": (0, 2, 3, 1), "columns": BATCH_LAST}


def im2col_array(x: ndarray, kernel: Pair, stride: Pair, pad: Pair, layout: str) -> ndarray:
    out_h, out_w = output_size(x.shape, kernel, stride, pad)
    source = padded(x, pad, _INPUT_AXES[layout])
    cells = windows(source, kernel, stride).transpose(_LAYOUT_AXES[layout])
    shape = _im2col_shape((*x.shape[:2], out_h, out_w, *kernel), layout)
    # The windows lie in order already (1x1 kernels): x's own memory, never a padded
    # copy's (its frame is kept for later calls, so it must not reach anyone who writes).
    if source is x and cells.flags.c_contiguous:
        return cells.reshape(shape)
    cols = reusable_empty(shape, x.dtype)
    xp.copyto(cols.reshape(cells.shape), cells)
    return cols


def col2im_array(
    cols: ndarray, input_shape: tuple[int, ...], kernel: Pair, stride: Pair, pad: Pair, layout: str
) -> ndarray:
    out_h, out_w = output_size(input_shape, kernel, stride, pad)
    axes = _LAYOUT_AXES[layout]
    windows_shape = (*input_shape[:2], out_h, out_w, *kernel)
    expected = _im2col_shape(windows_shape, layout)
    if cols.shape != expected:
        raise ValueError(
            f"columns of shape {cols.shape} do not fit input shape {input_shape} "
            f"with kernel {kernel}, stride {stride}, pad {pad}: expected {expected}"
        )
    cells = cols.reshape([windows_shape[a] for a in axes]).transpose(inverse(axes))
    shares = (cells[..., i, j] for i, j in kernel_offsets(kernel))
    return add_at_offsets(shares, input_shape, (out_h, out_w), kernel, stride, pad,
                          _BUFFER_AXES[layout], cols.dtype)


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
        return im2col_array(x, self.kernel_size, self.stride, self.pad, self.layout)

    def backward(self, gy, y, x):
        return col2im_op(
            gy,
            input_shape=x.shape,
            kernel_size=self.kernel_size,
            stride=self.stride,
            pad=self.pad,
            layout=self.layout,
        )

    def jvp(self, dxs, y, x):
        return im2col_op(dxs[0], **self.params())


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
        return col2im_array(
            cols, self.input_shape, self.kernel_size, self.stride, self.pad, self.layout
        )

    def backward(self, gy, y, cols):
        return im2col_op(
            gy, kernel_size=self.kernel_size, stride=self.stride, pad=self.pad, layout=self.layout
        )

    def jvp(self, dxs, y, cols):
        return col2im_op(dxs[0], **self.params())


im2col_op = Im2col.apply
col2im_op = Col2im.apply


def array_or_tensor(x: Any) -> Any:
    """A Tensor as it is, anything else as an ndarray."""
    return x if isinstance(x, Tensor) else xp.asarray(x)


def im2col(x: Any, kernel_size: int | Pair, stride: int | Pair = 1, pad: int | Pair = 0) -> Any:
    """Every window of x (B, C, H, W) as one row: (B*OH*OW, C*KH*KW).

    Rows run over (b, oh, ow), columns over (c, kh, kw), so a convolution is
    ``im2col(x, k) @ W.reshape(OC, -1).T``. Zero padding. An ndarray gives an ndarray;
    a Tensor gives a differentiable Tensor (col2im is the backward).
    """
    return im2col_op(
        array_or_tensor(x),
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
        array_or_tensor(cols),
        input_shape=tuple(input_shape),
        kernel_size=pair(kernel_size, "kernel_size"),
        stride=pair(stride, "stride"),
        pad=pair(pad, "pad", minimum=0),
    )
