"""How the transforms take their inputs and lay out what they return."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from graphkit import forward, ops
from graphkit.backend import xp
from graphkit.graph import is_grad_enabled
from graphkit.tensor import Tensor

Argnums = int | tuple[int, ...]

# When each leaf a reverse-mode transform made for itself was made, on one clock with
# ``now()``: a forward-mode transform that started earlier can tell such leaves, which
# nothing outside it differentiates, from the caller's own tensors.
_clock = itertools.count(1)
# By id, dropped when the leaf dies (a WeakKeyDictionary would compare Tensors with ==,
# which is elementwise).
_made_at: dict[int, int] = {}


def now() -> int:
    """A tick of the clock that stamps the leaves transforms make (see ``depends_on_leaves``)."""
    return next(_clock)


def positions(argnums: Argnums, count: int, transform: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of valid argument positions; a clear error otherwise."""
    chosen = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not chosen or not all(isinstance(i, int) for i in chosen):
        raise TypeError(f"{transform}: argnums must be an int or a non-empty tuple of ints")
    for i in chosen:
        if not -count <= i < count:
            raise ValueError(
                f"{transform}: argnums {argnums} asks for argument {i}, but the function "
                f"was called with {count} positional argument(s)"
            )
    return tuple(i % count for i in chosen)


def linked(x: Tensor) -> bool:
    """Whether ``x`` belongs to a surrounding transform: a graph being recorded, or tangents."""
    return (x.requires_grad and is_grad_enabled()) or bool(x._tangents)


def reverse_input(x: Any) -> Tensor:
    """A tensor that requires grad and stands for ``x`` in one reverse-mode transform.

    Linked to ``x``'s own graph when ``x`` is being differentiated by a surrounding
    transform, so that the result can be differentiated again; a new leaf otherwise.
    """
    if isinstance(x, Tensor):
        if x.requires_grad and is_grad_enabled():
            return ops.identity(x)
        leaf = Tensor(x._data, requires_grad=True)
        if x._tangents:
            leaf._tangents = dict(x._tangents)
    else:
        leaf = Tensor(x, requires_grad=True)
    _made_at[id(leaf)] = now()
    weakref.finalize(leaf, _made_at.pop, id(leaf), None)
    return leaf


def depends_on_leaves(
    tensors: Iterable[Any], exclude: Iterable[Tensor] = (), made_after: int | None = None
) -> bool:
    """Whether any of ``tensors`` was computed from a leaf that requires grad, other than
    those in ``exclude`` and those transforms made after the tick ``made_after``.

    Functions may close over tensors that require grad (a model's parameters), so
    whether a transform's result must stay differentiable is read off its graph.
    """
    skip = {id(x) for x in exclude}
    seen: set[int] = set()
    stack = [t for t in tensors if isinstance(t, Tensor)]
    while stack:
        t = stack.pop()
        if id(t) in seen or id(t) in skip or not t.requires_grad:
            continue
        seen.add(id(t))
        if t.grad_fn is None:
            if made_after is None or _made_at.get(id(t), 0) <= made_after:
                return True
            continue
        stack.extend(x for x in t.grad_fn.inputs if isinstance(x, Tensor))
    return False


def forward_input(x: Any) -> Tensor:
    """A tensor that stands for ``x`` in one forward-mode transform (to carry a tangent)."""
    if isinstance(x, Tensor):
        return ops.identity(x) if linked(x) else Tensor(x._data)
    return Tensor(x)


def any_linked(values: Sequence[Any]) -> bool:
    """Whether a surrounding transform differentiates any of ``values`` (see ``linked``)."""
    return bool(forward.is_active()) or any(isinstance(v, Tensor) and linked(v) for v in values)


def as_output(value: Any, transform: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{transform}: the function must return a Tensor (or a tuple of Tensors), "
            f"got {type(value).__name__}"
        )
    return value


def outputs_of(result: Any, transform: str) -> tuple[tuple[Tensor, ...], bool]:
    """``(tensors, is_tuple)`` for a function's result: one Tensor or a tuple of them."""
    if isinstance(result, (tuple, list)):
        return tuple(as_output(r, transform) for r in result), True
    return (as_output(result, transform),), False


def split_aux(result: Any, has_aux: bool, transform: str) -> tuple[Any, Any]:
    """``(output, aux)`` of a function that returns ``(output, aux)`` when ``has_aux``."""
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{transform}: with has_aux=True the function must return (output, aux)")
    return result[0], result[1]


def as_tensor_result(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._from_op(xp.asarray(value), None)


def assemble(slices: Sequence[Any], shape: tuple[int, ...], axis: int, dtype: Any) -> Tensor:
    """Slices of a Jacobian (arrays or Tensors) stacked along ``axis``, then shaped ``shape``.

    Tensors are stacked with the differentiable stack op, so a Jacobian taken inside
    another transform can be differentiated again; arrays are just stacked.
    """
    if not slices:  # an empty input or output: an empty Jacobian
        return Tensor._from_op(xp.zeros(shape, dtype=dtype), None)
    if any(isinstance(s, Tensor) and (s.requires_grad or s._tangents) for s in slices):
        return ops.stack([as_tensor_result(s) for s in slices], axis=axis).reshape(shape)
    arrays = [s._data if isinstance(s, Tensor) else s for s in slices]
    return Tensor._from_op(xp.stack(arrays, axis=axis).reshape(shape), None)
