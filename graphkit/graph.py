"""Recording the computational graph: grad mode and the ``Op`` node.

A graph alternates data nodes (``Tensor``) and compute nodes (``Op``). Each op holds
strong references to its inputs and a weak reference to its output, so a graph lives
exactly as long as the tensors the user keeps, with no reference cycles.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import wraps
from typing import Any, ClassVar, TypeVar

from graphkit.backend import AxisError
from graphkit.tensor import Tensor

_grad_enabled: ContextVar[bool] = ContextVar("graphkit_grad_enabled", default=True)
_scope: ContextVar[Scope | None] = ContextVar("graphkit_scope", default=None)

#: Every op class by name, so viz, docs and tests can enumerate them.
OPS: dict[str, type[Op]] = {}

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


class Scope:
    """One module call in progress: the module, its name under its parent, the parent call.

    ``nn.Module.__call__`` enters one; every op recorded inside remembers it, so graph
    drawings can group ops by module.
    """

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


class _Released:
    def __repr__(self) -> str:
        return "<released>"


#: What ``Op.saved`` holds once backward has freed it.
RELEASED: Any = _Released()


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Op:
    """A compute node: ``forward`` on arrays, ``backward`` on gradients.

    Subclasses define

    * ``forward(self, *xs)``: the inputs as arrays (or Python scalars) -> the output array.
      It may keep what backward needs and cannot recompute cheaply in ``self.saved``.
    * ``backward(self, gy, y, *xs)``: the gradient of the output, the output and the
      inputs -> the gradient of each input (one value for a one-input op, else a tuple;
      ``None`` where an input needs none). Gradients may keep the broadcast shape: the
      engine sums them back to each input's shape.

    ``backward`` is written once for both modes of the engine. First-order backprop
    passes arrays; ``create_graph=True`` passes Tensors, so the same code records a
    differentiable graph of the backward pass. It therefore uses only operators,
    methods arrays and Tensors share (``.sum``, ``.reshape``, ``.transpose``,
    ``.swapaxes``) and other ops, which accept both.

    Calling an op on arrays alone just computes; on Tensors it returns a Tensor and,
    when grad mode is on and an input requires grad, records itself as its grad_fn.
    """

    # __weakref__: tools (and the tests that prove graphs are freed) may watch an op die.
    __slots__ = ("__weakref__", "inputs", "output", "saved", "scope")
    name: ClassVar[str] = "op"

    inputs: tuple[Any, ...]
    output: weakref.ref[Tensor]
    saved: Any
    scope: Scope | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake_case(cls.__name__)
        OPS[cls.name] = cls

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Compute the op on ``inputs``; record it when a Tensor input requires grad."""
        op = cls(**params)
        op.saved = None
        arrays = []
        has_tensor = track = False
        for x in inputs:
            if isinstance(x, Tensor):
                has_tensor = True
                track = track or x.requires_grad
                arrays.append(x.data)
            else:
                arrays.append(x)
        try:
            y = op.forward(*arrays)
        except ValueError as err:
            raise _explain(cls.name, arrays, err) from None
        if not has_tensor:
            return y
        if track and _grad_enabled.get():
            out = Tensor._from_op(y, op)
            op.inputs = inputs
            op.output = weakref.ref(out)
            op.scope = _scope.get()
            return out
        return Tensor._from_op(y, None)

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
