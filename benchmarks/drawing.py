"""VIZ: how long drawing takes: DOT text for a 5,000-op graph, TinyNet rendered to SVG."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import graphkit as gk
from benchmarks.harness import Result
from graphkit.cli.model_graphs import model_loss


def wide_network(blocks: int) -> gk.Tensor:
    """``blocks`` dense blocks of 4 ops each (matmul, add, tanh, mul) and a final sum."""
    rng = np.random.default_rng(2)
    h = gk.Tensor(rng.normal(size=(8, 16)), name="x")
    for i in range(blocks):
        W = gk.Tensor(rng.normal(size=(16, 16)) * 0.1, requires_grad=True, name=f"{i}.weight")
        b = gk.Tensor(np.zeros(16), requires_grad=True, name=f"{i}.bias")
        h = (h @ W + b).tanh() * 0.5
    return h.sum()


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def drawing(repeats: int) -> Result:
    loss = wide_network(1250)  # 5,001 ops
    extra = {"to_dot of 5,001 ops, s": _median_seconds(lambda: gk.viz.to_dot(loss), repeats)}
    if shutil.which("dot") is not None:
        tinynet = model_loss("tinynet")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "tinynet.svg"
            extra["TinyNet rendered to SVG, s"] = _median_seconds(
                lambda: gk.viz.render(tinynet, path), max(3, repeats // 5)
            )
    return Result("VIZ", "drawing graphs (goals: 0.5 s and 2 s)", "s", {}, extra)
