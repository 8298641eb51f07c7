"""``to_text``: the graph as a listing, one line per op, for diffs and for huge graphs.

    # x: (2, 3) float64
    # W: (3, 4) float64, requires grad
    t0 = matmul(x, W)  # (2, 4) float64
    t1 = relu(t0)  # (2, 4) float64

Tensors are called by their names, unnamed ones ``t0, t1, ...`` in the order they
appear; nothing depends on ids or addresses, so one computation always gives one text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphkit.graph import Op
from graphkit.tensor import Tensor
from graphkit.viz.labels import constant_title, cut, op_arguments, shape_and_dtype
from graphkit.viz.walk import output_of, walk

#: Longest argument written out (an index array) before it is cut short.
MAX_ARGUMENT = 40


def to_text(output: Tensor | Sequence[Tensor]) -> str:
    """The graph behind ``output`` (a tensor or a list of them) as a listing.

    First one comment line per leaf (``# W: (3, 4) float64, requires grad``), then one
    line per op in execution order (every op after the ops that computed its inputs),
    ``t3 = matmul(x, W)  # (100, 50) float64``, followed by the module call the op ran in
    when there is one (``in fc1``). Raw constants are written in place: a scalar by its
    value, an array by its shape.
    """
    outputs = [output] if isinstance(output, Tensor) else list(output)
    if not outputs or not all(isinstance(t, Tensor) for t in outputs):
        raise TypeError("to_text takes a Tensor or a non-empty list of Tensors")
    graph = walk(outputs)
    names = _names(graph.tensors)
    lines = []
    for t in graph.tensors:
        if t.grad_fn is None:
            grad = ", requires grad" if t.requires_grad else ""
            lines.append(f"# {names[id(t)]}: {shape_and_dtype(t.data)}{grad}")
    for op in graph.ops:
        lines.append(_op_line(op, names))
    return "\n".join(lines) + "\n"


def _names(tensors: list[Tensor]) -> dict[int, str]:
    """``id(tensor)`` -> how the listing calls it; a name used twice gets ``#2``, ``#3``."""
    names: dict[int, str] = {}
    taken: dict[str, int] = {}
    unnamed = 0
    for t in tensors:
        if t.name:
            taken[t.name] = taken.get(t.name, 0) + 1
            count = taken[t.name]
            names[id(t)] = t.name if count == 1 else f"{t.name}#{count}"
        else:
            names[id(t)] = f"t{unnamed}"
            unnamed += 1
    return names


def _op_line(op: Op, names: dict[int, str]) -> str:
    name, arguments = op_arguments(op)
    inputs = [_input_text(x, names) for x in op.inputs if x is not None]
    call = ", ".join([*inputs, *(cut(a, MAX_ARGUMENT) for a in arguments)])
    y = output_of(op)
    line = f"{names[id(y)]} = {name}({call})  # {shape_and_dtype(y.data)}"
    if op.scope is not None:
        line += f"  in {op.scope.path}"
    return line


def _input_text(x: Any, names: dict[int, str]) -> str:
    if isinstance(x, Tensor):
        return names[id(x)]
    title = constant_title(x)
    if title is not None:
        return title
    array = np.asarray(x)
    return f"array({array.shape}, {array.dtype.name})"
