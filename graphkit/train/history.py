"""The record of a training run: one value per epoch for every metric ``fit`` logs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from graphkit.files import atomic_output


class History:
    """Per-epoch metrics of a training run, as lists keyed by metric name.

    ``history["loss"][i]`` is the training loss of the (i+1)-th logged epoch. ``fit``
    logs ``epoch``, ``loss``, ``accuracy`` and ``seconds``, and ``<split>_loss``,
    ``<split>_accuracy`` for every evaluation split (``val_loss``, ``test_accuracy``, ...).
    Only finished epochs are logged, so every list has ``len(history)`` entries.

    Attributes:
        metrics: metric name -> one float per epoch.
        stop_reason: why training ended before its last epoch: ``"early stopping"``,
            ``"interrupted"`` (Ctrl-C), or None when it ran every epoch.
        grad_flow: layer name -> its gradient norm at every step, when ``fit`` recorded
            them (``grad_flow=True``); empty otherwise.
    """

    def __init__(
        self,
        metrics: Mapping[str, Sequence[float]] | None = None,
        stop_reason: str | None = None,
        grad_flow: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.metrics: dict[str, list[float]] = {
            name: [_number(value) for value in values] for name, values in (metrics or {}).items()
        }
        self.stop_reason = stop_reason
        self.grad_flow: dict[str, list[float]] = {
            name: [float(v) for v in values] for name, values in (grad_flow or {}).items()
        }

    def log(self, epoch_metrics: Mapping[str, float]) -> None:
        """Append one epoch's values; every epoch must log the same metrics."""
        if self.metrics and set(epoch_metrics) != set(self.metrics):
            raise ValueError(
                f"epoch logs {sorted(epoch_metrics)}, earlier epochs logged {sorted(self.metrics)}"
            )
        for name, value in epoch_metrics.items():
            self.metrics.setdefault(name, []).append(_number(value))

    def __len__(self) -> int:
        """The number of epochs logged."""
        return len(next(iter(self.metrics.values()), []))

    def __getitem__(self, name: str) -> list[float]:
        return self.metrics[name]

    def __contains__(self, name: object) -> bool:
        return name in self.metrics

    def __iter__(self) -> Iterator[str]:
        return iter(self.metrics)

    def last(self) -> dict[str, float]:
        """The latest epoch's metrics, name -> value."""
        return {name: values[-1] for name, values in self.metrics.items()}

    def to_dict(self) -> dict:
        """``{"metrics": {name: [values]}, "stop_reason": str | None}``, ready for JSON, and
        ``"grad_flow": {layer: [norm per step]}`` when it was recorded."""
        saved: dict = {
            "metrics": {name: list(values) for name, values in self.metrics.items()},
            "stop_reason": self.stop_reason,
        }
        if self.grad_flow:
            saved["grad_flow"] = {name: list(values) for name, values in self.grad_flow.items()}
        return saved

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``to_dict()`` as JSON; the file appears atomically, never half-written."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=True) + "\n"
        with atomic_output(Path(path)) as out:
            out.write(text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        """Read a file written by ``save``."""
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(saved["metrics"], saved["stop_reason"], saved.get("grad_flow"))

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, metrics={list(self.metrics)})"


def _number(value: float) -> float:
    """A plain Python int or float (epoch numbers stay ints), whatever NumPy scalar came in."""
    return int(value) if isinstance(value, (int, np.integer)) else float(value)
