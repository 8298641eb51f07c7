"""2-D convolution and its transpose, each one matrix product over im2col columns.

``conv2d`` is ``W.reshape(OC, -1) @ im2col(x)`` (the "columns" layout, batch last); its
input gradient is ``col2im(W.reshape(OC, -1).T @ gy)``. ``conv_transpose2d`` is that
input gradient taken as an op of its own (the adjoint of conv2d in x), so the two share
their halves: each one's forward is the other's input gradient, and the weight gradient
of both is one product of im2col columns with the rows of the other operand.
"""

from __future__ import annotations

from typing import Any

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.buffers import reusable_empty
from graphkit.ops.im2col import col2im_op, im2col_array, im2col_op
from graphkit.ops.tangents import total
from graphkit.ops.windows import (
    Pair,
    output_size,
    pair,
    transposed_output_size,
)
from graphkit.tensor import Tensor


class Conv2d(Op):
    """x (B, C, H, W), W (OC, C, KH, KW), b (OC,) or None -> y (B, OC, OH, OW).

    One matrix product W.reshape(OC, -1) @ im2col columns (the "columns" layout). The
    output is a transposed view of that (OC, OH, OW, B) product, batch last in memory:
    copying it to (B, OC, OH, OW) order would cost a pass over memory that no later op
    needs.
    """

    grad_reads = ((1,), (0,), ())
    __slots__ = ("pad", "stride")

    def __init__(self, stride: Pair = (1, 1), pad: Pair = (0, 0)):
        self.stride = stride
        self.pad = pad

    def forward(self, x, W, b):
        _check_shapes(x, W, b, "(OC, C, KH, KW)", in_axis=1, out_axis=0)
        out_h, out_w = output_size(x.shape, W.shape[2:], self.stride, self.pad)
        cols = im2col_array(x, W.shape[2:], self.stride, self.pad, "columns")
        self.saved = cols
        return _correlate(W, cols, (x.shape[0], W.shape[0], out_h, out_w), b)

    def backward(self, gy, y, x, W, b):
        geometry = _geometry(self, W)
        gy_rows = _rows(gy)  # (OC, OH*OW*B)
        gx = gW = gb = None
        if self.needs_grad(1):
            # On Tensors (create_graph, or forward mode over this backward) the weight
            # gradient must be differentiable in x too, whether x requires grad or only
            # carries a tangent: rebuild the columns as an op rather than reuse the
            # saved array.
            cols = im2col_op(x, **geometry) if isinstance(x, Tensor) else self._columns(x, W)
            gW = _weight_gradient(cols, gy_rows, W.shape)
            del cols
        if self.needs_grad(0):
            if not isinstance(x, Tensor):
                # The weight gradient has spent the saved columns. With no reference to
                # them left, the column gradient, of their shape, takes their buffer
                # (reusable_empty) instead of a second one as large; a second backward
                # (retain_graph=True) makes them again.
                self.saved = None
            gx = _correlate_transposed(W, gy_rows, x.shape, geometry)
        if self.needs_grad(2):
            gb = gy_rows.sum(axis=1)
        return gx, gW, gb

    def _columns(self, x, W):
        """The im2col columns of x: those forward saved, unless a backward spent them."""
        if self.saved is None:
            return im2col_array(x, W.shape[2:], self.stride, self.pad, "columns")
        return self.saved

    def jvp(self, dxs, y, x, W, b):
        return _bilinear_jvp(Conv2d.apply, self, dxs, x, W)


class ConvTranspose2d(Op):
    """x (B, C_in, H, W), W (C_in, C_out, KH, KW), b (C_out,) or None
    -> y (B, C_out, OH, OW), OH = (H - 1) * stride - 2 * pad + KH (and likewise OW).

    The input gradient of ``Conv2d`` with weight W, taken as an op (PyTorch's
    conv_transpose2d): one matrix product W.reshape(C_in, -1).T @ x, then col2im, so
    every input pixel adds its copy of W, scaled by its value, into one window of the
    output. The output is stored batch last, as conv2d's.
    """

    __slots__ = ("pad", "stride")

    def __init__(self, stride: Pair = (1, 1), pad: Pair = (0, 0)):
        self.stride = stride
        self.pad = pad

    def forward(self, x, W, b):
        _check_shapes(x, W, b, "(C_in, C_out, KH, KW)", in_axis=0, out_axis=1)
        out_h, out_w = transposed_output_size(x.shape, W.shape[2:], self.stride, self.pad)
        rows = _rows(x)
        self.saved = rows
        y = _correlate_transposed(W, rows, (x.shape[0], W.shape[1], out_h, out_w),
                                  _geometry(self, W))
        if b is not None:
            y += b.reshape(-1, 1, 1)
        return y

    def backward(self, gy, y, x, W, b):
        # One im2col of gy serves both gradients: conv2d(gy, W) for x, and the product
        # with x's rows for W.
        cols = im2col_op(gy, **_geometry(self, W))  # (C_out*KH*KW, H*W*B)
        gx = gW = gb = None
        if self.needs_grad(0):
            gx = _correlate(W, cols, x.shape)
        if self.needs_grad(1):
            # x's rows as forward laid them out, unless the weight gradient must be
            # differentiable in x (on Tensors), as in Conv2d.
            rows = _rows(x) if isinstance(x, Tensor) else self.saved
            gW = _weight_gradient(cols, rows, W.shape)
        if self.needs_grad(2):
            gb = gy.sum(axis=(0, 2, 3))
        return gx, gW, gb

    def jvp(self, dxs, y, x, W, b):
        return _bilinear_jvp(ConvTranspose2d.apply, self, dxs, x, W)


