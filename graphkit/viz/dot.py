"""Graph -> DOT text, written by hand: no Graphviz is needed to produce it.

Node ids come from the walk's order (``t0`` for the first tensor, ``op0`` for the first
op, ``c0`` for the first constant, ``m0`` for the first collapsed module call), never
from memory addresses, so the same computation always gives byte-identical text that
can be snapshot-tested.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphkit.graph import Op
from graphkit.scope import Scope
from graphkit.tensor import Tensor
from graphkit.viz import labels
from graphkit.viz.clusters import cluster_label, nest_in_clusters
from graphkit.viz.collapsed import CollapsedCall
from graphkit.viz.colors import COLOR_BY, TITLES, ColourScale
from graphkit.viz.gradients import gradient_outputs
from graphkit.viz.modules import ScopeChains, collapse_groups, innermost_shared
from graphkit.viz.record import tensor_gradients
from graphkit.viz.repeats import Repeats, find_repeats
from graphkit.viz.style import (
    ANOMALY_PATH,
    CONSTANT_EDGE_ATTRIBUTES,
    EDGE_ATTRIBUTES,
    GRAPH_ATTRIBUTES,
    KIND_ATTRIBUTES,
    NODE_ATTRIBUTES,
    NODE_STYLE,
    Kind,
    attribute_list,
)
from graphkit.viz.walk import Graph, output_of, walk

GRAPH_NAME = "graphkit"
RANKDIRS = ("TB", "LR", "BT", "RL")
DEFAULT_MAX_VALUE_ELEMENTS = 16
INDENT = "  "


@dataclass(frozen=True)
class DrawOptions:
    """What ``to_dot``, ``draw`` and ``render`` show; see ``to_dot`` for each option."""

    show_grad: bool = False
    show_values: bool = False
    group_modules: bool = False
    collapse_modules: bool = False
    backward: bool = False
    rankdir: str = "TB"
    max_value_elements: int = DEFAULT_MAX_VALUE_ELEMENTS
    color_by: str | None = None
    collapse_repeated: bool = False
    anomaly: Any = None

    def __post_init__(self) -> None:
        if self.color_by is not None and self.color_by not in COLOR_BY:
            raise ValueError(
                f"color_by must be None or one of {', '.join(COLOR_BY)}, got {self.color_by!r}"
            )
        if self.anomaly is not None and not hasattr(self.anomaly, "op"):
            raise TypeError(
                "anomaly must be a gk.AnomalyError (an error with the culprit op as .op), "
                f"got {type(self.anomaly).__name__}"
            )
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {self.rankdir!r}")
        if self.max_value_elements < 0:
            raise ValueError(f"max_value_elements must be >= 0, got {self.max_value_elements}")


def to_dot(
    output: Tensor | Sequence[Tensor],
    show_grad: bool = False,
    show_values: bool = False,
    group_modules: bool = False,
    collapse_modules: bool = False,
    backward: bool = False,
    rankdir: str = "TB",
    max_value_elements: int = DEFAULT_MAX_VALUE_ELEMENTS,
    color_by: str | None = None,
    collapse_repeated: bool = False,
    anomaly: Any = None,
) -> str:
    """The DOT text of the graph that produced ``output`` (a tensor, or a list of them).

    Data nodes (tensors: name, shape, dtype) and compute nodes (ops: name and
    arguments) alternate, with edges in the direction data flows. Inputs, parameters
    (leaves that require grad), constants and outputs are coloured apart.

    Args:
        output: the tensor(s) to draw the history of.
        show_grad: add each tensor's ``.grad`` shape and norm, where it has one.
        show_values: print the values of tensors of at most ``max_value_elements``.
        group_modules: draw each module call as a labelled box around its ops
            (nested calls nest), labelled with its dotted path and class.
        collapse_modules: draw each module call one level below the model's own call
            as a single node, so large networks stay readable.
        backward: draw the graph that computes the gradients of ``output`` with respect
            to every leaf that requires grad: they are computed with
            ``gk.grad(..., create_graph=True)`` (each output seeded with ones) and that
            gradient graph, which reuses forward values, is drawn. ``.grad`` is untouched.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right); ``"BT"``, ``"RL"``.
        max_value_elements: the largest tensor whose values ``show_values`` prints.
        color_by: ``"grad_norm"`` or ``"value_norm"``: shade each tensor by the norm of
            its gradient or its value, on a log scale shown in a legend. Gradients are
            those of ``output`` with respect to every tensor, from a backward pass that
            leaves ``.grad`` and the graph as they were (the ``.grad`` the tensors hold
            once the graph is freed).
        collapse_repeated: draw consecutive calls of the same block (``blocks.0`` to
            ``blocks.19``, identical ops and shapes, each feeding the next) once, in a
            box labelled ``×N``.
        anomaly: a ``gk.AnomalyError``: its op (``.op``) is drawn as the culprit and
            the path from it to the output is marked.

    A node holding a NaN or an infinity, in its value or its gradient, is drawn in red.
    """
    options = DrawOptions(
        show_grad=show_grad,
        show_values=show_values,
        group_modules=group_modules,
        collapse_modules=collapse_modules,
        backward=backward,
        rankdir=rankdir,
        max_value_elements=max_value_elements,
        color_by=color_by,
        collapse_repeated=collapse_repeated,
        anomaly=anomaly,
    )
    return "".join(dot_lines(output, options))


def dot_lines(output: Tensor | Sequence[Tensor], options: DrawOptions) -> list[str]:
    """The DOT text as lines ending in a newline: header, statements, closing brace."""
    return [f"digraph {GRAPH_NAME} {{\n", *body_lines(output, options), "}\n"]


def body_lines(output: Tensor | Sequence[Tensor], options: DrawOptions) -> list[str]:
    """The statements between the braces, each an indented line ending in a newline."""
    outputs = [output] if isinstance(output, Tensor) else list(output)
    if not outputs or not all(isinstance(t, Tensor) for t in outputs):
        raise TypeError("draw a Tensor or a non-empty list of Tensors")
    titles = output_titles(outputs)
    if options.backward:
        outputs, gradient_titles = gradient_outputs(outputs, [titles[id(t)] for t in outputs])
        titles = gradient_titles
    writer = _DotWriter(walk(outputs), titles, options)
    return [line + "\n" for line in writer.lines()]


def output_titles(outputs: list[Tensor]) -> dict[int, str]:
    """How each output is titled: its name, else ``output`` (``output 0``, ... if several)."""
    if len(outputs) == 1:
        return {id(outputs[0]): outputs[0].name or "output"}
    return {id(t): t.name or f"output {i}" for i, t in enumerate(outputs)}


class _DotWriter:
    """Writes one graph's statements; holds the ids and lookups the statements share."""

    def __init__(self, graph: Graph, titles: dict[int, str], options: DrawOptions) -> None:
        self.graph = graph
        self.titles = titles
        self.options = options
        self.chains = ScopeChains()
        self.outputs = {id(t) for t in graph.outputs}
        # Module calls collapse as they would without the repeats folded away.
        self.groups = collapse_groups(graph.ops, self.chains) if options.collapse_modules else {}
        self.repeats = Repeats()
        if options.collapse_repeated:
            self.repeats = find_repeats(graph, self.chains)
            hidden = self.repeats.hidden
            graph = Graph([n for n in graph.nodes if id(n) not in hidden], graph.outputs)
            self.graph = graph
        self.ids: dict[int, str] = {}  # id(tensor or op) -> DOT node id
        self.consumers: dict[int, list[Op]] = {}  # id(tensor) -> the ops that use it
        group_ids: dict[int, str] = {}  # id(collapsed scope) -> DOT node id
        n_tensors = n_ops = 0
        for node in graph.nodes:
            if isinstance(node, Tensor):
                self.ids[id(node)] = f"t{n_tensors}"
                n_tensors += 1
                continue
            group = self.groups.get(id(node))
            if group is None:
                self.ids[id(node)] = f"op{n_ops}"
                n_ops += 1
            else:
                group_id = group_ids.setdefault(id(group), f"m{len(group_ids)}")
                self.ids[id(node)] = group_id
            for x in node.tensor_inputs():
                self.consumers.setdefault(id(x), []).append(node)
        for hidden_output, drawn in self.repeats.alias.items():
            self.ids[hidden_output] = self.ids[id(drawn)]
            users = self.consumers.get(hidden_output, [])
            self.consumers.setdefault(id(drawn), []).extend(users)
        self.colours = _Colours(graph, options.color_by) if options.color_by else None
        self.path = _anomaly_path(graph, self.consumers, options.anomaly)
        # What lines() fills in: node statements with the module call each is drawn in,
        # edge statements, and the collapsed calls by DOT id.
        self.statements: list[tuple[str, Scope | None]] = []
        self.edges: list[str] = []
        self.summaries: dict[str, CollapsedCall] = {}  # DOT id -> the collapsed call
        self.n_constants = 0

    def lines(self) -> list[str]:
        """Every statement, clusters nested and indented, in a stable order (call once)."""
        for node in self.graph.nodes:
            if isinstance(node, Op):
                self._op(node)
            elif self._is_hidden(node):
                owner = node.grad_fn if node.grad_fn is not None else self.consumers[id(node)][0]
                self._summary(owner).absorb(node)
            else:
                self.statements.append((self._data_node(node), self._data_scope(node)))
        statements = self.statements
        for node_id, summary in self.summaries.items():
            statements[summary.position] = (summary.statement(node_id), summary.scope.parent)
        chains: Callable[[Scope | None], list[Scope]] = self.chains
        if not self.options.group_modules:
            # Only the boxes of repeated blocks (labelled ×N) are drawn.
            statements = [(text, self._repeated_call(scope)) for text, scope in statements]
            chains = _alone
        if self.colours is not None:
            statements.append((self.colours.legend_statement(), None))
        graph_attributes = {**GRAPH_ATTRIBUTES, "rankdir": self.options.rankdir}
        return [
            f"{INDENT}graph [{attribute_list(graph_attributes)}];",
            f"{INDENT}node [{attribute_list(NODE_ATTRIBUTES)}];",
            f"{INDENT}edge [{attribute_list(EDGE_ATTRIBUTES)}];",
            *nest_in_clusters(statements, chains, INDENT, self._cluster_label),
            *(INDENT + edge for edge in self.edges),
        ]

    def _repeated_call(self, scope: Scope | None) -> Scope | None:
        """The repeated block a statement of ``scope`` sits in, if any."""
        return next((s for s in self.chains(scope) if id(s) in self.repeats.times), None)

    def _cluster_label(self, scope: Scope) -> str:
        label = cluster_label(scope)
        times = self.repeats.times.get(id(scope))
        return label if times is None else f"{label[:-1]} <b>×{times}</b>>"

    def _edge(self, source: Any, target: Any, attributes: str = "") -> str:
        """``a -> b;`` between two items' nodes, marked when it lies on the anomaly's path."""
        marks = [attributes] if attributes else []
        if id(source) in self.path and id(target) in self.path:
            marks.append(_PATH_EDGE)
        extra = f" [{', '.join(marks)}]" if marks else ""
        return f"{self.ids[id(source)]} -> {self.ids[id(target)]}{extra};"

    # ----- data nodes ---------------------------------------------------------------
    def _data_node(self, t: Tensor) -> str:
        facts = [labels.shape_and_dtype(t.data)]
        if self.options.show_values and t.data.size <= self.options.max_value_elements:
            facts.extend(labels.value_lines(t.data))
        if self.options.show_grad and t.grad is not None:
            facts.append(labels.gradient_fact(t.grad))
        if labels.tensor_has_nonfinite(t):
            kind = Kind.NONFINITE
        elif id(t) in self.outputs:
            kind = Kind.OUTPUT
        elif t.grad_fn is not None:
            kind = Kind.INTERMEDIATE
        else:
            kind = Kind.PARAMETER if t.requires_grad else Kind.INPUT
        style = NODE_STYLE[kind]
        if self.colours is not None:
            fact, style = self.colours.shade(t, kind)
            facts.append(fact)
        if id(t) in self.path:
            style += ", " + _PATH_NODE
        title = self.titles.get(id(t)) or t.name
        label = labels.html_label(title, facts)
        return f"{self.ids[id(t)]} [label={label}, {style}];"

    def _data_scope(self, t: Tensor) -> Scope | None:
        """The module call a data node is drawn in: its producer's, or for a parameter
        the innermost call all its users share; inputs and outputs stay outside."""
        if not self.options.group_modules or id(t) in self.outputs:
            return None
        if t.grad_fn is not None:
            return self._op_scope(t.grad_fn)
        if not t.requires_grad:
            return None
        users = (self._op_scope(op) for op in self.consumers.get(id(t), []))
        return innermost_shared(users, self.chains)

    def _is_hidden(self, t: Tensor) -> bool:
        """Whether a tensor lives entirely inside one collapsed module call: made and used
        only there (or a parameter used only there). Inputs and outputs always show."""
        if not self.groups or id(t) in self.outputs:
            return False
        if t.grad_fn is None and not t.requires_grad:
            return False
        touching = list(self.consumers.get(id(t), []))
        if t.grad_fn is not None:
            touching.append(t.grad_fn)
        owners = {self.groups.get(id(op)) for op in touching}
        return len(owners) == 1 and None not in owners

    # ----- compute nodes ------------------------------------------------------------
    def _op_scope(self, op: Op) -> Scope | None:
        """The module call an op's node is drawn in (a collapsed call sits in its parent)."""
        group = self.groups.get(id(op))
        return op.scope if group is None else group.parent

    def _op(self, op: Op) -> None:
        """Add an op's node (or count it into its collapsed call) and its edges."""
        node_id = self.ids[id(op)]
        group = self.groups.get(id(op))
        if group is None:
            for x in op.inputs:
                if x is None:  # an optional input left out, such as conv2d's bias
                    continue
                if isinstance(x, Tensor):
                    self.edges.append(self._edge(x, op))
                else:
                    constant_id = self._constant(x, op)
                    self.edges.append(f"{constant_id} -> {node_id} [{_CONSTANT_EDGE}];")
            self.statements.append((self._op_node(op), op.scope))
            self.edges.append(self._edge(op, output_of(op)))
        else:
            summary = self._summary(op)
            summary.ops += 1
            for x in op.tensor_inputs():
                if not self._is_hidden(x):
                    summary.add_edge(f"{self.ids[id(x)]} -> {node_id};", self.edges)
            output = output_of(op)
            if not self._is_hidden(output):
                summary.add_edge(f"{node_id} -> {self.ids[id(output)]};", self.edges)

    def _op_node(self, op: Op) -> str:
        label = labels.op_html_label(op)
        anomaly = self.options.anomaly
        if anomaly is not None and anomaly.op is op:
            first_line = str(anomaly).splitlines()[0] if str(anomaly) else "anomaly"
            note = labels.escape(labels.cut(first_line, 60))
            site = getattr(op, "site", None)  # set when anomaly mode recorded the op
            if site:  # the file name and line: the full path is in the error itself
                note += f'<br/>at {labels.escape(os.path.basename(site))}'
            label = f'{label[:-1]}<br/><font point-size="9">{note}</font>>'
            return f"{self.ids[id(op)]} [label={label}, {NODE_STYLE[Kind.CULPRIT]}];"
        style = NODE_STYLE[Kind.OP] + (", " + _PATH_NODE if id(op) in self.path else "")
        return f"{self.ids[id(op)]} [label={label}, {style}];"

    def _summary(self, op: Op) -> CollapsedCall:
        """The summary of the collapsed call ``op`` belongs to, created on first sight.

        Its statement is a placeholder until every op and hidden tensor of the call
        has been counted; the placeholder keeps the call's place in the order.
        """
        node_id = self.ids[id(op)]
        summary = self.summaries.get(node_id)
        if summary is None:
            scope = self.groups[id(op)]
            times = self.repeats.times.get(id(scope), 1)
            summary = CollapsedCall(scope, len(self.statements), times)
            self.summaries[node_id] = summary
            self.statements.append(("", None))
        return summary

    def _constant(self, value: Any, op: Op) -> str:
        """Add a node for a raw constant input of ``op`` (one node per use); its id."""
        constant_id = f"c{self.n_constants}"
        self.n_constants += 1
        array = np.asarray(value)
        title = labels.constant_title(value)
        facts = []
        if title is None:
            facts.append(labels.shape_and_dtype(array))
            if self.options.show_values and array.size <= self.options.max_value_elements:
                facts.extend(labels.value_lines(array))
        kind = Kind.NONFINITE if labels.has_nonfinite(array) else Kind.CONSTANT
        label = labels.html_label(title, facts)
        self.statements.append((f"{constant_id} [label={label}, {NODE_STYLE[kind]}];", op.scope))
        return constant_id


