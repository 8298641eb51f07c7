"""Gradient flow: each layer's gradient norm at every training step, recorded through hooks.

``GradFlow`` registers a hook on every parameter of the model; in each backward pass the
hooks add up the squared norms of the gradients of each layer (a module that holds
parameters of its own, named by its dotted path), and after each optimizer step the
layer's norm joins its series. ``fit(..., grad_flow=True)`` uses one and keeps the series
in ``History.grad_flow``; ``plots.plot_grad_flow`` draws them. A vanishing gradient shows
as the first layers' lines lying decades below the last ones'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.train.callbacks import Callback

if TYPE_CHECKING:
    from graphkit.hooks import RemovableHandle
    from graphkit.nn import Module


class GradFlow(Callback):
    """Records, per step, the gradient norm of every layer that has parameters.

    Attributes:
        norms: layer name -> one norm per optimizer step (NaN for a step in which the
            layer got no gradient), in the order of ``model.named_modules()``.
    """

    def __init__(self) -> None:
        self.norms: dict[str, list[float]] = {}
        self._squares: dict[str, float] = {}
        self._handles: list[RemovableHandle] = []

    def on_train_begin(self, model: Module) -> None:
        for path, module in model.named_modules():
            params = list(module._parameters.values())
            if not params:
                continue
            layer = path or type(model).__name__
            self.norms.setdefault(layer, [])
            for param in params:
                self._handles.append(param.register_hook(self._adder(layer)))

    def _adder(self, layer: str) -> Any:
        def add(grad: Any) -> None:
            g = np.asarray(grad.data, dtype=np.float64)
            self._squares[layer] = self._squares.get(layer, 0.0) + float(np.vdot(g, g))

        return add

    def on_batch_end(self, batch: int, metrics: Mapping[str, float]) -> None:
        for layer, series in self.norms.items():
            square = self._squares.get(layer)
            series.append(math.nan if square is None else math.sqrt(square))
        self._squares.clear()

    def on_train_end(self, model: Module) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
