"""``gk.viz.saved_memory(output)``: the bytes the graph behind ``output`` keeps for backward.

An op that has not run its backward yet keeps what its backward reads: the arrays of its
inputs made by other ops, its own output, and what forward left in ``op.saved`` (or,
inside ``gk.saved_tensors_hooks``, the packed forms of these). Leaves (parameters, input
batches, constants) are not counted: the graph does not own them. An array counts once,
for the op that made it, and by the whole block of memory it lies in (a view keeps its
base alive). Once backward has released an op, it keeps nothing: 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphkit.graph import RELEASED, Op
from graphkit.saved import Packed
from graphkit.tensor import Tensor
from graphkit.viz.walk import walk


@dataclass
class SavedMemory:
    """What ``saved_memory`` measured.

    Attributes:
        total: bytes kept for backward by the whole graph.
        per_op: ``(op name, bytes)`` for every op of the graph, in the order they ran.
    """

    total: int = 0
    per_op: list[tuple[str, int]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{name:<24} {size:>14,d}" for name, size in self.per_op if size]
        return "\n".join([*lines, f"{'total':<24} {self.total:>14,d} bytes"])


def saved_memory(output: Tensor) -> SavedMemory:
    """The bytes the graph behind ``output`` holds for backward, in total and per op."""
    ops = walk([output]).ops
    counted: set[int] = set()
    sizes = {op: sum(_claim(a, counted) for a in _made(op)) for op in ops}
    for op in ops:  # inputs made by an op already released count for their consumer
        sizes[op] += sum(_claim(a, counted) for a in _inputs_made_by_ops(op))
    result = SavedMemory(per_op=[(op.name, sizes[op]) for op in ops])
    result.total = sum(sizes.values())
    return result


def _kept(op: Op) -> bool:
    return op.saved is not RELEASED


def _made(op: Op) -> list[Any]:
    """What ``op`` keeps of its own making: its output and its saved values."""
    if not _kept(op):
        return []
    if isinstance(op.arrays, Packed):
        return [v for v in op.arrays.values() if isinstance(v, np.ndarray)]
    y = op.output()
    saved = op.saved if isinstance(op.saved, (tuple, list)) else (op.saved,)
    return [*([] if y is None else [y._data]), *saved]


def _inputs_made_by_ops(op: Op) -> list[Any]:
    if not _kept(op) or isinstance(op.arrays, Packed):
        return []
    return [x._data for x in op.tensor_inputs() if x.grad_fn is not None]


def _claim(array: Any, counted: set[int]) -> int:
    """The bytes of the memory ``array`` lies in, the first time that memory is seen."""
    if not isinstance(array, np.ndarray):
        return 0
    while isinstance(array.base, np.ndarray):
        array = array.base
    if id(array) in counted:
        return 0
    counted.add(id(array))
    return array.nbytes
