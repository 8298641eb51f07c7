"""The training loop: ``fit`` a model epoch by epoch; ``evaluate`` and ``predict`` in eval mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from graphkit import metrics as _metrics
from graphkit.graph import no_grad
from graphkit.tensor import Tensor
from graphkit.train.callbacks import Callback
from graphkit.train.grad_flow import GradFlow
from graphkit.train.history import History
from graphkit.train.progress import EpochProgress

if TYPE_CHECKING:
    from graphkit.nn import Module
    from graphkit.optim import Optimizer

#: ``loss_fn(scores, targets)``: scores (B, C) as a Tensor, targets as the loader yields them.
LossFn = Callable[[Tensor, np.ndarray], Tensor]
#: ``metric(scores, targets)`` on arrays: scores (B, C), targets as the loader yields them.
Metric = Callable[[np.ndarray, np.ndarray], float]


class Loader(Protocol):
    """A source of mini-batches such as ``gk.data.DataLoader``."""

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(x_batch, t_batch)`` pairs, one epoch."""

    def __len__(self) -> int:
        """The number of batches in one epoch."""


DEFAULT_METRICS: Mapping[str, Metric] = {"accuracy": _metrics.accuracy}


def fit(
    model: Module,
    loss_fn: LossFn,
    optimizer: Optimizer,
    train_loader: Loader,
    val_loader: Loader | Mapping[str, Loader] | None = None,
    epochs: int = 1,
    callbacks: Sequence[Callback] = (),
    progress: bool = True,
    metrics: Mapping[str, Metric] = DEFAULT_METRICS,
    history: History | None = None,
    grad_flow: bool = False,
) -> History:
    """Train ``model`` on ``train_loader`` until ``epochs`` epochs are logged.

    Each epoch trains in training mode on every batch (forward, ``loss_fn``,
    ``backward``, ``optimizer.step()``), then evaluates every evaluation split in
    eval mode under ``no_grad``. ``val_loader`` is one loader, logged as ``val_*``,
    or a mapping split name -> loader (``{"val": ..., "test": ...}`` logs
    ``val_loss``, ``test_accuracy``, ...). Training metrics (``loss`` and each of
    ``metrics``) are means over the epoch's batches, weighted by batch size.

    Training stops early when a callback's ``on_epoch_end`` returns True. Ctrl-C
    (KeyboardInterrupt) stops it too, cleanly: the unfinished epoch is dropped,
    callbacks still get ``on_train_end`` (so ``EarlyStopping`` restores the best
    weights) and the history so far is returned, with ``stop_reason`` saying why.

    Args:
        history: the history of an earlier run of the same model to continue;
            epoch numbers go on from it and ``epochs`` counts its epochs too.
        progress: a tqdm bar per epoch when True and tqdm is installed, else a
            plain line per epoch.
        grad_flow: record each layer's gradient norm at every step, through hooks on
            the parameters, into ``history.grad_flow`` (``train.GradFlow``); steps of an
            interrupted epoch are kept.

    Returns:
        The History, with one entry per finished epoch in every metric.
    """
    if len(train_loader) == 0:
        raise ValueError("train_loader yields no batches")
    evaluation_loaders = _named_loaders(val_loader)
    history = History() if history is None else history
    flow = GradFlow() if grad_flow else None
    if flow is not None:
        callbacks = [*callbacks, flow]
    for callback in callbacks:
        callback.on_train_begin(model)
    try:
        for epoch in range(len(history) + 1, epochs + 1):
            started = time.perf_counter()
            display = EpochProgress(epoch, epochs, len(train_loader), bar=progress)
            try:
                epoch_metrics = {
                    "epoch": epoch,
                    **train_epoch(
                        model, loss_fn, optimizer, train_loader, metrics, display, callbacks
                    ),
                }
                for split, loader in evaluation_loaders.items():
                    split_metrics = evaluate(model, loss_fn, loader, metrics)
                    epoch_metrics.update({f"{split}_{k}": v for k, v in split_metrics.items()})
            except BaseException:
                display.abandon()
                raise
            epoch_metrics["seconds"] = time.perf_counter() - started
            display.close(epoch_metrics)
            history.log(epoch_metrics)
            # Every callback sees every epoch, even after one of them asked to stop.
            stop_requests = [callback.on_epoch_end(epoch, epoch_metrics) for callback in callbacks]
            if any(stop_requests):
                history.stop_reason = "early stopping"
                break
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
    finally:
        for callback in callbacks:
            callback.on_train_end(model)
        if flow is not None:
            for layer, norms in flow.norms.items():
                history.grad_flow.setdefault(layer, []).extend(norms)
    return history


