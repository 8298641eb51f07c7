"""VIZ: how long drawing takes: DOT text, the listing and the HTML page of a 5,000-op graph,
TinyNet rendered to SVG, TinyNet's backprop player as HTML and as a GIF (and the HTML's
size), and how many nodes a 20-block MLP draws with collapse_repeated (as many as 2 blocks).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import graphkit as gk
from benchmarks.harness import Result
from graphkit import nn
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


def deep_mlp(blocks: int) -> gk.Tensor:
    """``blocks`` identical Linear(16, 16) + Tanh blocks in a Sequential, and a loss."""
    net = nn.Sequential(*[nn.Sequential(nn.Linear(16, 16), nn.Tanh()) for _ in range(blocks)])
    return (net(gk.Tensor(np.ones((4, 16)), name="x")) ** 2).mean()


def _node_count(dot: str) -> int:
    return sum(1 for line in dot.splitlines() if " [label=" in line)


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def drawing(repeats: int) -> Result:
    loss = wide_network(1250)  # 5,001 ops
    few = max(3, repeats // 5)
    extra = {
        "to_dot of 5,001 ops, s": _median_seconds(lambda: gk.viz.to_dot(loss), repeats),
        "to_text of 5,001 ops, s": _median_seconds(lambda: gk.viz.to_text(loss), repeats),
        "to_html of 5,001 ops, s": _median_seconds(lambda: gk.viz.to_html(loss), few),
    }
    tinynet = model_loss("tinynet")
    with tempfile.TemporaryDirectory() as folder:
        html, gif = Path(folder) / "player.html", Path(folder) / "player.gif"
        extra["TinyNet player written as HTML, s"] = _median_seconds(
            lambda: gk.viz.animate(tinynet).save(html), few
        )
        extra["TinyNet player HTML, MB"] = html.stat().st_size / 1e6
        extra["TinyNet player written as GIF, s"] = _median_seconds(
            lambda: gk.viz.animate(tinynet).save(gif), few
        )
        if shutil.which("dot") is not None:
            path = Path(folder) / "tinynet.svg"
            extra["TinyNet rendered to SVG, s"] = _median_seconds(
                lambda: gk.viz.render(tinynet, path), few
            )
    for blocks in (2, 20):
        dot = gk.viz.to_dot(deep_mlp(blocks), collapse_repeated=True)
        extra[f"{blocks}-block MLP, collapse_repeated, nodes"] = _node_count(dot)
    extra["20-block MLP, nodes without collapsing"] = _node_count(gk.viz.to_dot(deep_mlp(20)))
    goals = "goals: DOT 0.5 s, text 1 s, HTML 5 s; player 10 s, GIF 30 s, 5 MB"
    return Result("VIZ", f"drawing graphs ({goals})", "s", {}, extra)
