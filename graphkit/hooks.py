"""Hooks on gradients: ``Tensor.register_hook``, ``retain_grad``, and the handles that remove them.

A tensor's hooks live in its ``_hooks`` (a ``TensorHooks``). The backward walk calls
``run`` once the gradient with respect to a hooked tensor is complete: for an op's output
when the op is about to run its backward, for a leaf once every use has sent its share.
As in PyTorch, hooks run in the order they were registered, each seeing what the previous
one returned, and ``retain_grad`` keeps the result after all of them. ``hooked()`` says
whether any tensor has hooks, so a walk when none has pays nothing per op.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, MutableMapping
from typing import Any

from graphkit.backend import xp

Hook = Callable[[Any], Any]

_keys = itertools.count()


class RemovableHandle:
    """What registering a hook returns: ``remove()`` unregisters the hook (again does
    nothing). As a context manager, it removes the hook when the block ends."""

    __slots__ = ("key", "registry")

    def __init__(self, registry: MutableMapping[int, Any]) -> None:
        self.registry = registry
        self.key = next(_keys)

    def remove(self) -> None:
        self.registry.pop(self.key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add(registry: MutableMapping[int, Any], hook: Any) -> RemovableHandle:
    """Put ``hook`` last in ``registry`` (kept in registration order); its handle."""
    handle = RemovableHandle(registry)
    registry[handle.key] = hook
    return handle


class TensorHooks:
    """The hooks on one tensor's gradient, by handle key in registration order."""

    __slots__ = ("fns", "retains_grad")
    live = 0  # how many exist: they die with their tensor

    def __init__(self) -> None:
        self.fns: dict[int, Hook] = {}
        self.retains_grad = False
        TensorHooks.live += 1

    def __del__(self) -> None:
        TensorHooks.live -= 1


def hooked() -> bool:
    """Whether any tensor has hooks (or retains its gradient)."""
    return TensorHooks.live > 0


def _hooks_of(t: Tensor) -> TensorHooks:
    hooks = getattr(t, "_hooks", None)
    if hooks is None:
        hooks = t._hooks = TensorHooks()
    return hooks


def register(t: Tensor, hook: Hook) -> RemovableHandle:
    """``t.register_hook(hook)``."""
    if not callable(hook):
        raise TypeError(f"register_hook needs a function of the gradient, got {hook!r}")
    if not t.requires_grad:
        raise RuntimeError(
            f"cannot register a hook on {_guard.describe(t)}: it does not require grad, so "
            "no gradient is computed for it (make it with requires_grad=True)"
        )
    return add(_hooks_of(t).fns, hook)


def retain(t: Tensor) -> None:
    """``t.retain_grad()``: a leaf keeps its gradient anyway."""
    if not t.requires_grad:
        raise RuntimeError(
            f"cannot retain the gradient of {_guard.describe(t)}: it does not require grad"
        )
    if t.grad_fn is not None:
        _hooks_of(t).retains_grad = True


def retains(t: Tensor) -> bool:
    hooks = getattr(t, "_hooks", None)
    return hooks is not None and hooks.retains_grad


def run(t: Tensor, g: Any, create_graph: bool) -> Any:
    """The gradient ``g`` with respect to ``t`` after ``t``'s hooks (``retain_grad`` last).

    ``g`` is an array in first-order backward and a Tensor under ``create_graph``; hooks
    always see a Tensor, and what they return is turned back into what the walk carries.
    """
    hooks = t._hooks
    for hook in list(hooks.fns.values()):
        result = hook(g if create_graph else Tensor._from_op(g, None))
        if result is not None:
            g = _replacement(t, hook, result, create_graph)
    if hooks.retains_grad:
        if create_graph:
            t.grad = g if t.grad is None else t.grad + g
        elif t.grad is None:
            t.grad = Tensor._from_op(g.copy(), None)
        else:
            t.grad.data = xp.asarray(t.grad._data + g)
    return g


def _replacement(t: Tensor, hook: Hook, result: Any, create_graph: bool) -> Any:
    """What a hook returned, as the gradient the walk carries: checked and cast to ``t``'s
    shape and dtype."""
    shape = xp.shape(result)
    if shape != t.shape:
        raise ValueError(
            f"hook {getattr(hook, '__name__', hook)!r} on {_guard.describe(t)} returned a "
            f"gradient of shape {shape}: a replacement gradient must have the tensor's shape"
        )
    if create_graph:
        result = result if isinstance(result, Tensor) else Tensor(result, dtype=t.dtype)
        return result if result.dtype == t.dtype else result.astype(t.dtype)
    array = result._data if isinstance(result, Tensor) else xp.asarray(result)
    return array if array.dtype == t.dtype else array.astype(t.dtype)


# Imported last: the Tensor class imports this module.
from graphkit import write_guard as _guard  # noqa: E402
from graphkit.tensor import Tensor  # noqa: E402
