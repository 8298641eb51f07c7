"""BN and LN: batch_norm and layer_norm forward+backward in float32 against NumPy by hand;
BNCNN: a training step of ``models.BNCNN`` at batch 64, with its peak memory.

The hand-written versions are written well: batch_norm's input gradient reuses the bias
and weight gradients (w * inv_std * (gy - sum(gy)/n - xhat * sum(gy * xhat)/n)), one
pass each, and both update the running statistics as graphkit does.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

import graphkit as gk
from benchmarks.harness import Result, time_variants, torch_or_none
from models import BNCNN

EPS = 1e-5
MOMENTUM = 0.1
BN_SHAPE = (64, 32, 14, 14)
LN_SHAPE = (128, 512)
BNCNN_BATCH = 64


# ----- batch_norm -----------------------------------------------------------------------
def numpy_batch_norm(x, weight, bias, running_mean, running_var, gy):
    """Training-mode batch_norm over axes (0, 2, 3) and its gradients: (y, gx, gw, gb)."""
    axes = (0, 2, 3)
    shape = (1, -1, 1, 1)
    count = x.size // x.shape[1]
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    running_mean *= 1 - MOMENTUM
    running_mean += MOMENTUM * mean.reshape(-1)
    running_var *= 1 - MOMENTUM
    running_var += MOMENTUM * count / (count - 1) * var.reshape(-1)
    inv_std = 1 / np.sqrt(var + EPS)
    xhat = centered * inv_std
    y = xhat * weight.reshape(shape) + bias.reshape(shape)
    gb = gy.sum(axis=axes, keepdims=True)
    gw = (gy * xhat).sum(axis=axes, keepdims=True)
    gx = (weight.reshape(shape) * inv_std) * (gy - gb / count - xhat * (gw / count))
    return y, gx, gw.reshape(-1), gb.reshape(-1)


def _inputs(shape, features, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, features).astype(np.float32)
    bias = rng.standard_normal(features).astype(np.float32)
    return x, gy, weight, bias


def _graphkit_step(op, x, gy, weight, bias):
    """One forward+backward of ``op(x, w, b)``; returns (y, gx, gw, gb) as arrays."""
    xt = gk.Tensor(x, requires_grad=True)
    wt, bt = gk.Tensor(weight, requires_grad=True), gk.Tensor(bias, requires_grad=True)

    def step():
        xt.grad = wt.grad = bt.grad = None
        y = op(xt, wt, bt)
        y.backward(gy)
        return y.data, xt.grad.data, wt.grad.data, bt.grad.data

    return step


def _check_same(got, expected) -> None:
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)


def bn(repeats: int) -> Result:
    x, gy, weight, bias = _inputs(BN_SHAPE, BN_SHAPE[1], seed=0)
    stats = {name: (np.zeros(BN_SHAPE[1], np.float32), np.ones(BN_SHAPE[1], np.float32))
             for name in ("graphkit", "numpy", "torch")}

    def gk_op(xt, wt, bt):
        return gk.F.batch_norm(xt, *stats["graphkit"], wt, bt, momentum=MOMENTUM, eps=EPS)

    variants = {
        "graphkit": _graphkit_step(gk_op, x, gy, weight, bias),
        "numpy": lambda: numpy_batch_norm(x, weight, bias, *stats["numpy"], gy),
    }
    _check_same(variants["graphkit"](), variants["numpy"]())
    np.testing.assert_allclose(stats["graphkit"][1], stats["numpy"][1], rtol=1e-5)
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = _torch_step(
            torch, lambda xt, wt, bt: torch.nn.functional.batch_norm(
                xt, *(torch.from_numpy(s) for s in stats["torch"]), wt, bt, training=True,
                momentum=MOMENTUM, eps=EPS),
            x, gy, weight, bias)
    return Result("BN", f"batch_norm fwd+bwd, {BN_SHAPE}, float32", "ms",
                  time_variants(variants, repeats))


# ----- layer_norm -----------------------------------------------------------------------
def numpy_layer_norm(x, weight, bias, gy):
    """layer_norm over the last axis and its gradients: (y, gx, gw, gb)."""
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt(var + EPS)
    xhat = centered * inv_std
    y = xhat * weight + bias
    gxhat = gy * weight
    gx = inv_std * (gxhat - gxhat.mean(axis=-1, keepdims=True)
                    - xhat * (gxhat * xhat).mean(axis=-1, keepdims=True))
    return y, gx, (gy * xhat).sum(axis=0), gy.sum(axis=0)


def ln(repeats: int) -> Result:
    x, gy, weight, bias = _inputs(LN_SHAPE, LN_SHAPE[-1], seed=1)

    def gk_op(xt, wt, bt):
        return gk.F.layer_norm(xt, LN_SHAPE[-1], wt, bt, eps=EPS)

    variants = {
        "graphkit": _graphkit_step(gk_op, x, gy, weight, bias),
        "numpy": lambda: numpy_layer_norm(x, weight, bias, gy),
    }
    _check_same(variants["graphkit"](), variants["numpy"]())
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = _torch_step(
            torch, lambda xt, wt, bt: torch.nn.functional.layer_norm(
                xt, (LN_SHAPE[-1],), wt, bt, eps=EPS),
            x, gy, weight, bias)
    return Result("LN", f"layer_norm fwd+bwd, {LN_SHAPE}, float32", "ms",
                  time_variants(variants, repeats))


def _torch_step(torch, op, x, gy, weight, bias):
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(weight, requires_grad=True), torch.tensor(bias, requires_grad=True)
    gyt = torch.from_numpy(gy)

    def step():
        xt.grad = wt.grad = bt.grad = None
        op(xt, wt, bt).backward(gyt)

    return step


# ----- the BN CNN's training step -------------------------------------------------------
def bncnn(repeats: int) -> Result:
    """A training step (forward, loss, backward, SGD with momentum) of ``BNCNN`` on
    (64, 1, 28, 28) float32; in the process that times graphkit, also the peak of the
    memory one step allocates (tracemalloc, which sees NumPy's buffers) and the process's
    peak RSS."""
    rng = np.random.default_rng(0)
    x = rng.random((BNCNN_BATCH, 1, 28, 28)).astype(np.float32)
    t = rng.integers(0, 10, BNCNN_BATCH)
    np.random.seed(0)
    model = BNCNN(dtype=np.float32)
    optimizer = gk.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> float:
        loss = gk.F.softmax_cross_entropy(model(gk.Tensor(x)), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    variants = {"graphkit": step}
    torch = torch_or_none()
    if torch is not None:
        variants["torch"] = _torch_bncnn_step(torch, model, x, t)
    times = time_variants(variants, max(5, repeats // 3))
    extra = {}
    if "graphkit" in times:
        tracemalloc.start()
        tracemalloc.reset_peak()
        held = tracemalloc.get_traced_memory()[0]
        step()
        extra["graphkit step peak MB (tracemalloc)"] = (
            tracemalloc.get_traced_memory()[1] - held) / 2**20
        tracemalloc.stop()
        with open("/proc/self/status") as status:
            peak_kb = int(status.read().split("VmHWM:")[1].split()[0])
        extra["graphkit process peak RSS MB"] = peak_kb / 1024
    return Result("BNCNN", f"BNCNN training step, ({BNCNN_BATCH},1,28,28), float32",
                  "ms/step", times, extra)


def _torch_bncnn_step(torch, model, x, t):
    """The same network in PyTorch, from the same initial weights."""
    nn = torch.nn
    c1, c2 = model.conv1.weight.shape[0], model.conv2.weight.shape[0]
    hidden = model.fc1.weight.shape[1]
    net = nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c2 * 49, hidden, bias=False),
        nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(model.drop.p), nn.Linear(hidden, 10),
    )
    with torch.no_grad():
        for index, weight in ((0, model.conv1.weight), (4, model.conv2.weight),
                              (9, model.fc1.weight.T), (13, model.fc2.weight.T)):
            net[index].weight.copy_(torch.from_numpy(np.ascontiguousarray(weight.data)))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)

    def step() -> float:
        loss = nn.functional.cross_entropy(net(xt), tt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step
