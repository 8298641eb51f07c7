"""W1 TwoLayerNet step and W2 MLP step: forward, backward and an SGD update.

The hand-written numpy step is what a careful person writes for the book's networks:
affine layers, the activation's closed-form derivative, softmax-with-loss as
(softmax - onehot) / B, and in-place updates.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

import graphkit as gk
from benchmarks.harness import Result, check_same_step, time_variants, torch_or_none

LR = 0.1


def _data(batch: int, sizes: list[int], dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, sizes[0])).astype(dtype)
    t = rng.integers(0, sizes[-1], batch)
    weights = []
    for fan_in, fan_out in pairwise(sizes):
        weights.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(dtype))
        weights.append(np.zeros(fan_out, dtype=dtype))
    return x, t, weights


def softmax_with_loss(logits, t) -> tuple[float, np.ndarray]:
    """The book's SoftmaxWithLoss by hand: the mean cross-entropy of softmax(logits)
    (B, C) against labels t (B,), and its gradient (softmax - onehot) / B, (B, C)."""
    batch = len(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(batch), t]).mean()
    probs[np.arange(batch), t] -= 1
    probs /= batch
    return float(loss), probs


def numpy_step(x, t, params, activation: str) -> float:
    """One SGD step written by hand; updates ``params`` in place, returns the loss."""
    acts = [x]
    h = x
    layers = len(params) // 2
    for i in range(layers):
        a = h @ params[2 * i] + params[2 * i + 1]
        if i < layers - 1:
            h = np.maximum(a, 0) if activation == "relu" else 1 / (1 + np.exp(-a))
            acts.append(h)
        else:
            h = a
    loss, delta = softmax_with_loss(h, t)
    for i in reversed(range(layers)):
        grad_w = acts[i].T @ delta
        grad_b = delta.sum(axis=0)
        if i > 0:
            delta = delta @ params[2 * i].T
            h = acts[i]
            delta *= (h > 0) if activation == "relu" else h * (1 - h)
        params[2 * i] -= LR * grad_w
        params[2 * i + 1] -= LR * grad_b
    return float(loss)


def graphkit_step_fn(x, t, arrays, activation: str):
    params = [gk.Tensor(a.copy(), requires_grad=True) for a in arrays]
    optimizer = gk.optim.SGD(params, lr=LR)
    act = gk.F.relu if activation == "relu" else gk.F.sigmoid
    x_t = gk.Tensor(x)

    def step() -> float:
        h = x_t
        for i in range(0, len(params) - 2, 2):
            h = act(gk.F.linear(h, params[i], params[i + 1]))
        logits = gk.F.linear(h, params[-2], params[-1])
        loss = gk.F.softmax_cross_entropy(logits, t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, params


def torch_step_fn(torch, x, t, arrays, activation: str):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    optimizer = torch.optim.SGD(params, lr=LR)
    act = torch.relu if activation == "relu" else torch.sigmoid
    x_t, t_t = torch.from_numpy(x), torch.from_numpy(t)

    def step() -> float:
        h = x_t
        for i in range(0, len(params) - 2, 2):
            h = act(h @ params[i] + params[i + 1])
        logits = h @ params[-2] + params[-1]
        loss = torch.nn.functional.cross_entropy(logits, t_t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, params


def run(workload: str, description: str, sizes, batch, dtype, activation, repeats) -> Result:
    x, t, arrays = _data(batch, sizes, dtype)
    gk_step, gk_params = graphkit_step_fn(x, t, arrays, activation)
    np_params = [a.copy() for a in arrays]
    check_same_step(gk_step(), numpy_step(x, t, np_params, activation), gk_params, np_params,
                    dtype)
    variants = {"graphkit": gk_step, "numpy": lambda: numpy_step(x, t, np_params, activation)}
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = torch_step_fn(torch, x, t, arrays, activation)[0]
    # A step takes about a millisecond or less: time many, so that each process's median
    # is steady.
    return Result(workload, description, "ms/step", time_variants(variants, 20 * repeats))


def w1(repeats: int) -> Result:
    return run("W1", "TwoLayerNet 784-50-10 sigmoid, batch 100, float64",
               [784, 50, 10], 100, np.float64, "sigmoid", repeats)


def w2(repeats: int) -> Result:
    return run("W2", "MLP 784-512-256-10 ReLU, batch 128, float32",
               [784, 512, 256, 10], 128, np.float32, "relu", repeats)
