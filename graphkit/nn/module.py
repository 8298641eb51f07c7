"""``Module`` and ``Parameter``: layers that hold weights, nest, and save themselves.

A module registers every ``Parameter`` and sub-module assigned to one of its attributes,
in assignment order, so ``named_parameters()`` yields dotted names such as
``features.conv1.weight``. Calling a module runs ``forward`` inside a module scope, so
graph drawings can group the ops by the module call that recorded them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from graphkit.files import atomic_output
from graphkit.hooks import RemovableHandle
from graphkit.nn import module_hooks as _hooks
from graphkit.scope import current_scope, module_scope
from graphkit.tensor import Tensor
from graphkit.write_guard import refuse_if_saved


class Parameter(Tensor):
    """A Tensor that a module learns: ``requires_grad`` is always True."""

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, name=name, dtype=dtype)


class Module:
    """Base class of layers and models: subclasses set attributes and write ``forward``.

    Starts in training mode, as in PyTorch. Calling a module runs ``forward`` inside
    ``scope.module_scope(self, name)``, where ``name`` is the attribute under which the
    calling module holds it (the class name for an outermost call): ops recorded inside
    get ``op.scope.path`` such as ``features.conv1``. The first outermost call also names
    every unnamed parameter by its dotted name, for graph drawings.
    """

    training: bool
    # Set in __init__ with object.__setattr__, past the registration in __setattr__.
    _parameters: dict[str, Parameter]
    _modules: dict[str, Module]
    _buffers: dict[str, np.ndarray | None]
    _parameters_named: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_parameters_named", False)
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        parent = current_scope()
        if parent is None:
            name = type(self).__name__
            if not self._parameters_named:
                self._name_parameters()
        else:
            name = _name_under(parent.module, self)
        with module_scope(self, name):
            hooks = self.__dict__.get("_module_hooks")
            if not hooks:
                return self.forward(*args, **kwargs)
            return _hooks.call(self, hooks, args, kwargs)

    # ----- hooks ------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable[[Module, tuple[Any, ...]], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; it may return new positional
        arguments (a tuple, or one value). Returns a handle with ``remove()``."""
        return self._hooks_of().add("pre", hook)

    def register_forward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], Any], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; it may return a new
        output. Returns a handle with ``remove()``."""
        return self._hooks_of().add("forward", hook)

    def register_full_backward_hook(
        self, hook: Callable[[Module, tuple[Any, ...], tuple[Any, ...]], Any]
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` in backward, once the gradients
        with respect to this call's outputs and positional inputs are known (tuples, None
        where an entry has none), as PyTorch's full backward hooks; it may return a new
        ``grad_input``. Returns a handle with ``remove()``. See graphkit/nn/module_hooks.py."""
        return self._hooks_of().add("backward", hook)

    def _hooks_of(self) -> _hooks.ModuleHooks:
        hooks = self.__dict__.get("_module_hooks")
        if hooks is None:
            hooks = _hooks.ModuleHooks()
            object.__setattr__(self, "_module_hooks", hooks)
        return hooks

    # ----- registration -----------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params, modules = self.__dict__.get("_parameters"), self.__dict__.get("_modules")
        if params is None or modules is None:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {name!r} before Module.__init__() runs: "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
        else:
            params.pop(name, None)
            modules.pop(name, None)
            if isinstance(value, Parameter):
                params[name] = value
            elif isinstance(value, Module):
                modules[name] = value
            buffers = self.__dict__["_buffers"]
            if name in buffers:
                if isinstance(value, (Parameter, Module)):
                    del buffers[name]
                else:
                    buffers[name] = _as_buffer(name, value)
                    value = buffers[name]
            if isinstance(value, (Parameter, Module)):
                object.__setattr__(self, "_parameters_named", False)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Keep ``array`` as state that is not learned (running statistics): an attribute
        saved by ``state_dict`` and restored by ``load_state_dict``, as PyTorch's buffers.
        Assigning a new array to the attribute later replaces the buffer."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"buffer name must be an identifier, got {name!r}")
        if name in self._parameters or name in self._modules:
            raise ValueError(f"{type(self).__name__} already has a parameter or module {name!r}")
        self._buffers[name] = _as_buffer(name, array)
        object.__setattr__(self, name, self._buffers[name])

    def _name_parameters(self) -> None:
        """Label unnamed parameters with their dotted names, for graph drawings."""
        for name, param in self.named_parameters():
            if param.name is None:
                param.name = name
        object.__setattr__(self, "_parameters_named", True)

    # ----- traversal --------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names, in assignment order."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module inside it, with dotted names;
        a module held in two places is yielded once."""
        seen: set[int] = set()

        def walk(name: str, module: Module) -> Iterator[tuple[str, Module]]:
            if id(module) in seen:
                return
            seen.add(id(module))
            yield name, module
            for key, child in module.named_children():
                yield from walk(f"{name}.{key}" if name else key, child)

        return walk(prefix, self)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (``conv1.weight``); shared ones once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for key, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{prefix}.{key}" if prefix else key), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer (``bn1.running_mean``) with its dotted name; None ones are skipped."""
        for prefix, module in self.named_modules():
            for key, array in module._buffers.items():
                if array is not None:
                    yield (f"{prefix}.{key}" if prefix else key), array

    def buffers(self) -> Iterator[np.ndarray]:
        for _, array in self.named_buffers():
            yield array

    # ----- modes and gradients ----------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active) on this module and all inside it."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for param in self.parameters():
            param.grad = None

    # ----- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted parameter and buffer name -> a copy of its array."""
        state = {name: param.data.copy() for name, param in self.named_parameters()}
        state.update((name, array.copy()) for name, array in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any] | str | os.PathLike[str]) -> None:
        """Copy values into the parameters and buffers from a ``state_dict()`` or a ``.npz``
        file path, in place.

        Every key must match a parameter or buffer, with its shape; otherwise ValueError
        naming the key, and nothing is changed.
        """
        if isinstance(state, (str, os.PathLike)):
            path = state
            try:
                with np.load(path, allow_pickle=False) as archive:
                    state = {key: archive[key] for key in archive.files}
            except (ValueError, OSError) as err:
                if isinstance(err, FileNotFoundError):
                    raise
                raise ValueError(f"{os.fspath(path)!r} is not a .npz file of weights "
                                 f"written by Module.save ({err})") from None
        params = {name: param.data for name, param in self.named_parameters()}
        params.update(self.named_buffers())
        missing = [key for key in params if key not in state]
        unexpected = [key for key in state if key not in params]
        if missing or unexpected:
            raise ValueError(
                f"state of {type(self).__name__} does not match its parameters and buffers: "
                f"missing keys {missing}, unexpected keys {unexpected}"
            )
        for key, array in params.items():
            shape = np.shape(state[key])
            if shape != array.shape:
                raise ValueError(
                    f"state[{key!r}] has shape {shape}, but the module's has shape {array.shape}"
                )
        refuse_if_saved(param for _, param in self.named_parameters())  # all or nothing
        for key, array in params.items():
            np.copyto(array, state[key], casting="same_kind")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``state_dict()`` to ``path`` as a ``.npz`` file, atomically.

        The file appears complete or not at all: it is written to a temporary file in the
        same folder, then renamed over ``path``.
        """
        # Any: savez's stub has an allow_pickle keyword that a name in **state could be.
        state: dict[str, Any] = self.state_dict()
        with atomic_output(path) as file:
            np.savez(file, **state)

    # ----- display ----------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside this module's ``repr``."""
        return ""

    def __repr__(self) -> str:
        children = [
            f"  ({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self.named_children()
        ]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"


def _as_buffer(name: str, array: Any) -> np.ndarray | None:
    if array is None or isinstance(array, np.ndarray):
        return array
    raise TypeError(f"buffer {name!r} must be an ndarray or None, got {type(array).__name__}")


def _name_under(parent: Any, module: Module) -> str:
    """The attribute name under which ``parent`` holds ``module``; else its class name."""
    for name, child in getattr(parent, "_modules", {}).items():
        if child is module:
            return name
    return type(module).__name__
