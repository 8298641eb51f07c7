"""LSE: logsumexp over the last axis of (128, 1000), forward+backward, against NumPy by hand.

The hand-written version is written well: one shifted exponential kept from forward, and
the gradient as that array times gy / sum per row, one pass over the elements.
"""

from __future__ import annotations

import numpy as np

import graphkit as gk
from benchmarks.harness import Result, time_variants, torch_or_none

LSE_SHAPE = (128, 1000)


def numpy_logsumexp(x: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """logsumexp(x, axis=1) of x (B, N) and its gradient for gy (B,): (y (B,), gx (B, N))."""
    top = x.max(axis=1, keepdims=True)
    exps = x - top
    np.exp(exps, out=exps)
    total = exps.sum(axis=1, keepdims=True)
    y = (np.log(total) + top).reshape(-1)
    exps *= gy.reshape(-1, 1) / total
    return y, exps


def _graphkit_step(x: np.ndarray, gy: np.ndarray):
    xt = gk.Tensor(x, requires_grad=True)

    def step():
        xt.grad = None
        y = xt.logsumexp(axis=1)
        y.backward(gy)
        return y.data, xt.grad.data

    return step


def _torch_step(torch, x: np.ndarray, gy: np.ndarray):
    xt = torch.tensor(x, requires_grad=True)
    gyt = torch.from_numpy(gy)

    def step():
        xt.grad = None
        y = torch.logsumexp(xt, dim=1)
        y.backward(gyt)
        return y.detach().numpy(), xt.grad.numpy()

    return step


def lse(repeats: int) -> Result:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(LSE_SHAPE) * 3).astype(np.float32)
    gy = rng.standard_normal(LSE_SHAPE[0]).astype(np.float32)
    variants = {"graphkit": _graphkit_step(x, gy), "numpy": lambda: numpy_logsumexp(x, gy)}
    for got, expected in zip(variants["graphkit"](), variants["numpy"]()):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = _torch_step(torch, x, gy)
    return Result("LSE", f"logsumexp(axis=1) fwd+bwd, {LSE_SHAPE}, float32", "ms",
                  time_variants(variants, repeats))
