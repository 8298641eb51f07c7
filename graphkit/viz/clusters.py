"""Nest node statements in ``subgraph cluster_N`` blocks, one per module call.

Graphviz draws a subgraph whose name starts with ``cluster`` as a labelled box around
its nodes; nested calls (``features`` around ``features.conv1``) become nested boxes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphkit.scope import Scope
from graphkit.viz.labels import escape
from graphkit.viz.modules import module_title
from graphkit.viz.style import CLUSTER_ATTRIBUTES

_CLUSTER_STYLE = "".join(f'{key}="{value}"; ' for key, value in CLUSTER_ATTRIBUTES.items())


def cluster_label(scope: Scope) -> str:
    """``<<b>features.conv1</b> Conv2d>``: the call's path in bold, then its class.

    The outermost call is named after its class, which is then written once.
    """
    path, module_class = module_title(scope)
    if path in ("", module_class):
        return f"<<b>{escape(module_class)}</b>>"
    return f"<<b>{escape(path)}</b> {escape(module_class)}>"


def nest_in_clusters(
    statements: Sequence[tuple[str, Scope | None]],
    chains: Callable[[Scope | None], list[Scope]],
    indent: str = "  ",
    label: Callable[[Scope], str] = cluster_label,
) -> list[str]:
    """DOT lines placing each statement in the cluster of its module call (None: top level).

    ``chains`` gives the calls around a scope, outermost first (a ``ScopeChains``);
    ``label`` each box's label. Clusters are numbered in order of first appearance, so
    the text is deterministic.
    """
    top: list[str] = []
    members: dict[int, list[str]] = {}  # id(scope) -> its statements
    children: dict[int | None, list[Scope]] = {}  # id(parent) (None: top) -> child calls
    number: dict[int, int] = {}  # id(scope) -> N in cluster_N
    for text, scope in statements:
        if scope is None:
            top.append(indent + text)
            continue
        parent: int | None = None
        for link in chains(scope):
            if id(link) not in number:
                number[id(link)] = len(number)
                children.setdefault(parent, []).append(link)
            parent = id(link)
        members.setdefault(id(scope), []).append(text)

    lines = top
    # Iterative depth-first emission: a scope is opened, its members and children
    # written, then closed by its (scope, depth, True) entry.
    stack: list[tuple[Scope, int, bool]] = [(s, 1, False) for s in reversed(children.get(None, []))]
    while stack:
        scope, depth, close = stack.pop()
        pad = indent * depth
        if close:
            lines.append(pad + "}")
            continue
        lines.append(f"{pad}subgraph cluster_{number[id(scope)]} {{")
        lines.append(f"{pad}{indent}{_CLUSTER_STYLE}label={label(scope)};")
        lines.extend(pad + indent + text for text in members.get(id(scope), []))
        stack.append((scope, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(children.get(id(scope), [])))
    return lines
