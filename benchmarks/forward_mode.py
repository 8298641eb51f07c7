"""W8 forward mode through the W5 chain, W9 the Hessian of a small tanh MLP."""

from __future__ import annotations

import numpy as np

import graphkit as gk
from benchmarks.graph_overhead import CHAIN, _apply
from benchmarks.harness import Result, time_variants, torch_or_none


def _chain_forward(x: gk.Tensor, n: int = CHAIN) -> gk.Tensor:
    c = gk.Tensor(np.full(4, 0.5))
    y = x
    for i in range(n):
        y = _apply(y, c, i)
    return y


def _chain_jvp_numpy(n: int = CHAIN) -> np.ndarray:
    """The chain's values and tangents carried side by side by hand (dual numbers)."""
    c = np.full(4, 0.5)
    y, dy = np.full(4, 0.1), np.ones(4)
    for i in range(n):
        kind = i % 3
        if kind == 0:
            y = y + c
        elif kind == 1:
            y, dy = y * c, dy * c
        else:
            y = np.tanh(y)
            dy = dy * (1 - y * y)
    return dy


def w8(repeats: int) -> Result:
    x, v = np.full(4, 0.1), np.ones(4)

    def jvp_graphkit():
        return gk.func.jvp(_chain_forward, (x,), (v,))[1].data

    def plain_forward():
        return _chain_forward(gk.Tensor(x)).data

    np.testing.assert_allclose(jvp_graphkit(), _chain_jvp_numpy(), rtol=1e-12)
    variants = {"graphkit": jvp_graphkit, "numpy": _chain_jvp_numpy}
    torch = torch_or_none()
    if torch is not None:
        import torch.func

        def chain_torch(t):
            c = torch.full((4,), 0.5, dtype=torch.float64)
            for i in range(CHAIN):
                kind = i % 3
                t = t + c if kind == 0 else (t * c if kind == 1 else t.tanh())
            return t

        xt, vt = torch.tensor(x), torch.tensor(v)
        variants["torch"] = lambda: torch.func.jvp(chain_torch, (xt,), (vt,))[1]
    times = time_variants(variants, repeats, scale=1e6 / CHAIN)
    extra = {}
    if "graphkit" in times:
        forward = time_variants({"graphkit": plain_forward}, repeats, scale=1e6 / CHAIN)
        extra = {"plain forward us/op": forward["graphkit"],
                 "jvp / plain forward": times["graphkit"] / forward["graphkit"]}
    return Result("W8", f"jvp through the chain of {CHAIN} add/mul/tanh on (4,)", "us/op",
                  times, extra)


SIZES = (100, 64, 1)


def _mlp_weights() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((SIZES[0], SIZES[1])) / 10, rng.standard_normal(SIZES[1]) / 10,
            rng.standard_normal((SIZES[1], SIZES[2])) / 8)


def _hessian_numpy(x: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """d2/dx2 of sum(tanh(x W1 + b1) W2) by hand: W1 diag(-2 t (1 - t^2) w2) W1^T."""
    t = np.tanh(x @ W1 + b1)
    return (W1 * (-2 * t * (1 - t * t) * W2[:, 0])) @ W1.T


def w9(repeats: int) -> Result:
    W1, b1, W2 = _mlp_weights()
    x = np.random.default_rng(1).standard_normal(SIZES[0])
    weights = [gk.Tensor(w) for w in (W1, b1, W2)]

    def f(t):
        return (((t @ weights[0]) + weights[1]).tanh() @ weights[2]).sum()

    def hessian_graphkit():
        return gk.func.hessian(f)(x).data

    np.testing.assert_allclose(hessian_graphkit(), _hessian_numpy(x, W1, b1, W2),
                               rtol=1e-9, atol=1e-12)
    variants = {"graphkit": hessian_graphkit, "numpy": lambda: _hessian_numpy(x, W1, b1, W2)}
    torch = torch_or_none()
    if torch is not None:
        import torch.func

        W1t, b1t, W2t, xt = (torch.tensor(a) for a in (W1, b1, W2, x))
        variants["torch"] = lambda: torch.func.hessian(
            lambda t: (torch.tanh(t @ W1t + b1t) @ W2t).sum())(xt)
    return Result("W9", "hessian of a 100-64-1 tanh MLP in its input (forward over reverse)",
                  "ms", time_variants(variants, max(3, repeats // 5)))
