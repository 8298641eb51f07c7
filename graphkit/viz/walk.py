"""Collect the graph behind some tensors: every data node and compute node, in forward order.

The walk is an iterative post-order depth-first search from the outputs, so graphs of
any depth are fine (no recursion limit) and the order depends only on the graph's
structure: drawing the same computation twice numbers its nodes the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphkit.graph import Op
from graphkit.tensor import Tensor


def output_of(op: Op) -> Tensor:
    """The tensor ``op`` computed. An op reached from a live tensor has a live output:
    ops hold it weakly, and only the graph behind a tensor the caller holds is walked."""
    y = op.output()
    if y is None:
        raise RuntimeError(f"the output of {op.name} was freed: hold on to the tensor to draw it")
    return y


@dataclass(frozen=True)
class Graph:
    """The nodes of a computational graph, every node after the nodes it depends on.

    Attributes:
        nodes: data nodes (``Tensor``) and compute nodes (``Op``) in forward order. An
            op's output is the tensor whose ``grad_fn`` it is; its inputs are
            ``op.inputs`` (tensors, or raw constants such as the 2 in ``x ** 2``).
        outputs: the tensors the drawing starts from, each once.
    """

    nodes: list[Tensor | Op]
    outputs: list[Tensor]

    @property
    def tensors(self) -> list[Tensor]:
        """The data nodes, in forward order."""
        return [node for node in self.nodes if isinstance(node, Tensor)]

    @property
    def ops(self) -> list[Op]:
        """The compute nodes, in forward order."""
        return [node for node in self.nodes if isinstance(node, Op)]


def walk(outputs: Sequence[Tensor]) -> Graph:
    """Every tensor and op that ``outputs`` were computed from, in forward order."""
    unique_outputs = list({id(t): t for t in outputs}.values())
    nodes: list[Tensor | Op] = []
    seen: set[int] = set()
    # (node, children_done): a node is recorded when popped the second time, after
    # everything it depends on, which is the forward (topological) order.
    stack: list[tuple[Any, bool]] = [(t, False) for t in reversed(unique_outputs)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            nodes.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in reversed(_dependencies(node)):
            if id(child) not in seen:
                stack.append((child, False))
    return Graph(nodes=nodes, outputs=unique_outputs)


def _dependencies(node: Tensor | Op) -> list[Any]:
    """What a node was computed from: a tensor's op, or an op's tensor inputs."""
    if isinstance(node, Op):
        return list(node.tensor_inputs())
    return [node.grad_fn] if node.grad_fn is not None else []
