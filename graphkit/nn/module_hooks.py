"""Module hooks with PyTorch's semantics: forward pre-hooks, forward hooks, full backward hooks.

``Module.__call__`` hands a call to ``call`` when the module has any hook:

1. each forward pre-hook ``hook(module, args)`` may return new positional arguments (a
   tuple, or one value);
2. with backward hooks, each positional Tensor argument that requires grad passes through
   an identity op, so that the gradient arriving at that copy is the module's own share;
3. ``forward`` runs, then each forward hook ``hook(module, args, output)``, which may return
   a new output;
4. with backward hooks, each output Tensor passes through an identity op too. Once the
   gradients of the outputs and then of the inputs have arrived, each backward hook runs as
   ``hook(module, grad_input, grad_output)`` (tuples with one entry per positional argument
   and per output, None where there is none) and may return a new ``grad_input``.

A module with several differentiable inputs receives their gradients at different moments
of the walk, and the first ones have gone on by the time the last arrives: a backward hook
of such a module may inspect them, and replace the last one only (a RuntimeError says so).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from graphkit.graph import is_grad_enabled
from graphkit.hooks import RemovableHandle, add
from graphkit.ops import identity
from graphkit.tensor import Tensor

ForwardPreHook = Callable[[Any, tuple[Any, ...]], Any]
ForwardHook = Callable[[Any, tuple[Any, ...], Any], Any]
BackwardHook = Callable[[Any, tuple[Any, ...], tuple[Any, ...]], Any]


class ModuleHooks:
    """A module's hooks, each kind by handle key in registration order."""

    __slots__ = ("backward", "forward", "pre")

    def __init__(self) -> None:
        self.pre: dict[int, ForwardPreHook] = {}
        self.forward: dict[int, ForwardHook] = {}
        self.backward: dict[int, BackwardHook] = {}

    def add(self, kind: str, hook: Any) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a module hook must be a function, got {hook!r}")
        return add(getattr(self, kind), hook)

    def __bool__(self) -> bool:
        return bool(self.pre or self.forward or self.backward)


def call(module: Any, hooks: ModuleHooks, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module(*args, **kwargs)`` with its hooks."""
    for hook in list(hooks.pre.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    backward = _BackwardHooks(module, hooks) if hooks.backward and is_grad_enabled() else None
    if backward is not None:
        args = backward.wrap_inputs(args)
    output = module.forward(*args, **kwargs)
    for forward_hook in list(hooks.forward.values()):
        result = forward_hook(module, args, output)
        if result is not None:
            output = result
    return output if backward is None else backward.wrap_outputs(output)


class _BackwardHooks:
    """One call of a module with backward hooks: collects the gradients of its outputs and
    inputs as they arrive in the walk, and runs the hooks once both are complete."""

    def __init__(self, module: Any, hooks: ModuleHooks) -> None:
        self.module = module
        self.hooks = hooks
        self.grad_input: list[Any] = []
        self.grad_output: list[Any] = []
        self.inputs_waiting: list[int] = []  # positions whose gradient is still to come
        self.outputs_waiting: list[int] = []
        self.differentiable_inputs: list[int] = []
        self.differentiable_outputs: list[int] = []

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        wrapped, self.differentiable_inputs = _through_identities(args, self._input_arrived)
        self.grad_input = [None] * len(args)
        self.inputs_waiting = list(self.differentiable_inputs)
        return tuple(wrapped)

    def wrap_outputs(self, output: Any) -> Any:
        outputs = output if isinstance(output, tuple) else (output,)
        wrapped, self.differentiable_outputs = _through_identities(outputs, self._output_arrived)
        self.grad_output = [None] * len(outputs)
        self.outputs_waiting = list(self.differentiable_outputs)
        return tuple(wrapped) if isinstance(output, tuple) else wrapped[0]

    def _output_arrived(self, j: int, grad: Any) -> None:
        self.grad_output[j] = grad
        if j in self.outputs_waiting:
            self.outputs_waiting.remove(j)
        if not self.outputs_waiting and not self.differentiable_inputs:
            self._run_hooks()  # nothing flows on to the inputs: the hooks run now

    def _input_arrived(self, i: int, grad: Any) -> Any:
        self.grad_input[i] = grad
        self.inputs_waiting.remove(i)
        if self.inputs_waiting:
            return None
        arrived = list(self.grad_input)
        replaced = self._run_hooks()
        for k in self.differentiable_inputs:
            if k != i and replaced[k] is not arrived[k]:
                raise RuntimeError(
                    f"a backward hook of {type(self.module).__name__} replaced the gradient "
                    f"of input {k}, which had already flowed on: a module with several "
                    "differentiable inputs can have the gradient of its last one replaced "
                    "only; register a hook on each input tensor instead"
                )
        return None if replaced[i] is arrived[i] else replaced[i]

    def _run_hooks(self) -> list[Any]:
        """Run the hooks; the grad_input they leave. Resets for the next backward."""
        grad_input, grad_output = tuple(self.grad_input), tuple(self.grad_output)
        for hook in list(self.hooks.backward.values()):
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise ValueError(
                        f"a backward hook of {type(self.module).__name__} returned "
                        f"{len(result)} gradients for {len(grad_input)} inputs"
                    )
                grad_input = result
        self.grad_input = [None] * len(self.grad_input)
        self.grad_output = [None] * len(self.grad_output)
        self.inputs_waiting = list(self.differentiable_inputs)
        self.outputs_waiting = list(self.differentiable_outputs)
        return list(grad_input)


def _through_identities(
    values: tuple[Any, ...], arrived: Callable[[int, Any], Any]
) -> tuple[list[Any], list[int]]:
    """``values`` with each Tensor that requires grad passed through an identity op whose
    gradient goes to ``arrived(position, grad)``; and those positions."""
    wrapped = list(values)
    positions = []
    for k, value in enumerate(values):
        if isinstance(value, Tensor) and value.requires_grad:
            wrapped[k] = identity(value)
            wrapped[k].register_hook(partial(arrived, k))
            positions.append(k)
    return wrapped, positions
