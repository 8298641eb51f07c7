"""gk.viz.to_text: one line per op, in execution order, names where tensors have them."""

from __future__ import annotations

import numpy as np
import pytest

import graphkit as gk
from graphkit.cli.model_graphs import model_loss
from graphkit.scope import module_scope
from graphkit.viz import to_text


def test_the_listing_of_a_dense_layer():
    x = gk.Tensor(np.ones((100, 20)), name="x")
    W = gk.Tensor(np.ones((20, 50)), requires_grad=True, name="W")
    h = (x @ W).relu()
    assert to_text(h.sum(axis=0)) == (
        "# x: (100, 20) float64\n"
        "# W: (20, 50) float64, requires grad\n"
        "t0 = matmul(x, W)  # (100, 50) float64\n"
        "t1 = relu(t0)  # (100, 50) float64\n"
        "t2 = sum(t1, axis=0)  # (50,) float64\n"
    )


def test_constants_names_and_module_calls():
    class Block:
        pass

    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with module_scope(Block(), "block"):
        y = x * 3 + np.zeros(2)
    y.name = "y"
    lines = to_text(y).splitlines()
    assert lines == [
        "# t0: (2,) float64, requires grad",
        "t1 = mul(t0, 3)  # (2,) float64  in block",
        "y = add(t1, array((2,), float64))  # (2,) float64  in block",
    ]


def test_a_name_used_twice_is_told_apart():
    a = gk.Tensor([1.0], requires_grad=True, name="w")
    b = gk.Tensor([2.0], requires_grad=True, name="w")
    assert "= add(w, w#2)" in to_text(a + b)


def test_one_line_per_op_and_deterministic():
    first, second = to_text(model_loss("tinynet")), to_text(model_loss("tinynet"))
    assert first == second
    ops = [line for line in first.splitlines() if not line.startswith("#")]
    assert len(ops) == 9
    assert ops[0] == "t0 = conv2d(x, W_conv1, b_conv1, pad=1, stride=1)  # (2, 6, 8, 8) float64"
    assert ops[-1].startswith("loss = softmax_cross_entropy(t7, array((2,), int64))")
    assert "0x" not in first  # no addresses


def test_an_op_comes_after_the_ops_it_reads():
    x = gk.Tensor(np.ones(3), requires_grad=True, name="x")
    a, b = x.exp(), x.tanh()
    listing = to_text((a * b).sum()).splitlines()[1:]
    defined = {"x"}
    for line in listing:
        target, call = line.split(" = ", 1)
        arguments = call[call.index("(") + 1 : call.index(")")].split(", ")
        assert all(a in defined or not a.startswith(("t", "x")) for a in arguments), line
        defined.add(target)


def test_bad_input():
    with pytest.raises(TypeError, match="Tensor"):
        to_text([])
