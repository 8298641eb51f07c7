"""The graph as the HTML page, the backprop player and the GIF draw it: boxes and arrows.

A ``Scene`` lists every node with its key, kind, text and module call, and the edges
between them. Keys follow ``to_dot``'s node ids (``t0`` for the first tensor, ``op0`` for
the first op, ``c0`` for the first raw constant), so each view names a node alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphkit.graph import Op
from graphkit.scope import Scope
from graphkit.tensor import Tensor
from graphkit.viz import labels
from graphkit.viz.dot import output_titles
from graphkit.viz.modules import ScopeChains, innermost_shared
from graphkit.viz.style import Kind
from graphkit.viz.walk import Graph, walk


@dataclass
class SceneNode:
    """One box: ``item`` is the tensor or op it stands for (a raw constant's value)."""

    key: str
    kind: Kind
    title: str | None
    facts: list[str]
    scope: Scope | None
    item: Any


@dataclass
class Scene:
    """Nodes in forward order, edges ``(from key, to key, dashed)``, keys by ``id(item)``."""

    graph: Graph
    nodes: list[SceneNode] = field(default_factory=list)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)
    keys: dict[int, str] = field(default_factory=dict)
    chains: ScopeChains = field(default_factory=ScopeChains)

    def key(self, item: Tensor | Op) -> str:
        return self.keys[id(item)]


def build_scene(output: Tensor | Sequence[Tensor]) -> Scene:
    """The scene of the graph behind ``output`` (a tensor, or a non-empty list of them)."""
    outputs = [output] if isinstance(output, Tensor) else list(output)
    if not outputs or not all(isinstance(t, Tensor) for t in outputs):
        raise TypeError("draw a Tensor or a non-empty list of Tensors")
    graph = walk(outputs)
    scene = Scene(graph)
    titles = output_titles(graph.outputs)
    consumers: dict[int, list[Op]] = {}
    n_tensors = n_ops = 0
    for node in graph.nodes:
        if isinstance(node, Tensor):
            scene.keys[id(node)] = f"t{n_tensors}"
            n_tensors += 1
        else:
            scene.keys[id(node)] = f"op{n_ops}"
            n_ops += 1
            for x in node.tensor_inputs():
                consumers.setdefault(id(x), []).append(node)
    n_constants = 0
    for node in graph.nodes:
        key = scene.keys[id(node)]
        if isinstance(node, Tensor):
            kind = _tensor_kind(node, id(node) in titles)
            title = titles.get(id(node)) or node.name
            scope = _tensor_scope(node, kind, consumers, scene.chains)
            facts = [labels.shape_and_dtype(node.data)]
            scene.nodes.append(SceneNode(key, kind, title, facts, scope, node))
            continue
        for x in node.inputs:
            if x is None:  # an optional input left out, such as conv2d's bias
                continue
            if isinstance(x, Tensor):
                scene.edges.append((scene.keys[id(x)], key, False))
                continue
            constant = f"c{n_constants}"
            n_constants += 1
            title = labels.constant_title(x)
            facts = [] if title is not None else [labels.shape_and_dtype(np.asarray(x))]
            scene.nodes.append(SceneNode(constant, Kind.CONSTANT, title, facts, node.scope, x))
            scene.edges.append((constant, key, True))
        name, arguments = labels.op_label(node)
        facts = [arguments] if arguments else []
        scene.nodes.append(SceneNode(key, Kind.OP, name, facts, node.scope, node))
        scene.edges.append((key, scene.keys[id(node.output())], False))
    return scene


def _tensor_kind(t: Tensor, is_output: bool) -> Kind:
    if is_output:
        return Kind.OUTPUT
    if t.grad_fn is not None:
        return Kind.INTERMEDIATE
    return Kind.PARAMETER if t.requires_grad else Kind.INPUT


def _tensor_scope(
    t: Tensor, kind: Kind, consumers: dict[int, list[Op]], chains: ScopeChains
) -> Scope | None:
    """A tensor's module call: its producer's; a parameter's, the innermost call all its
    users share; inputs and outputs stay outside every call."""
    if kind is Kind.INTERMEDIATE and t.grad_fn is not None:
        return t.grad_fn.scope
    if kind is Kind.PARAMETER:
        return innermost_shared((op.scope for op in consumers.get(id(t), [])), chains)
    return None
