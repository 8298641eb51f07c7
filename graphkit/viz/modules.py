"""Module calls in a drawing: which call each op belongs to, and which calls collapse.

Every op remembers the innermost module call it ran in (``op.scope``, a
``graphkit.scope.Scope``); following ``.parent`` gives the chain of calls around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from graphkit.graph import Op
from graphkit.scope import Scope


class ScopeChains:
    """The chain of module calls around each scope, outermost first, computed once each.

    Thousands of ops share a handful of scopes, so chains are cached by scope.
    """

    def __init__(self) -> None:
        self._chains: dict[int, list[Scope]] = {}

    def __call__(self, scope: Scope | None) -> list[Scope]:
        if scope is None:
            return []
        chain = self._chains.get(id(scope))
        if chain is None:
            chain = []
            link: Scope | None = scope
            while link is not None:
                chain.append(link)
                link = link.parent
            chain.reverse()
            self._chains[id(scope)] = chain
        return chain


def common_prefix(chains: Iterable[Sequence[Scope]]) -> list[Scope]:
    """The module calls every chain starts with (compared by identity)."""
    iterator = iter(chains)
    prefix = list(next(iterator, []))
    for chain in iterator:
        length = 0
        for ours, theirs in zip(prefix, chain):
            if ours is not theirs:
                break
            length += 1
        del prefix[length:]
    return prefix


def innermost_shared(scopes: Iterable[Scope | None], chains: ScopeChains) -> Scope | None:
    """The innermost module call around every one of ``scopes`` (None when none is)."""
    shared = common_prefix(chains(scope) for scope in scopes)
    return shared[-1] if shared else None


def module_title(scope: Scope) -> tuple[str, str]:
    """(dotted path, module class) of a module call, e.g. ``("features.conv1", "Conv2d")``."""
    return scope.path, type(scope.module).__name__


def collapse_groups(ops: Sequence[Op], chains: ScopeChains) -> dict[int, Scope]:
    """For each op (by id) that collapses, the module call it collapses into.

    The calls that every scoped op shares (typically the one call of the whole model)
    are looked through; each call one level below them becomes one node. Ops outside
    every module (a loss computed after the model) and ops run directly in the shared
    calls stay as they are.
    """
    scoped = {id(op): chains(op.scope) for op in ops if op.scope is not None}
    depth = len(common_prefix(scoped.values()))
    return {key: chain[depth] for key, chain in scoped.items() if len(chain) > depth}
