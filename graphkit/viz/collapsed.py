"""A collapsed module call: one node standing for every op and parameter inside it."""

from __future__ import annotations

from graphkit.scope import Scope
from graphkit.tensor import Tensor
from graphkit.viz import labels
from graphkit.viz.modules import module_title
from graphkit.viz.style import NODE_STYLE, Kind


class CollapsedCall:
    """A collapsed module call: how many ops and parameters it swallowed, its edges."""

    def __init__(self, scope: Scope, position: int, times: int = 1) -> None:
        self.scope = scope
        self.times = times  # how many identical calls in a row it stands for
        self.position = position  # index of its placeholder statement
        self.ops = 0
        self.parameters = 0
        self.nonfinite = False
        self._edges: set[str] = set()

    def absorb(self, t: Tensor) -> None:
        """Count a tensor hidden inside the call (parameters count toward its size)."""
        if t.grad_fn is None:
            self.parameters += t.data.size
        self.nonfinite = self.nonfinite or labels.tensor_has_nonfinite(t)

    def add_edge(self, edge: str, edges: list[str]) -> None:
        """Draw an edge to or from the call once, however many of its ops it links."""
        if edge not in self._edges:
            self._edges.add(edge)
            edges.append(edge)

    def statement(self, node_id: str) -> str:
        """The call's node: its path, class, and how many ops and parameters it holds."""
        path, module_class = module_title(self.scope)
        size = _count(self.ops, "op") + (
            ", " + _count(self.parameters, "param") if self.parameters else ""
        )
        facts = [size] if path in ("", module_class) else [module_class, size]
        title = path or module_class
        label = labels.html_label(title if self.times == 1 else f"{title} ×{self.times}", facts)
        kind = Kind.NONFINITE if self.nonfinite else Kind.MODULE
        return f"{node_id} [label={label}, {NODE_STYLE[kind]}];"


def _count(n: int, noun: str) -> str:
    """``1 op``, ``2 ops``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
