"""Hooks into ``fit``: the ``Callback`` base class and ``EarlyStopping``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from graphkit.nn import Module


class Callback:
    """Does nothing at each point of ``fit``; subclasses override the hooks they need.

    ``fit`` calls ``on_train_begin`` once, ``on_batch_end`` after every optimizer
    step, ``on_epoch_end`` after each epoch's evaluation, and ``on_train_end`` once
    at the end, also when training stopped early or was interrupted with Ctrl-C.
    """

    def on_train_begin(self, model: Module) -> None:
        """Training of ``model`` is about to start."""

    def on_batch_end(self, batch: int, metrics: Mapping[str, float]) -> None:
        """Batch number ``batch`` (from 0 in each epoch) was trained; ``metrics`` are its own."""

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        """Epoch ``epoch`` (from 1) ended with ``metrics``; return True to stop training."""
        return False

    def on_train_end(self, model: Module) -> None:
        """Training of ``model`` ended, for whatever reason."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; keep the best weights.

    Args:
        monitor: the metric to watch, as ``fit`` names it (``"val_loss"``,
            ``"val_accuracy"``, ...); it must be logged every epoch.
        mode: ``"min"`` when lower is better (losses), ``"max"`` when higher is
            better (accuracies). Equal values are no improvement; NaN never is.
        patience: how many epochs in a row without improvement end training.
        restore_best: keep a copy of the weights of the best epoch and load them
            back into the model when training ends (stopped, finished or interrupted).

    Its state (best value and epoch, epochs waited, best weights) survives between
    ``fit`` calls and round-trips through ``state_dict`` / ``load_state_dict``, so a
    run can be resumed where it stopped.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "min",
        patience: int = 5,
        restore_best: bool = True,
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f'mode must be "min" or "max", got {mode!r}')
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.epochs_without_improvement = 0
        self.best_weights: dict[str, np.ndarray] | None = None
        self._model: Module | None = None

    def on_train_begin(self, model: Module) -> None:
        self._model = model

    def on_epoch_end(self, epoch: int, metrics: Mapping[str, float]) -> bool:
        if self.monitor not in metrics:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, but fit logged only "
                f"{sorted(metrics)}; give fit a val_loader to get val_* metrics"
            )
        value = float(metrics[self.monitor])
        if self._improves(value):
            self.best, self.best_epoch = value, epoch
            self.epochs_without_improvement = 0
            if self.restore_best and self._model is not None:
                # A copy: the optimizer updates the parameter arrays in place.
                self.best_weights = _copy_weights(self._model.state_dict())
        else:
            self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience

    def on_train_end(self, model: Module) -> None:
        if self.restore_best and self.best_weights is not None:
            model.load_state_dict(self.best_weights)

    def _improves(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def state_dict(self) -> dict[str, Any]:
        """What resuming needs: best value and epoch, epochs waited, a copy of the best weights."""
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "epochs_without_improvement": self.epochs_without_improvement,
            "best_weights": _copy_weights(self.best_weights),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.epochs_without_improvement = state["epochs_without_improvement"]
        self.best_weights = _copy_weights(state["best_weights"])

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, "
            f"patience={self.patience}, best={self.best}, best_epoch={self.best_epoch})"
        )


def _copy_weights(weights: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
    if weights is None:
        return None
    return {name: np.array(array, copy=True) for name, array in weights.items()}
