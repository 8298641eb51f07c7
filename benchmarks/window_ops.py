"""AVGPOOL and CONVT: avg_pool2d 2x2 on (64, 16, 28, 28) and conv_transpose2d 16->1 5x5
(pad 2, on (64, 16, 28, 28): the transpose of LeNet's first convolution), each forward
and backward in float32, against NumPy by hand.

The hand-written versions are written well, as issue #19 asks of a tuned baseline: the
2x2 average is four strided views added into one buffer and its backward four strided
assignments of one scaled gradient; the transposed convolution is one GEMM and KH*KW
strided adds into a zeroed full-size buffer, and its backward one im2col copy of the
padded gradient out of a sliding_window_view shared by the two GEMMs of the input and
the weight gradients. Each keeps the batch first, as the data arrives.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import graphkit as gk
from benchmarks.harness import Result, time_variants, torch_or_none

POOL_SHAPE = (64, 16, 28, 28)
CONVT_X_SHAPE = (64, 16, 28, 28)
CONVT_W_SHAPE = (16, 1, 5, 5)
CONVT_PAD = 2


# ----- avg_pool2d 2x2 -------------------------------------------------------------------
def numpy_avg_pool(x, gy):
    """2x2 average pooling at stride 2 and its input gradient: (y, gx)."""
    y = x[:, :, 0::2, 0::2] + x[:, :, 0::2, 1::2]
    y += x[:, :, 1::2, 0::2]
    y += x[:, :, 1::2, 1::2]
    y *= 0.25
    share = gy * 0.25
    gx = np.empty_like(x)
    for i in range(2):
        for j in range(2):
            gx[:, :, i::2, j::2] = share
    return y, gx


def avgpool(repeats: int) -> Result:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(POOL_SHAPE).astype(np.float32)
    gy = rng.standard_normal((*POOL_SHAPE[:2], POOL_SHAPE[2] // 2, POOL_SHAPE[3] // 2)).astype(
        np.float32)
    xt = gk.Tensor(x, requires_grad=True)

    def graphkit_step():
        xt.grad = None
        y = gk.F.avg_pool2d(xt, 2)
        y.backward(gy)
        return y.data, xt.grad.data

    variants = {"graphkit": graphkit_step, "numpy": lambda: numpy_avg_pool(x, gy)}
    _check_same(variants["graphkit"](), variants["numpy"]())
    torch = torch_or_none()
    if torch is not None:
        x_torch = torch.from_numpy(x).requires_grad_()
        gy_torch = torch.from_numpy(gy)

        def torch_step():
            x_torch.grad = None
            y = torch.nn.functional.avg_pool2d(x_torch, 2)
            y.backward(gy_torch)
            return y.detach().numpy(), x_torch.grad.numpy()

        variants["torch"] = torch_step
    return Result("AVGPOOL", f"avg_pool2d 2x2 fwd+bwd, {POOL_SHAPE}, float32", "ms",
                  time_variants(variants, repeats))


# ----- conv_transpose2d 16->1 5x5 --------------------------------------------------------
def numpy_conv_transpose(x, W, b, gy, pad):
    """Stride-1 transposed convolution and its gradients: (y, gx, gW, gb)."""
    (B, c_in, H, Wd), (_, c_out, k, _) = x.shape, W.shape
    rows = x.transpose(1, 0, 2, 3).reshape(c_in, -1)  # (C_in, B*H*W)
    cols = (W.reshape(c_in, -1).T @ rows).reshape(c_out, k, k, B, H, Wd)
    full = np.zeros((c_out, B, H + k - 1, Wd + k - 1), x.dtype)
    for i in range(k):
        for j in range(k):
            full[:, :, i : i + H, j : j + Wd] += cols[:, i, j]
    out_h, out_w = H + k - 1 - 2 * pad, Wd + k - 1 - 2 * pad
    y = full[:, :, pad : pad + out_h, pad : pad + out_w].transpose(1, 0, 2, 3) + b.reshape(
        1, -1, 1, 1)
    # Backward: the windows of the padded gradient are the columns of conv2d(gy, W).
    padded = np.pad(gy.transpose(1, 0, 2, 3), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # (C_out, B, H, W, k, k)
    gy_cols = np.ascontiguousarray(windows.transpose(0, 4, 5, 1, 2, 3)).reshape(c_out * k * k, -1)
    gx = (W.reshape(c_in, -1) @ gy_cols).reshape(c_in, B, H, Wd).transpose(1, 0, 2, 3)
    gW = (gy_cols @ rows.T).T.reshape(W.shape)  # the faster orientation for OpenBLAS
    return y, gx, gW, gy.sum(axis=(0, 2, 3))


def convt(repeats: int) -> Result:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(CONVT_X_SHAPE).astype(np.float32)
    W = (rng.standard_normal(CONVT_W_SHAPE) * 0.1).astype(np.float32)
    b = rng.standard_normal(CONVT_W_SHAPE[1]).astype(np.float32)
    out_shape = (CONVT_X_SHAPE[0], CONVT_W_SHAPE[1], *CONVT_X_SHAPE[2:])  # "same" at pad 2
    gy = rng.standard_normal(out_shape).astype(np.float32)
    tensors = [gk.Tensor(a, requires_grad=True) for a in (x, W, b)]

    def graphkit_step():
        for t in tensors:
            t.grad = None
        y = gk.F.conv_transpose2d(*tensors, pad=CONVT_PAD)
        y.backward(gy)
        return (y.data, *(t.grad.data for t in tensors))

    variants = {"graphkit": graphkit_step,
                "numpy": lambda: numpy_conv_transpose(x, W, b, gy, CONVT_PAD)}
    _check_same(variants["graphkit"](), variants["numpy"]())
    torch = torch_or_none()
    if torch is not None:
        leaves = [torch.from_numpy(a).requires_grad_() for a in (x, W, b)]
        gy_torch = torch.from_numpy(gy)

        def torch_step():
            for t in leaves:
                t.grad = None
            y = torch.nn.functional.conv_transpose2d(*leaves, padding=CONVT_PAD)
            y.backward(gy_torch)
            return (y.detach().numpy(), *(t.grad.numpy() for t in leaves))

        variants["torch"] = torch_step
    return Result("CONVT", f"conv_transpose2d 16->1 5x5 pad 2 fwd+bwd, {CONVT_X_SHAPE}, "
                  "float32", "ms", time_variants(variants, repeats))


def _check_same(got, expected) -> None:
    for a, b in zip(got, expected):
        assert a.shape == b.shape, (a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)
