"""The op registry: every ``Op`` subclass defined so far, by name.

Nothing registers itself: the registry is read off the class hierarchy when asked, so
an op defined anywhere (graphkit's or a user's) is in it, and one that is garbage
collected leaves it.
"""

from __future__ import annotations

from graphkit.graph import Op


def registered_ops(package: str | None = None) -> dict[str, type[Op]]:
    """Op classes by ``name``; only those defined in modules under ``package`` if given
    (``registered_ops("graphkit.ops")`` is graphkit's own)."""
    found: dict[str, type[Op]] = {}
    stack = list(Op.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if package is None or cls.__module__ == package or cls.__module__.startswith(
            package + "."
        ):
            found[cls.name] = cls
    return dict(sorted(found.items()))
