"""A tuned hand-written NumPy step of the conv networks of W3, W4 and MEM (issue #19).

conv (stride 1, zero padding) - ReLU - 2x2/2 max-pool, twice, then linear and
softmax-CE, then SGD in place: what a careful person writes when speed matters.

* Activations are stored (C, H, W, B), the batch innermost, so every window copy and
  every strided add moves runs of W*B contiguous numbers.
* im2col is one ``np.copyto`` out of a ``sliding_window_view`` of the padded input into
  a (C, k, k, OH, OW, B) buffer, which is the (C*k*k, OH*OW*B) matrix of the GEMM.
* Each convolution is one GEMM per direction, written with ``out=``; the column
  gradient goes into the spent im2col buffer.
* col2im is k*k strided adds into a padded buffer, whose interior is the input gradient.
* The max-pool compares four strided views; forward records the winner as three boolean
  masks (left beats right in the top row, in the bottom row, top beats bottom), and
  backward splits the gradient with them. Ties go to the first maximum, row-major, as
  PyTorch's (and graphkit's) arg-max.
* Every buffer is allocated once, when the step is built; the softmax of the (B, 10)
  logits is the one exception, as small as the labels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks.mlp_steps import softmax_with_loss


class ConvReluPool:
    """One conv (weight (OC, C, k, k), bias (OC,), stride 1, ``pad``) - ReLU - 2x2/2
    max-pool block on (C, H, W, B) activations, with all its buffers.

    ``weight`` and ``bias`` are the arrays SGD updates in place. ``need_input_grad``
    False (the first layer) skips the column GEMM and col2im.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, image: tuple[int, int, int, int],
                 pad: int, need_input_grad: bool) -> None:
        channels, height, width, batch = image
        out_channels, _, k, _ = weight.shape
        dtype = weight.dtype
        self.weight, self.bias, self.k = weight, bias, k
        self.need_input_grad = need_input_grad
        out_h, out_w = height + 2 * pad - k + 1, width + 2 * pad - k + 1
        pool_h, pool_w = out_h // 2, out_w // 2
        # The border of the padded input is zeroed once; each step writes the interior.
        self.padded = np.zeros((channels, height + 2 * pad, width + 2 * pad, batch), dtype)
        self.interior = self.padded[:, pad : pad + height, pad : pad + width]
        self.windows = sliding_window_view(self.padded, (k, k), axis=(1, 2)).transpose(
            0, 4, 5, 1, 2, 3)  # (C, k, k, OH, OW, B), no copy
        self.cols = np.empty(self.windows.shape, dtype)
        self.cols_matrix = self.cols.reshape(channels * k * k, -1)
        self.out = np.empty((out_channels, out_h, out_w, batch), dtype)
        self.out_matrix = self.out.reshape(out_channels, -1)
        self.active = np.empty(self.out.shape, bool)
        pooled = (out_channels, pool_h, pool_w, batch)
        self.top, self.bottom, self.pooled = (np.empty(pooled, dtype) for _ in range(3))
        self.left_wins_top, self.left_wins_bottom, self.top_wins = (
            np.empty(pooled, bool) for _ in range(3))
        self.quarters = _quarters(self.out, pool_h, pool_w)
        # Rows and columns a floor-sized pool leaves out get no gradient: zero from here on.
        self.grad_out = np.zeros(self.out.shape, dtype)
        self.grad_out_matrix = self.grad_out.reshape(out_channels, -1)
        self.grad_quarters = _quarters(self.grad_out, pool_h, pool_w)
        self.grad_weight_t = np.empty((channels * k * k, out_channels), dtype)
        self.grad_bias = np.empty_like(bias)
        self.grad_padded = np.empty_like(self.padded) if need_input_grad else None
        self.grad_input = (None if self.grad_padded is None
                           else self.grad_padded[:, pad : pad + height, pad : pad + width])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (C, H, W, B) -> pooled (OC, OH // 2, OW // 2, B), an array of this block's."""
        np.copyto(self.interior, x)
        np.copyto(self.cols, self.windows)
        y = self.out_matrix
        np.matmul(self.weight.reshape(len(y), -1), self.cols_matrix, out=y)
        y += self.bias[:, None]
        np.maximum(y, 0, out=y)
        np.greater(self.out, 0, out=self.active)
        a, b, c, d = self.quarters
        np.maximum(a, b, out=self.top)
        np.greater_equal(a, b, out=self.left_wins_top)
        np.maximum(c, d, out=self.bottom)
        np.greater_equal(c, d, out=self.left_wins_bottom)
        np.maximum(self.top, self.bottom, out=self.pooled)
        np.greater_equal(self.top, self.bottom, out=self.top_wins)
        return self.pooled

    def backward(self, g: np.ndarray) -> np.ndarray | None:
        """g (OC, OH // 2, OW // 2, B), the gradient of the pooled output -> the gradient
        of x (a view of this block's buffer), None without ``need_input_grad``. Leaves
        the weight's gradient, transposed, in ``grad_weight_t`` and the bias's in
        ``grad_bias``; the weight is not updated yet (the input gradient needs it)."""
        top, bottom = self.top, self.bottom  # spent: they now hold the gradient's halves
        np.multiply(g, self.top_wins, out=top)
        np.subtract(g, top, out=bottom)
        ga, gb, gc, gd = self.grad_quarters
        np.multiply(top, self.left_wins_top, out=ga)
        np.subtract(top, ga, out=gb)
        np.multiply(bottom, self.left_wins_bottom, out=gc)
        np.subtract(bottom, gc, out=gd)
        gy = self.grad_out_matrix
        np.multiply(gy, self.active.reshape(gy.shape), out=gy)
        np.matmul(self.cols_matrix, gy.T, out=self.grad_weight_t)
        np.sum(gy, axis=1, out=self.grad_bias)
        if not self.need_input_grad:
            return None
        np.matmul(self.weight.reshape(len(gy), -1).T, gy, out=self.cols_matrix)
        k, out_h, out_w = self.k, self.out.shape[1], self.out.shape[2]
        self.grad_padded.fill(0)
        for i in range(k):
            for j in range(k):
                self.grad_padded[:, i : i + out_h, j : j + out_w] += self.cols[:, i, j]
        return self.grad_input

    def update(self, lr: float) -> None:
        """SGD in place, the gradients' buffers scaled as they go."""
        self.grad_weight_t *= lr
        self.weight.reshape(len(self.bias), -1)[...] -= self.grad_weight_t.T
        self.grad_bias *= lr
        self.bias -= self.grad_bias


def _quarters(image: np.ndarray, pool_h: int, pool_w: int) -> list[np.ndarray]:
    """The four strided views (C, pool_h, pool_w, B) of image (C, H, W, B) holding the
    top-left, top-right, bottom-left and bottom-right pixel of every 2x2 window."""
    return [image[:, i : 2 * pool_h : 2, j : 2 * pool_w : 2] for i in (0, 1) for j in (0, 1)]


class TunedCNN:
    """The step of conv-ReLU-pool twice, linear, softmax-CE, SGD on fixed data.

    ``x`` (B, C, H, W), labels ``t`` (B,), ``params`` the six arrays w1, b1, w2, b2,
    wf (F, 10), bf (10,), updated in place by ``step``; ``pads`` the two convolutions'
    padding. The linear layer reads the features in (C, H, W) order, as
    ``h.reshape(B, -1)`` of (B, C, H, W) activations does.
    """

    def __init__(self, x: np.ndarray, t: np.ndarray, params: list[np.ndarray], lr: float,
                 pads: tuple[int, int]) -> None:
        w1, b1, w2, b2, wf, bf = params
        batch, channels, height, width = x.shape
        self.x, self.t, self.lr = x, t, lr
        self.first = ConvReluPool(w1, b1, (channels, height, width, batch), pads[0], False)
        second_in = self.first.pooled.shape
        self.second = ConvReluPool(w2, b2, second_in, pads[1], True)
        self.wf, self.bf = wf, bf
        dtype = wf.dtype
        self.logits = np.empty((batch, wf.shape[1]), dtype)
        self.grad_wf = np.empty_like(wf)
        self.grad_flat = np.empty((wf.shape[0], batch), dtype)

    def step(self) -> float:
        """One SGD step; returns the loss before it."""
        first, second = self.first, self.second
        h = first.forward(self.x.transpose(1, 2, 3, 0))
        h = second.forward(h)
        flat = h.reshape(-1, h.shape[-1])  # (C*H*W, B), no copy
        np.matmul(flat.T, self.wf, out=self.logits)
        self.logits += self.bf
        loss, d = softmax_with_loss(self.logits, self.t)
        np.matmul(flat, d, out=self.grad_wf)
        grad_bf = d.sum(axis=0)
        np.matmul(self.wf, d.T, out=self.grad_flat)
        g = second.backward(self.grad_flat.reshape(h.shape))
        first.backward(g)
        first.update(self.lr)
        second.update(self.lr)
        self.grad_wf *= self.lr
        self.wf -= self.grad_wf
        self.bf -= self.lr * grad_bf
        return loss
