"""Recording the computational graph: grad mode and the ``Op`` node.

A graph alternates data nodes (``Tensor``) and compute nodes (``Op``). Each op holds
strong references to its inputs and a weak reference to its output, so a graph lives
exactly as long as the tensors the user keeps, with no reference cycles.

An op carries its three rules side by side: ``forward`` on arrays, ``backward`` (reverse
mode) on gradients, ``jvp`` (forward mode) on tangents. ``Op.apply`` records the node for
the backward walk (``graphkit.autograd``) and hands tangents to ``graphkit.forward``.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ClassVar, TypeVar

from graphkit.backend import AxisError, ndarray
from graphkit.scope import Scope, _scope

_grad_enabled: ContextVar[bool] = ContextVar("graphkit_grad_enabled", default=True)

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default)."""
    return _grad_enabled.get()


class _GradMode:
    """Context manager and decorator that switches graph recording on or off."""

    enabled: ClassVar[bool]

    def __enter__(self) -> None:
        self._token = _grad_enabled.set(self.enabled)

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._token)

    def __call__(self, fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Nothing computed inside ``with gk.no_grad():`` is recorded."""

    enabled = False


class enable_grad(_GradMode):
    """Turns recording back on inside a ``no_grad`` block."""

    enabled = True


class _Released:
    def __repr__(self) -> str:
        return "<released>"


#: What ``Op.saved`` holds once backward has freed it.
RELEASED: Any = _Released()


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Op:
    """A compute node: ``forward`` on arrays, ``backward`` on gradients, ``jvp`` on tangents.

    Subclasses define

    * ``forward(self, *xs)``: the inputs as arrays (or Python scalars) -> the output array.
      It may keep what backward needs and cannot recompute cheaply in ``self.saved``.
    * ``backward(self, gy, y, *xs)`` (reverse mode): the gradient of the output, the
      output and the inputs -> the gradient of each input (one value for a one-input op,
      else a tuple; ``None`` where an input needs none). Gradients may keep the broadcast
      shape: the engine sums them back to each input's shape.
    * ``jvp(self, dxs, y, *xs)`` (forward mode): ``dxs`` holds one tangent per input
      (``None`` for an input without one) -> the tangent of the output, or ``None`` for a
      zero tangent. It may return it in a broadcast shape: the engine broadcasts it to the
      output's shape and casts it to the output's dtype.
    * ``grad_reads`` (optional): which inputs each input's gradient reads, so that the write
      guard locks only those; ``check_op`` tests the declaration. Arrays an op keeps as
      parameters rather than inputs (indices, say) it copies: the guard does not see them.

    ``backward`` and ``jvp`` are each written once for arrays and Tensors. First-order
    derivatives pass arrays; when the derivative must itself be differentiable
    (``create_graph=True``, a transform nested in another) they pass Tensors, so the same
    code records a graph. They therefore use only operators, the methods arrays and
    Tensors share (``.sum``, ``.reshape``, ``.transpose``, ``.swapaxes``) and other ops,
    which accept both.

    Calling an op on arrays alone just computes; on Tensors it returns a Tensor and,
    when grad mode is on and an input requires grad, records itself as its grad_fn.
    When an input carries a tangent (inside ``gk.func.jvp``), the output gets one too.
    """

    # __weakref__: tools (and the tests that prove graphs are freed) may watch an op die.
    __slots__ = ("__weakref__", "arrays", "inputs", "locks", "output", "saved", "scope", "site")
    name: ClassVar[str] = "op"

    inputs: tuple[Any, ...]
    # The inputs as forward saw them (or what saved-tensor hooks packed them into):
    # backward computes with these, whatever array an input's .data was given since.
    arrays: Any
    # What keeps the arrays backward needs read-only (graphkit.write_guard): dropped on release.
    locks: Any
    output: weakref.ref[Tensor]
    saved: Any
    scope: Scope | None
    # Where the user's code called the op ("file:line"), recorded in anomaly mode only.
    site: str
    #: The inputs whose values each input's gradient is computed from, by position: for
    #: Linear (x, W, b), ((1,), (0,), ()), x's gradient reads W, W's reads x, b's nothing.
    #: The write guard locks only the leaves that the gradients wanted will read; None
    #: means any gradient may read any input. tests/test_write_guard.py checks every
    #: declaration by writing into what it leaves out.
    grad_reads: ClassVar[tuple[tuple[int, ...], ...] | None] = None
    #: The same the other way round, made from it: the inputs whose gradients read each input.
    grad_readers: ClassVar[tuple[tuple[int, ...], ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake_case(cls.__name__)
        if "grad_reads" in cls.__dict__ and cls.grad_reads is not None:
            reads = cls.grad_reads
            cls.grad_readers = tuple(tuple(i for i, read in enumerate(reads) if j in read)
                                     for j in range(len(reads)))

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *xs)")

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        raise RuntimeError(
            f"{type(self).__name__} defines no backward, which reverse mode (backward(), "
            "gk.grad, vjp, jacrev) needs: define backward(self, gy, y, *xs), or use forward "
            "mode (gk.func.jvp, jacfwd)"
        )

    def jvp(self, dxs: tuple[Any, ...], y: Any, *xs: Any) -> Any:
        raise RuntimeError(
            f"{type(self).__name__} defines no jvp, which forward mode (gk.func.jvp, jacfwd, "
            "hessian, hvp) needs: define jvp(self, dxs, y, *xs), or use reverse mode "
            "(gk.grad, gk.func.vjp, jacrev)"
        )

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Compute the op on ``inputs``; record it when a Tensor input requires grad."""
        op = cls(**params) if params else cls()
        op.saved = None
        arrays = []
        has_tensor = track = dual = False
        leaf: Any = None  # the one leaf Tensor among the inputs, or True for more leaves
        for x in inputs:
            if isinstance(x, Tensor):
                has_tensor = True
                track = track or x.requires_grad
                dual = dual or x._tangents is not None
                arrays.append(x._data)
                if x.grad_fn is None:
                    leaf = x if leaf is None else True
            else:
                arrays.append(x)
                if isinstance(x, ndarray):
                    leaf = True
        try:
            y = op.forward(*arrays)
        except ValueError as err:
            raise _explain(cls.name, arrays, err) from None
        if not has_tensor:
            return y
        if track and _grad_enabled.get():
            out = Tensor._from_op(y, op)
            op.inputs = inputs
            op.arrays = arrays
            op.output = weakref.ref(out)
            op.scope = _scope.get()
            if leaf is None:
                op.locks = None
            elif leaf is True:
                op.locks = _guard.lock_inputs(inputs, cls)
            else:
                # The usual case, made fast: one leaf, locked already by an earlier op of
                # this graph. Held whether or not this op's gradients read it (grad_reads):
                # an earlier op needs it locked anyway, and holding it longer can only
                # refuse a write, never let one through.
                ref = leaf._lock  # None: never locked, or given a new array since
                op.locks = (ref is not None and ref()) or _guard.lock_inputs(inputs, cls)
        else:
            out = Tensor._from_op(y, None)
        if dual:
            _forward.push_tangents(op, inputs, arrays, out)
        if _taps:
            for tap in _taps:
                tap(op, inputs, out)
        return out

    def record(self, inputs: tuple[Any, ...], y: Any) -> Tensor:
        """Record this op as the one that made ``y`` (an array) from ``inputs``, and return
        the Tensor of ``y``: for ops built by hand whose forward is no function of arrays
        (``gk.checkpoint`` runs a whole function). Watchers see it as any other op."""
        if not hasattr(self, "saved"):  # no forward ran to set it: nothing kept for backward
            self.saved = None
        out = Tensor._from_op(y, self)
        self.inputs = inputs
        self.arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
        self.output = weakref.ref(out)
        self.scope = _scope.get()
        self.locks = _guard.lock_inputs(inputs, type(self))
        for tap in _taps:
            tap(self, inputs, out)
        return out

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` wants a gradient (constants and frozen tensors don't)."""
        x = self.inputs[i]
        return isinstance(x, Tensor) and x.requires_grad

    def label(self) -> str:
        """The op and its key arguments, as graph drawings show it."""
        params = " ".join(f"{k}={v}" for k, v in self.params().items())
        return f"{self.name} {params}" if params else self.name

    def params(self) -> dict[str, Any]:
        """The op's arguments other than its inputs (axis, stride, ...)."""
        return {name: getattr(self, name) for name in _param_slots(type(self))}

    def tensor_inputs(self) -> Iterator[Tensor]:
        return (x for x in self.inputs if isinstance(x, Tensor))

    def __repr__(self) -> str:
        return f"<{self.label()}>"


def _param_slots(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        if klass is not Op and issubclass(klass, Op):
            names.extend(klass.__dict__.get("__slots__", ()))
    return tuple(names)


def _explain(op_name: str, arrays: list[Any], err: ValueError) -> ValueError:
    """Re-raise a NumPy shape error with the op's name and every input's shape."""
    if isinstance(err, AxisError):
        return err
    shapes = " and ".join(str(getattr(a, "shape", type(a).__name__)) for a in arrays)
    return ValueError(f"{op_name}: {err} (input shapes {shapes})")


#: Called as ``tap(op, inputs, out)`` after every op computed on Tensors, in the order they
#: run (the op was recorded when ``out.grad_fn is op``): anomaly mode, saved-tensor hooks
#: and checkpointing watch the forward pass through it. Empty, it costs one check per op.
Tap = Callable[["Op", tuple[Any, ...], "Tensor"], None]
_taps: list[Tap] = []


@contextmanager
def listening(listeners: list[Any], listener: Any) -> Iterator[None]:
    """``listener`` among ``listeners`` (the engine's taps or observers) inside the block."""
    listeners.append(listener)
    try:
        yield
    finally:
        listeners.remove(listener)


def watch(tap: Tap) -> AbstractContextManager[None]:
    """Call ``tap(op, inputs, out)`` for every op computed on Tensors inside the block."""
    return listening(_taps, tap)


# Imported last: the Tensor and the forward walk build on Op, so they load after it
# whichever module is imported first.
from graphkit import forward as _forward  # noqa: E402
from graphkit import write_guard as _guard  # noqa: E402
from graphkit.tensor import Tensor  # noqa: E402
