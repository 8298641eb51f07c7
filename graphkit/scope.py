"""Module scopes: which module call an op was recorded in.

``nn.Module.__call__`` enters a ``module_scope``; every op recorded inside remembers the
innermost call in ``op.scope``, which is how graph drawings group ops by module. This
knows nothing of tensors or ops, so anything may import it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_scope: ContextVar[Scope | None] = ContextVar("graphkit_scope", default=None)


class Scope:
    """One module call in progress: the module, its name under its parent, the parent call."""

    __slots__ = ("module", "name", "parent")

    def __init__(self, module: Any, name: str, parent: Scope | None) -> None:
        self.module = module
        self.name = name
        self.parent = parent

    @property
    def path(self) -> str:
        """Dotted name from the outermost module call, e.g. ``features.conv1``."""
        names = []
        scope: Scope | None = self
        while scope is not None and scope.parent is not None:
            names.append(scope.name)
            scope = scope.parent
        return ".".join(reversed(names)) or self.name


def current_scope() -> Scope | None:
    """The innermost module call in progress, if any."""
    return _scope.get()


class module_scope:
    """Record the ops computed inside as belonging to a call of ``module``."""

    def __init__(self, module: Any, name: str) -> None:
        self.scope = Scope(module, name, _scope.get())

    def __enter__(self) -> Scope:
        self._token = _scope.set(self.scope)
        return self.scope

    def __exit__(self, *exc: object) -> None:
        _scope.reset(self._token)
