"""2-D convolution as one matrix product over im2col columns."""

from __future__ import annotations

from typing import Any

from graphkit.graph import Op
from graphkit.ops.im2col import Pair, col2im_op, im2col_array, im2col_op, output_size, pair
from graphkit.ops.tangents import total
from graphkit.tensor import Tensor


class Conv2d(Op):
    """x (B, C, H, W), W (OC, C, KH, KW), b (OC,) or None -> y (B, OC, OH, OW).

    One matrix product W.reshape(OC, -1) @ im2col columns (the "columns" layout). The
    output is a transposed view of that (OC, OH, OW, B) product, batch last in memory:
    copying it to (B, OC, OH, OW) order would cost a pass over memory that no later op
    needs.
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
        cols = im2col_array(x, W.shape[2:], self.stride, self.pad, "columns")
        self.saved = cols
        y = W.reshape(W.shape[0], -1) @ cols
        if b is not None:
            y += b.reshape(-1, 1)
        return y.reshape(W.shape[0], out_h, out_w, x.shape[0]).transpose(3, 0, 1, 2)

    def backward(self, gy, y, x, W, b):
        channels = W.shape[0]
        geometry = {
            "kernel_size": W.shape[2:],
            "stride": self.stride,
            "pad": self.pad,
            "layout": "columns",
        }
        gy_rows = gy.transpose(1, 2, 3, 0).reshape(channels, -1)  # (OC, OH*OW*B)
        gx = gW = gb = None
        if self.needs_grad(0):
            gx = col2im_op(W.reshape(channels, -1).T @ gy_rows, input_shape=x.shape, **geometry)
        if self.needs_grad(1):
            # Under create_graph the weight gradient must be differentiable in x too:
            # rebuild the columns as an op rather than reuse the saved array.
            differentiable = isinstance(x, Tensor) and x.requires_grad
            cols = im2col_op(x, **geometry) if differentiable else self.saved
            # The product gy_rows @ cols.T, computed as (cols @ gy_rows.T).T: OpenBLAS runs
            # an inner dimension this long about a quarter faster this way round (LeNet's
            # second conv at batch 64: 3.1 instead of 4.0 ms; its first: 1.2 instead of 1.6).
            gW = (cols @ gy_rows.T).T.reshape(W.shape)
        if self.needs_grad(2):
            gb = gy_rows.sum(axis=1)
        return gx, gW, gb

    def jvp(self, dxs, y, x, W, b):
        dx, dW, db = dxs
        geometry = {"stride": self.stride, "pad": self.pad}
        return total(
            None if dx is None else Conv2d.apply(dx, W, None, **geometry),
            None if dW is None else Conv2d.apply(x, dW, None, **geometry),
            None if db is None else db.reshape(1, -1, 1, 1),
        )


def conv2d(x: Any, W: Any, b: Any = None, stride: int | Pair = 1, pad: int | Pair = 0) -> Any:
    """2-D cross-correlation (as PyTorch's conv2d): x (B, C, H, W), W (OC, C, KH, KW),
    b (OC,) -> (B, OC, OH, OW) with OH = (H + 2*pad - KH) // stride + 1."""
    return Conv2d.apply(x, W, b, stride=pair(stride, "stride"), pad=pair(pad, "pad", minimum=0))