def _check_shapes(x, W, b, w_layout: str, in_axis: int, out_axis: int) -> None:
    """ValueError unless x is (B, C, H, W), W 4-D with x's C on ``in_axis`` and b holds
    one bias per output channel (W's ``out_axis``)."""
    if x.ndim != 4 or W.ndim != 4:
        raise ValueError(f"x {x.shape} must be (B, C, H, W) and W {W.shape} {w_layout}")
    if x.shape[1] != W.shape[in_axis]:
        raise ValueError(
            f"x has {x.shape[1]} channels but W expects {W.shape[in_axis]}: "
            f"x {x.shape}, W {W.shape} {w_layout}"
        )
    channels = W.shape[out_axis]
    if b is not None and b.shape != (channels,):
        raise ValueError(f"b {b.shape} must be ({channels},), one bias per output channel")


def _geometry(op: Any, W: Any) -> dict[str, Any]:
    """im2col's and col2im's keyword arguments for a convolution with weight W."""
    return {"kernel_size": W.shape[2:], "stride": op.stride, "pad": op.pad,
            "layout": "columns"}


def _rows(x: Any) -> Any:
    """x (B, C, H, W) as the matrix (C, H*W*B), the order of im2col's "columns"."""
    return x.transpose(1, 2, 3, 0).reshape(x.shape[1], -1)


def _correlate(W: Any, cols: Any, out_shape: tuple[int, ...], b: Any = None) -> Any:
    """W (OC, ...) applied to im2col columns, plus the bias b (OC,) when given:
    (B, OC, OH, OW) of ``out_shape``, a batch-last view of the product."""
    B, channels, out_h, out_w = out_shape
    W_rows = W.reshape(W.shape[0], -1)
    if isinstance(W, Tensor) or isinstance(cols, Tensor):
        product = W_rows @ cols
    else:  # on arrays, into a buffer kept across steps
        out = reusable_empty((channels, cols.shape[1]), xp.result_type(W, cols))
        product = xp.matmul(W_rows, cols, out=out)
    if b is not None:
        # Added to the (OC, P) matrix, row by row, rather than broadcast over the
        # transposed 4-D view.
        product += b.reshape(-1, 1)
    return product.reshape(channels, out_h, out_w, B).transpose(3, 0, 1, 2)


def _correlate_transposed(
    W: Any, rows: Any, image_shape: tuple[int, ...], geometry: dict[str, Any]
) -> Any:
    """The adjoint of ``_correlate`` followed by im2col: rows (OC, P) of one channel per
    row of W -> the image (B, C, H, W) of ``image_shape`` whose windows they came from."""
    W_columns = W.reshape(W.shape[0], -1).T
    if isinstance(W, Tensor) or isinstance(rows, Tensor):
        product = W_columns @ rows
    else:  # on arrays, into a buffer kept across steps
        out = reusable_empty((W_columns.shape[0], rows.shape[1]), xp.result_type(W, rows))
        product = xp.matmul(W_columns, rows, out=out)
    return col2im_op(product, input_shape=image_shape, **geometry)


def _weight_gradient(cols: Any, rows: Any, shape: tuple[int, ...]) -> Any:
    """rows (N, P) @ cols.T (P, M), reshaped to the weight's ``shape``.

    Computed as (cols @ rows.T).T: OpenBLAS runs an inner dimension this long (P is
    OH*OW*B) markedly faster this way round.
    """
    return (cols @ rows.T).T.reshape(shape)


def _bilinear_jvp(apply: Any, op: Any, dxs: tuple[Any, ...], x: Any, W: Any) -> Any:
    """The tangent of a convolution, linear in x and in W apart: conv(dx, W) + conv(x, dW)
    + db, each term skipped where its input has no tangent."""
    dx, dW, db = dxs
    geometry = {"stride": op.stride, "pad": op.pad}
    return total(
        None if dx is None else apply(dx, W, None, **geometry),
        None if dW is None else apply(x, dW, None, **geometry),
        None if db is None else db.reshape(1, -1, 1, 1),
    )


def conv2d(x: Any, W: Any, b: Any = None, stride: int | Pair = 1, pad: int | Pair = 0) -> Any:
    """2-D cross-correlation (as PyTorch's conv2d): x (B, C, H, W), W (OC, C, KH, KW),
    b (OC,) -> (B, OC, OH, OW) with OH = (H + 2*pad - KH) // stride + 1."""
    return Conv2d.apply(x, W, b, stride=pair(stride, "conv2d: stride"),
                        pad=pair(pad, "conv2d: pad", minimum=0))


def conv_transpose2d(
    x: Any, W: Any, b: Any = None, stride: int | Pair = 1, pad: int | Pair = 0
) -> Any:
    """2-D transposed convolution (as PyTorch's conv_transpose2d): x (B, C_in, H, W),
    W (C_in, C_out, KH, KW), b (C_out,) -> (B, C_out, OH, OW) with
    OH = (H - 1) * stride - 2 * pad + KH: the adjoint of ``conv2d`` in its input."""
    return ConvTranspose2d.apply(x, W, b, stride=pair(stride, "conv_transpose2d: stride"),
                                 pad=pair(pad, "conv_transpose2d: pad", minimum=0))
