"""Repeated module calls: the same block applied N times in a row, to be drawn once, ×N.

Two calls are the same block when they run the same ops, with the same arguments and
shapes, in the same nested calls (weights may differ: 20 ``Linear+ReLU`` blocks of an
MLP repeat, as does one block applied 20 times). Consecutive calls under one parent
form a run when each feeds the next: the one tensor a call hands out is used by the next
call only. A run of N >= 2 is drawn as its first call, labelled ×N, whose output stands
in for the last call's output, so a 20-block network draws as many nodes as a 2-block one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graphkit.graph import Op
from graphkit.scope import Scope
from graphkit.tensor import Tensor
from graphkit.viz.labels import op_label
from graphkit.viz.modules import ScopeChains
from graphkit.viz.walk import Graph, output_of


@dataclass
class Repeats:
    """What collapsing repeated calls hides and redraws.

    Attributes:
        hidden: ids of the ops and tensors not drawn (the 2nd to Nth calls of each run).
        alias: ``id(tensor)`` -> the tensor drawn in its place (a run's last output ->
            its first call's output).
        times: ``id(scope)`` of each run's first call -> N.
    """

    hidden: set[int] = field(default_factory=set)
    alias: dict[int, Tensor] = field(default_factory=dict)
    times: dict[int, int] = field(default_factory=dict)


@dataclass
class _Call:
    scope: Scope
    ops: list[Op] = field(default_factory=list)


def find_repeats(graph: Graph, chains: ScopeChains) -> Repeats:
    """The runs of repeated calls in ``graph``, outermost first (a run's calls are not
    searched again inside)."""
    calls: dict[int, _Call] = {}
    children: dict[int | None, list[_Call]] = {}  # id(parent scope) (None: top) -> calls
    for op in graph.ops:
        parent: int | None = None
        for scope in chains(op.scope):
            call = calls.get(id(scope))
            if call is None:
                call = calls[id(scope)] = _Call(scope)
                children.setdefault(parent, []).append(call)
            call.ops.append(op)
            parent = id(scope)
    consumers: dict[int, list[Op]] = {}
    for op in graph.ops:
        for x in op.tensor_inputs():
            consumers.setdefault(id(x), []).append(op)
    outputs = {id(t) for t in graph.outputs}
    repeats = Repeats()
    for siblings in children.values():
        if any(id(op) in repeats.hidden for op in siblings[0].ops):
            continue  # inside a run already collapsed
        signatures = [_signature(call, chains) for call in siblings]
        start = 0
        while start < len(siblings):
            end = start + 1
            while (
                end < len(siblings)
                and signatures[end] == signatures[start]
                and _feeds(siblings[end - 1], siblings[end], consumers)
                and id(_output(siblings[end], consumers)) not in outputs
            ):
                end += 1
            if end - start >= 2:
                _collapse(siblings[start:end], consumers, repeats)
            start = end
    return repeats


def _signature(call: _Call, chains: ScopeChains) -> tuple:
    """What makes two calls the same block: each op's place, label and shapes."""
    depth = len(chains(call.scope))
    return tuple(
        (
            tuple(s.name for s in chains(op.scope)[depth:]),
            op_label(op),
            tuple(x.shape for x in op.tensor_inputs()),
            output_of(op).shape,
        )
        for op in call.ops
    )


def _output(call: _Call, consumers: dict[int, list[Op]]) -> Tensor | None:
    """The one tensor the call hands out (used by an op outside it), else None."""
    inside = {id(op) for op in call.ops}
    handed = [
        op.output()
        for op in call.ops
        if any(id(user) not in inside for user in consumers.get(id(op.output()), []))
    ]
    return handed[0] if len(handed) == 1 else None


def _feeds(first: _Call, second: _Call, consumers: dict[int, list[Op]]) -> bool:
    """Whether ``first`` hands exactly one tensor out, used by ``second`` only."""
    out = _output(first, consumers)
    if out is None or _output(second, consumers) is None:
        return False
    inside = {id(op) for op in second.ops}
    return all(id(user) in inside for user in consumers[id(out)])


def _collapse(run: Sequence[_Call], consumers: dict[int, list[Op]], repeats: Repeats) -> None:
    head = run[0]
    repeats.times[id(head.scope)] = len(run)
    for call in run[1:]:
        inside = {id(op) for op in call.ops}
        for op in call.ops:
            repeats.hidden.add(id(op))
            repeats.hidden.add(id(op.output()))
            for x in op.tensor_inputs():  # its own parameters go with it
                if x.grad_fn is None and all(id(u) in inside for u in consumers[id(x)]):
                    repeats.hidden.add(id(x))
    last = _output(run[-1], consumers)
    first = _output(head, consumers)
    if last is not None and first is not None:
        repeats.alias[id(last)] = first