_CONSTANT_EDGE = attribute_list(CONSTANT_EDGE_ATTRIBUTES)
_PATH_EDGE = attribute_list(ANOMALY_PATH)
_PATH_NODE = attribute_list(ANOMALY_PATH)


def _alone(scope: Scope | None) -> list[Scope]:
    """A scope as a chain of itself only: its box drawn without the boxes around it."""
    return [] if scope is None else [scope]


class _Colours:
    """Each tensor's norm (of its gradient or value) and the scale that shades it."""

    def __init__(self, graph: Graph, color_by: str) -> None:
        self.color_by = color_by
        if color_by == "grad_norm":
            gradients = tensor_gradients(graph.outputs)
            arrays = {id(t): gradients.get(id(t)) for t in graph.tensors}
        else:
            arrays = {id(t): t.data for t in graph.tensors}
        self.norms = {key: labels.norm(a) for key, a in arrays.items() if a is not None}
        self.scale = ColourScale(self.norms.values())

    def shade(self, t: Tensor, kind: Kind) -> tuple[str, str]:
        """(the fact naming the norm, the node's style) of a tensor."""
        what = TITLES[self.color_by]
        attributes = dict(KIND_ATTRIBUTES[kind])
        norm = self.norms.get(id(t))
        if norm is None:
            attributes["fillcolor"] = "white"
            return f"no {what.split()[0]}", attribute_list(attributes)
        attributes["fillcolor"], attributes["fontcolor"] = self.scale.fill_and_font(norm)
        return f"{what} {norm:.3g}", attribute_list(attributes)

    def legend_statement(self) -> str:
        return f'legend [shape="plaintext", label={self.scale.legend_label(self.color_by)}];'


def _anomaly_path(graph: Graph, consumers: dict[int, list[Op]], anomaly: Any) -> set[int]:
    """ids of the culprit op and of every op and tensor on a path from it to an output."""
    if anomaly is None:
        return set()
    culprit = anomaly.op
    if not any(op is culprit for op in graph.ops):
        raise ValueError(
            f"anomaly: its op ({getattr(culprit, 'name', culprit)!r}) is not in the graph "
            "of this output; draw the output whose computation raised the AnomalyError"
        )
    path = {id(culprit)}
    stack = [culprit]
    while stack:
        op = stack.pop()
        y = output_of(op)
        path.add(id(y))
        for user in consumers.get(id(y), []):
            if id(user) not in path:
                path.add(id(user))
                stack.append(user)
    return path