def train_epoch(
    model: Module,
    loss_fn: LossFn,
    optimizer: Optimizer,
    loader: Loader,
    metrics: Mapping[str, Metric] = DEFAULT_METRICS,
    display: EpochProgress | None = None,
    callbacks: Sequence[Callback] = (),
) -> dict[str, float]:
    """One pass over ``loader`` in training mode, one optimizer step per batch.

    Returns ``loss`` and each of ``metrics`` averaged over the batches, weighted by size.
    """
    model.train()
    means = _WeightedMeans()
    for batch, (x, t) in enumerate(loader):
        scores = model(Tensor(x))
        loss = loss_fn(scores, t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_metrics = {"loss": loss.item(), **_measure(metrics, scores.data, t)}
        means.add(batch_metrics, len(x))
        if display is not None:
            display.update(means.result())
        for callback in callbacks:
            callback.on_batch_end(batch, batch_metrics)
    return means.result()


def evaluate(
    model: Module,
    loss_fn: LossFn,
    loader: Loader,
    metrics: Mapping[str, Metric] = DEFAULT_METRICS,
) -> dict[str, float]:
    """``loss`` and each of ``metrics`` over all of ``loader``, in eval mode under ``no_grad``.

    The model's mode is restored afterwards.
    """
    scores, targets = [], []
    with _eval_mode(model), no_grad():
        for x, t in loader:
            scores.append(model(Tensor(x)).data)
            targets.append(np.asarray(t))
        all_scores, all_targets = np.concatenate(scores), np.concatenate(targets)
        loss = loss_fn(Tensor(all_scores), all_targets).item()
    return {"loss": loss, **_measure(metrics, all_scores, all_targets)}


def predict(model: Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for ``x`` (N, ...) as one array (N, ...), in eval mode under
    ``no_grad``, ``batch_size`` examples at a time; the model's mode is restored afterwards."""
    with _eval_mode(model), no_grad():
        outputs = [
            model(Tensor(x[start : start + batch_size])).data
            for start in range(0, len(x), batch_size)
        ]
    return np.concatenate(outputs)


class _eval_mode:
    """Puts a module in eval mode for a ``with`` block, then back in the mode it was in."""

    def __init__(self, model: Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.was_training = self.model.training
        self.model.eval()

    def __exit__(self, *exc: object) -> None:
        if self.was_training:
            self.model.train()


class _WeightedMeans:
    """Running means of named values, each added with a weight (the batch size)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.weight = 0

    def add(self, values: Mapping[str, float], weight: int) -> None:
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * weight
        self.weight += weight

    def result(self) -> dict[str, float]:
        return {name: total / self.weight for name, total in self.sums.items()}


def _measure(metrics: Mapping[str, Metric], scores: np.ndarray, targets: np.ndarray) -> dict:
    return {name: float(metric(scores, targets)) for name, metric in metrics.items()}


def _named_loaders(val_loader: Loader | Mapping[str, Loader] | None) -> dict[str, Loader]:
    if val_loader is None:
        return {}
    if isinstance(val_loader, Mapping):
        return dict(val_loader)
    return {"val": val_loader}
