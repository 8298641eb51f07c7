"""Anomaly mode: the first op that makes a NaN or an infinity out of finite numbers, and where.

``with gk.detect_anomaly():`` (or ``gk.set_detect_anomaly(True)`` for the whole process)
every op remembers the line of the user's code that called it, the first frame outside
graphkit, in ``op.site``, and

* forward: an op whose output holds a NaN or an infinity although its inputs were finite
  raises ``AnomalyError`` at once;
* backward: an op whose backward returns a NaN or an infinity for one of its inputs
  although the gradient of its output was finite raises it there.

The error names the op, the shapes and that line, and keeps the op as ``.op`` and its
output as ``.tensor`` (``gk.viz.draw(err.tensor, anomaly=err)`` marks the culprit). Off,
nothing is installed: the forward pass and the backward walk look at an empty list of
watchers per op, as they always do.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from functools import wraps
from types import FrameType
from typing import Any, TypeVar

from graphkit import autograd, graph
from graphkit.backend import xp
from graphkit.tensor import Tensor, array_of

F = TypeVar("F", bound=Callable[..., Any])
_PACKAGE = os.path.dirname(os.path.abspath(graph.__file__)) + os.sep
_enabled = False


class AnomalyError(RuntimeError):
    """A NaN or an infinity made by an op out of finite numbers, caught by anomaly mode.

    Attributes:
        op: the op that made it.
        tensor: that op's output.
        input_index: in backward, the input whose gradient it is; None in forward.
    """

    def __init__(self, message: str, op: graph.Op, tensor: Tensor | None,
                 input_index: int | None = None) -> None:
        super().__init__(message)
        self.op = op
        self.tensor = tensor
        self.input_index = input_index


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""
    return _enabled


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly mode on or off for the whole process."""
    global _enabled
    mode = bool(mode)
    if mode == _enabled:
        return
    _enabled = mode
    if mode:
        graph._taps.append(_check_forward)
        autograd._observers.append(_check_backward)
    else:
        graph._taps.remove(_check_forward)
        autograd._observers.remove(_check_backward)


class detect_anomaly:
    """``with gk.detect_anomaly():`` anomaly mode inside the block (also a decorator)."""

    def __enter__(self) -> None:
        self._was = _enabled
        set_detect_anomaly(True)

    def __exit__(self, *exc: object) -> None:
        set_detect_anomaly(self._was)

    def __call__(self, fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def user_site() -> str:
    """``file:line`` of the innermost frame of the call stack outside graphkit."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return "an unknown line" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _check_forward(op: graph.Op, inputs: tuple[Any, ...], out: Tensor) -> None:
    site = user_site()
    if out.grad_fn is op:
        op.site = site
    bad = _non_finite(out._data)
    if bad and all(not _non_finite(array_of(x)) for x in inputs):
        shapes = ", ".join(str(xp.shape(array_of(x))) for x in inputs)
        raise AnomalyError(
            f"{op.name} produced {bad} in its output (shape {out.shape}, {out.dtype}) from "
            f"finite inputs of shapes {shapes}, called at {site}", op, out)


def _check_backward(op: graph.Op, gy: Any, grads: tuple[Any, ...]) -> None:
    if _non_finite(array_of(gy)):
        return
    for i, g in enumerate(grads):
        bad = None if g is None else _non_finite(array_of(g))
        if bad:
            site = getattr(op, "site", None)
            where = f"called at {site}" if site else "recorded before anomaly mode was on"
            raise AnomalyError(
                f"{op.name}'s backward produced {bad} in the gradient for its input {i} "
                f"(shape {xp.shape(array_of(g))}) from a finite gradient of its output "
                f"(shape {xp.shape(array_of(gy))}); {op.name} was {where}",
                op, op.output(), i)


def _non_finite(value: Any) -> str:
    """What is not finite in ``value`` ("NaN", "inf", "NaN and inf", with how many), or ""."""
    if isinstance(value, float):
        return "" if math.isfinite(value) else ("NaN" if math.isnan(value) else "inf")
    if not isinstance(value, xp.ndarray) or value.dtype.kind not in "fc":
        return ""
    if xp.isfinite(value).all():
        return ""
    nans = int(xp.isnan(value).sum())
    infs = int(xp.isinf(value).sum())
    parts = [f"{what} ({count} of {value.size})" for what, count in (("NaN", nans), ("inf", infs))
             if count]
    return " and ".join(parts)
