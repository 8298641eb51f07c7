"""The base of every gradient-based optimizer: the parameters, their state, ``zero_grad``.

An optimizer updates each parameter's ``.data`` in place, so models, views and other
optimizers that hold the same array see the new values, and float32 stays float32.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from graphkit.backend import ndarray, xp
from graphkit.tensor import Tensor
from graphkit.write_guard import refuse_if_saved


def _describe(index: int, param: Any) -> str:
    name = f" {param.name!r}" if isinstance(param, Tensor) and param.name else ""
    return f"parameter {index}{name}"


class Optimizer(ABC):
    """Holds the parameters to update and, per parameter, the state a step needs.

    Args:
        params: Tensors with ``requires_grad=True`` (a list, or a generator such as
            ``model.parameters()``); at least one.

    Attributes:
        params: the parameters, in the order given.
        state: one dict per parameter (momentum buffers, moments, step counts), filled
            lazily by ``step``; ``state_dict`` / ``load_state_dict`` save and restore it.
    """

    #: The constructor arguments ``state_dict`` saves beside the per-parameter state.
    hyperparameters: ClassVar[tuple[str, ...]] = ()
    #: L2 strength, added to every gradient by ``gradients()``; subclasses set their own.
    weight_decay: float = 0.0

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for i, param in enumerate(self.params):
            if not isinstance(param, Tensor):
                raise TypeError(f"{_describe(i, param)} is a {type(param).__name__}, not a Tensor")
            if not param.requires_grad:
                raise ValueError(
                    f"{_describe(i, param)} (shape {param.shape}) does not require grad, "
                    "so it can never be updated; create it with requires_grad=True"
                )
        if len(set(self.params)) != len(self.params):
            # A tensor listed twice (tied weights) would be updated twice per step.
            raise ValueError(f"{type(self).__name__} got the same parameter more than once")
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    @abstractmethod
    def step(self) -> None:
        """Update every parameter that has a ``.grad``, in place."""

    def gradients(self) -> Iterator[tuple[ndarray, dict[str, Any], Any]]:
        """``(array, state, gradient)`` for each parameter with a ``.grad``: the parameter's
        array, to update in place, and the gradient array plus ``weight_decay * param``
        (L2) when the optimizer has a weight decay.

        Before the first is handed out, every parameter is checked to be free to write
        into (no live graph saved it for backward): a step happens whole or not at all
        (``SavedArrayWriteError``). The caller's ``.grad`` array is never changed: with L2
        the sum is a new array.
        """
        refuse_if_saved(self.params)
        for param, state in zip(self.params, self.state):
            if param.grad is None:
                continue
            array = param._data
            gradient = param.grad._data
            if self.weight_decay:
                gradient = xp.multiply(array, self.weight_decay)
                gradient += param.grad._data
            yield array, state, gradient

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set ``.grad`` to None), as PyTorch does."""
        for param in self.params:
            param.grad = None

    def state_dict(self) -> dict[str, Any]:
        """A copy of what resuming needs: ``{"hyperparameters": {name: value},
        "state": {parameter index: {buffer name: array or step count}}}``."""
        return {
            "hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
            "state": {
                i: {key: _copy(value) for key, value in state.items()}
                for i, state in enumerate(self.state)
                if state
            },
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned, for an optimizer over parameters of the
        same shapes in the same order; buffers take each parameter's dtype."""
        hyperparameters = state_dict["hyperparameters"]
        unknown = set(hyperparameters) - set(self.hyperparameters)
        if unknown:
            raise ValueError(f"unknown hyperparameters for {type(self).__name__}: {unknown}")
        states: list[dict[str, Any]] = [{} for _ in self.params]
        for i, saved in state_dict["state"].items():
            if not 0 <= i < len(self.params):
                raise ValueError(f"state for parameter {i}, but there are {len(self.params)}")
            param = self.params[i]
            for key, value in saved.items():
                if isinstance(value, ndarray):
                    if value.shape != param.shape:
                        raise ValueError(
                            f"{key} of {_describe(i, param)} has shape {value.shape}, "
                            f"the parameter {param.shape}"
                        )
                    value = value.astype(param.dtype, copy=True)
                states[i][key] = value
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.state = states


def _copy(value: Any) -> Any:
    return xp.copy(value) if isinstance(value, ndarray) else value


def check_nonnegative(**values: float) -> None:
    """Raise ValueError naming the first hyperparameter that is negative (or NaN)."""
    for name, value in values.items():
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
