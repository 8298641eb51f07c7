"""W5 per-op overhead, W6 second derivatives, W7 deep and wide graphs."""

from __future__ import annotations

import time

import numpy as np

import graphkit as gk
from benchmarks.harness import Result, time_variants, torch_or_none

CHAIN = 1000


def _chain_graphkit(n: int = CHAIN) -> np.ndarray:
    x = gk.Tensor(np.full(4, 0.1), requires_grad=True)
    c = gk.Tensor(np.full(4, 0.5))
    y = x
    for i in range(n):
        y = _apply(y, c, i)
    y.sum().backward()
    return x.grad.data


def _apply(y, c, i):
    kind = i % 3
    if kind == 0:
        return y + c
    if kind == 1:
        return y * c
    return y.tanh()


def _chain_numpy(n: int = CHAIN) -> np.ndarray:
    """The same chain with its derivative written by hand: forward, then the reverse sweep."""
    c = np.full(4, 0.5)
    y = np.full(4, 0.1)
    tanh_outputs = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            y = y + c
        elif kind == 1:
            y = y * c
        else:
            y = np.tanh(y)
            tanh_outputs.append(y)
    g = np.ones(4)
    for i in reversed(range(n)):
        kind = i % 3
        if kind == 1:
            g = g * c
        elif kind == 2:
            t = tanh_outputs.pop()
            g = g * (1 - t * t)
    return g


def _chain_torch(torch, n: int = CHAIN):
    x = torch.full((4,), 0.1, dtype=torch.float64, requires_grad=True)
    c = torch.full((4,), 0.5, dtype=torch.float64)
    y = x
    for i in range(n):
        kind = i % 3
        y = y + c if kind == 0 else (y * c if kind == 1 else y.tanh())
    y.sum().backward()
    return x.grad


def w5(repeats: int) -> Result:
    np.testing.assert_allclose(_chain_graphkit(), _chain_numpy(), rtol=1e-12)
    variants = {"graphkit": _chain_graphkit, "numpy": _chain_numpy}
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = lambda: _chain_torch(torch)
    times = time_variants(variants, repeats, scale=1e6 / CHAIN)
    return Result("W5", f"chain of {CHAIN} add/mul/tanh on (4,), fwd+bwd", "us/op", times)


def _second_graphkit(x_array: np.ndarray) -> np.ndarray:
    x = gk.Tensor(x_array, requires_grad=True)
    (g,) = gk.grad(x.tanh().sum(), x, create_graph=True)
    (h,) = gk.grad(g.sum(), x)
    return h.data


def _second_numpy(x_array: np.ndarray) -> np.ndarray:
    t = np.tanh(x_array)
    return -2 * t * (1 - t * t)


def w6(repeats: int) -> Result:
    x = np.random.default_rng(0).standard_normal(100_000)
    np.testing.assert_allclose(_second_graphkit(x), _second_numpy(x), rtol=1e-10, atol=1e-12)
    variants = {"graphkit": lambda: _second_graphkit(x), "numpy": lambda: _second_numpy(x)}
    torch = torch_or_none()
    if torch is not None:
        def second_torch():
            xt = torch.tensor(x, requires_grad=True)
            (g,) = torch.autograd.grad(xt.tanh().sum(), xt, create_graph=True)
            return torch.autograd.grad(g.sum(), xt)[0]

        variants["torch"] = second_torch
    return Result("W6", "d2/dx2 sum(tanh(x)), 1e5 elements, create_graph", "ms",
                  time_variants(variants, repeats))


def _deep(n: int) -> float:
    x = gk.Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    start = time.perf_counter()
    y.sum().backward()
    return time.perf_counter() - start


def _wide(n: int) -> float:
    x = gk.Tensor(np.ones(1), requires_grad=True)
    total = None
    for _ in range(n):
        branch = x * 2.0
        total = branch if total is None else total + branch
    start = time.perf_counter()
    total.sum().backward()
    return time.perf_counter() - start


def w7(repeats: int) -> Result:
    """Backward time per node at 1k, 10k and 100k nodes; linear means a flat row."""
    extra = {}
    for name, build in (("chain", _deep), ("wide", _wide)):
        per_node = {}
        for n in (1_000, 10_000, 100_000):
            runs = max(1, repeats * 1_000 // n)
            per_node[n] = min(build(n) for _ in range(runs)) / n * 1e6
            extra[f"{name} backward us/node @{n // 1000}k"] = per_node[n]
        extra[f"{name} 100k/1k per-node ratio"] = per_node[100_000] / per_node[1_000]
    return Result("W7", "backward of deep chains and wide sums", "us/node",
                  {"graphkit": extra["chain backward us/node @100k"]}, extra)
