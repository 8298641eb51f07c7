"""Forward-mode differentiation: every value carries its tangent beside it.

Inside ``gk.func.jvp`` the primal inputs carry a tangent at a *level*, a number that
names that call. When ``Op.apply`` meets an input with a tangent it calls
``push_tangents``, which runs the op's ``jvp`` rule and attaches the output's tangent:
one pass, computed alongside the forward values, with nothing recorded for a backward
pass unless the inputs themselves require grad.

Levels keep nested transforms apart (``jacfwd(jacfwd(f))``, ``jvp`` of a ``jacfwd``):
the rule for an inner level runs with only the outer levels active, and on Tensors, so
the outer levels differentiate the inner tangent in turn. A rule whose result nothing
differentiates runs on arrays, the fast path, as first-order backward does.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from graphkit.backend import ndarray, xp
from graphkit.graph import is_grad_enabled

if TYPE_CHECKING:
    from graphkit.graph import Op

_active: ContextVar[tuple[int, ...]] = ContextVar("graphkit_forward_levels", default=())
_levels = itertools.count(1)


class dual_level:
    """A new forward-mode level, active inside the block: ``with dual_level() as level:``.

    Every level is a fresh number, so a tangent left on a tensor by a finished call is
    never read by a later one.
    """

    def __enter__(self) -> int:
        self.level = next(_levels)
        self._token = _active.set((*_active.get(), self.level))
        return self.level

    def __exit__(self, *exc: object) -> None:
        _active.reset(self._token)


def is_active() -> bool:
    """True inside a forward-mode transform (values may carry tangents)."""
    return bool(_active.get())


def attach(t: Tensor, level: int, tangent: Any) -> None:
    """Give ``t`` the tangent ``tangent`` (an array or a Tensor) at ``level``.

    The tangent takes ``t``'s dtype; ValueError when its shape differs from ``t``'s.
    """
    shape = xp.shape(tangent)
    if shape != t.shape:
        raise ValueError(
            f"tangent of shape {shape} for a primal of shape {t.shape}: "
            "each tangent must have its primal's shape"
        )
    if isinstance(tangent, Tensor):
        if tangent.dtype != t.dtype:
            tangent = tangent.astype(t.dtype)
    else:
        tangent = xp.asarray(tangent, dtype=t.dtype)
    if t._tangents is None:
        t._tangents = {}
    t._tangents[level] = tangent


def tangent_of(t: Tensor, level: int) -> Any:
    """``t``'s tangent at ``level`` (an array or a Tensor), or None for a zero tangent."""
    return None if t._tangents is None else t._tangents.get(level)


def detach_tangent(t: Tensor, level: int) -> Any:
    """Remove and return ``t``'s tangent at ``level`` (None when it has none)."""
    return None if t._tangents is None else t._tangents.pop(level, None)


def push_tangents(op: Op, inputs: Sequence[Any], arrays: Sequence[Any], out: Tensor) -> None:
    """Compute ``out``'s tangent at every active level from the tangents of ``inputs``.

    Levels run outermost first, so when an inner rule computes on Tensors, ``out``
    already carries the outer tangents that differentiate it.
    """
    active = _active.get()
    recording = is_grad_enabled()
    for depth, level in enumerate(active):
        dxs = []
        carried = tensor_tangents = False
        for x in inputs:
            tangent = None
            if isinstance(x, Tensor) and x._tangents:
                tangent = x._tangents.get(level)
                if tangent is not None:
                    carried = True
                    tensor_tangents = tensor_tangents or isinstance(tangent, Tensor)
            dxs.append(tangent)
        if not carried:
            continue
        if (recording or depth) and _differentiated(inputs, dxs, active[:depth], recording):
            token = _active.set(active[:depth])
            try:
                dy = op.jvp(tuple(dxs), out, *inputs)
            finally:
                _active.reset(token)
        else:
            if tensor_tangents:
                dxs = [d._data if isinstance(d, Tensor) else d for d in dxs]
            dy = op.jvp(tuple(dxs), out._data, *arrays)
        if dy is None:
            continue
        data = out._data
        if type(dy) is not ndarray or dy.shape != data.shape or dy.dtype != data.dtype:
            dy = _fitted(op, dy, out)
        if out._tangents is None:
            out._tangents = {level: dy}
        else:
            out._tangents[level] = dy


def _differentiated(
    inputs: Sequence[Any], dxs: Sequence[Any], outer: tuple[int, ...], recording: bool
) -> bool:
    """Whether anything will differentiate this tangent: an outer level, or reverse mode."""
    for values in (inputs, dxs):
        for value in values:
            if isinstance(value, Tensor):
                if recording and value.requires_grad:
                    return True
                if outer and value._tangents and any(level in value._tangents for level in outer):
                    return True
    return False


def _fitted(op: Op, dy: Any, out: Tensor) -> Any:
    """A rule's tangent as the output's: broadcast to its shape (a rule may leave it
    smaller), in its dtype."""
    if not isinstance(dy, (Tensor, ndarray)):
        dy = xp.asarray(dy)
    if dy.shape != out.shape:
        try:
            widened = dy + xp.zeros(out.shape, dtype=out.dtype)
        except ValueError:
            widened = None
        if widened is None or widened.shape != out.shape:
            raise ValueError(
                f"{op.name}: jvp returned a tangent of shape {dy.shape}, which does not "
                f"broadcast to the output's shape {out.shape}"
            )
        dy = widened
    return dy if dy.dtype == out.dtype else dy.astype(out.dtype)


# Imported last: Tensor's module loads the ops, which load this one.
from graphkit.tensor import Tensor  # noqa: E402
