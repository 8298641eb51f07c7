"""collapse_repeated: N identical blocks in a row drawn once, ×N, whatever N is."""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphkit as gk
from graphkit import nn
from graphkit.viz import to_dot

NODE = re.compile(r"^\s*(\w+) \[label=", re.M)


class Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x))


def deep_mlp(depth: int, width: int = 8) -> gk.Tensor:
    net = nn.Sequential(*[Block(width) for _ in range(depth)])
    return (net(gk.Tensor(np.ones((2, width)), name="x")) ** 2).mean()


@pytest.mark.parametrize("options", [{}, {"group_modules": True}, {"collapse_modules": True}])
def test_node_count_does_not_depend_on_depth(options):
    counts = {
        depth: len(NODE.findall(to_dot(deep_mlp(depth), collapse_repeated=True, **options)))
        for depth in (2, 5, 20)
    }
    assert len(set(counts.values())) == 1, counts
    assert "×20" in to_dot(deep_mlp(20), collapse_repeated=True, **options)
    plain = len(NODE.findall(to_dot(deep_mlp(20), **options)))
    assert plain > counts[20]


def test_the_block_is_drawn_once_and_connected():
    dot = to_dot(deep_mlp(20), collapse_repeated=True)
    assert dot.count("<b>linear</b>") == 1 and dot.count("<b>tanh</b>") == 1
    assert "label=<<b>0</b> Block <b>×20</b>>" in dot
    nodes = set(NODE.findall(dot))
    for a, b in re.findall(r"^\s*(\w+) -> (\w+)", dot, re.M):
        assert a in nodes and b in nodes  # every edge joins drawn nodes
    pow_id = re.search(r"(\w+) \[label=<<b>pow</b>", dot).group(1)
    (source,) = [a for a, b in re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M) if b == pow_id]
    tanh_id = re.search(r"(\w+) \[label=<<b>tanh</b>", dot).group(1)
    assert f"{tanh_id} -> {source};" in dot  # the block's output feeds the rest


def test_different_blocks_do_not_collapse():
    net = nn.Sequential(Block(8), Block(8), nn.Linear(8, 4), Block(4))
    loss = net(gk.Tensor(np.ones((2, 8)))).sum()
    dot = to_dot(loss, collapse_repeated=True)
    assert "×2" in dot and "×3" not in dot
    assert dot.count("<b>tanh</b>") == 2  # the first run's block, and the (2, 4) block


def test_a_block_whose_inside_is_used_outside_does_not_collapse():
    blocks = [Block(8) for _ in range(3)]
    h = gk.Tensor(np.ones((2, 8)))
    skips = []
    for block in blocks:
        h = block(h)
        skips.append(h)
    loss = (skips[0] + h).sum()  # the first block's output is also used at the end
    assert "×3" not in to_dot(loss, collapse_repeated=True)
