"""Showing an epoch's progress: a tqdm bar over its batches, or one plain line at its end."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

# Bookkeeping entries of an epoch's metrics that the display leaves out.
_NOT_SHOWN = ("epoch", "seconds")


def format_metrics(metrics: Mapping[str, float]) -> str:
    """``"loss 0.1234, accuracy 0.9650"``: every metric to four decimals."""
    return ", ".join(
        f"{name} {value:.4f}" for name, value in metrics.items() if name not in _NOT_SHOWN
    )


class EpochProgress:
    """The display of one epoch of ``batches`` batches.

    With ``bar`` and tqdm installed, a bar on stderr that shows the running training
    metrics and, when the epoch closes, its evaluation metrics too. Otherwise one
    line on stdout per epoch: ``epoch 3/20: loss 0.1234, accuracy 0.9650, ... (1.2s)``.
    """

    def __init__(self, epoch: int, epochs: int, batches: int, bar: bool = True) -> None:
        self.title = f"epoch {epoch}/{epochs}"
        self._bar = _tqdm_bar(self.title, batches) if bar else None

    def update(self, running_metrics: Mapping[str, float]) -> None:
        """One more batch is done; ``running_metrics`` are the epoch's means so far."""
        if self._bar is not None:
            self._bar.set_postfix_str(format_metrics(running_metrics), refresh=False)
            self._bar.update(1)

    def close(self, epoch_metrics: Mapping[str, float]) -> None:
        """The epoch is over: show its final metrics."""
        if self._bar is not None:
            self._bar.set_postfix_str(format_metrics(epoch_metrics), refresh=False)
            self._bar.close()
            return
        seconds = epoch_metrics.get("seconds")
        timing = f" ({seconds:.1f}s)" if seconds is not None else ""
        print(f"{self.title}: {format_metrics(epoch_metrics)}{timing}", flush=True)

    def abandon(self) -> None:
        """The epoch was cut short: take the bar down without a summary."""
        if self._bar is not None:
            self._bar.close()


def _tqdm_bar(title: str, batches: int) -> Any:
    """A tqdm bar, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=batches, desc=title, unit="batch", leave=True, file=sys.stderr)
