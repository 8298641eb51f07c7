"""Pictures of a training run: loss and accuracy curves, a confusion matrix, misclassified images.

matplotlib is imported only when a plot is drawn. Figures are drawn with the Agg
backend on their own canvas, never through pyplot, so plotting works without a
display and leaves the caller's pyplot state alone. Every file appears atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from graphkit.files import atomic_output
from graphkit.train.history import History

#: How each split's metrics are named in a History, and the label its curve gets.
_SPLITS = {"": "train", "val_": "validation", "test_": "test"}


def _new_figure(**figure_kwargs: Any) -> Any:
    """A matplotlib Figure attached to an Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            'plotting needs matplotlib: pip install "graphkit[data]" (or pip install matplotlib)'
        ) from error
    figure = Figure(**figure_kwargs)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, stem: Path, formats: Sequence[str]) -> list[Path]:
    """Write ``figure`` to ``stem.<format>`` for each format; return the paths."""
    paths = []
    for file_format in formats:
        path = stem.parent / f"{stem.name}.{file_format}"
        with atomic_output(path) as out:
            figure.savefig(out, format=file_format, dpi=120)
        paths.append(path)
    return paths


def plot_curves(
    history: History | Mapping[str, Sequence[float]],
    stem: str | os.PathLike[str],
    formats: Sequence[str] = ("svg", "png"),
) -> list[Path]:
    """Loss (left) and accuracy (right) per epoch, one line per split, on one figure.

    ``history`` is a History or its ``metrics`` dict: ``loss``/``accuracy`` for
    training and ``val_*``/``test_*`` for the evaluation splits, plus ``epoch``.
    Writes ``<stem>.svg`` and ``<stem>.png`` (or the given ``formats``).
    """
    metrics = history.metrics if isinstance(history, History) else history
    logged = max((len(values) for values in metrics.values()), default=0)
    epochs = metrics.get("epoch") or range(1, logged + 1)
    from matplotlib.ticker import MaxNLocator

    figure = _new_figure(figsize=(10, 4), layout="constrained")
    for axes, quantity in zip(figure.subplots(1, 2), ("loss", "accuracy")):
        for prefix, label in _SPLITS.items():
            values = metrics.get(prefix + quantity)
            if values:
                axes.plot(epochs, values, marker="o", markersize=3, label=label)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.set_ylabel(quantity)
        axes.set_title(quantity)
        axes.grid(alpha=0.3)
        if axes.get_lines():
            axes.legend()
    return _save(figure, Path(stem), formats)


def plot_grad_flow(
    grad_flow: History | Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    title: str = "gradient flow",
) -> Path:
    """Each layer's gradient norm over the training steps, one line per layer, on a log
    scale, as one PNG: ``history.grad_flow`` of ``fit(..., grad_flow=True)``, or a mapping
    layer -> norms. Vanishing gradients show as the first layers' lines far below."""
    series = grad_flow.grad_flow if isinstance(grad_flow, History) else grad_flow
    if not series:
        raise ValueError("no gradient norms to plot: train with fit(..., grad_flow=True)")
    figure = _new_figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.subplots()
    colours = _layer_colours(len(series))
    for (layer, norms), colour in zip(series.items(), colours):
        axes.plot(np.arange(1, len(norms) + 1), norms, label=layer, color=colour, linewidth=1)
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("gradient norm")
    axes.set_title(title)
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=7, ncols=max(1, len(series) // 12), loc="best")
    path = Path(path)
    with atomic_output(path) as out:
        figure.savefig(out, format="png", dpi=120)
    return path


def _layer_colours(count: int) -> list[Any]:
    """One colour per layer, from the first (dark) to the last (light)."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(count - 1, 1) * 0.9) for i in range(count)]


def plot_confusion(
    matrix: np.ndarray,
    stem: str | os.PathLike[str],
    class_names: Sequence[str] | None = None,
    formats: Sequence[str] = ("svg", "png"),
) -> list[Path]:
    """Draw a confusion matrix (C, C) of counts, rows the true class, columns the prediction.

    Each cell shows its count; the colour is the fraction of its row, so rare and
    common classes read alike. Writes ``<stem>.svg`` and ``<stem>.png``.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a confusion matrix is square (C, C), got shape {matrix.shape}")
    classes = len(matrix)
    names = list(class_names) if class_names is not None else [str(i) for i in range(classes)]
    if len(names) != classes:
        raise ValueError(f"{len(names)} class names for a {classes}-class confusion matrix")
    row_fractions = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    side = 2.5 + 0.55 * classes
    figure = _new_figure(figsize=(side + 1.5, side), layout="constrained")
    axes = figure.subplots()
    # A fixed aspect fights the constrained layout (it can push the y label off the
    # canvas); the figure's proportions keep the cells close to square instead.
    image = axes.imshow(row_fractions, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    figure.colorbar(image, ax=axes, label="fraction of the true class")
    for row in range(classes):
        for col in range(classes):
            dark = row_fractions[row, col] > 0.5
            axes.text(
                col, row, str(matrix[row, col]), ha="center", va="center",
                fontsize=8, color="white" if dark else "black",
            )  # fmt: skip
    axes.set_xticks(range(classes), names, rotation=45, ha="right")
    axes.set_yticks(range(classes), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    return _save(figure, Path(stem), formats)


def plot_misclassified(
    images: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    path: str | os.PathLike[str],
    class_names: Sequence[str] | None = None,
    max_images: int = 25,
) -> Path:
    """A grid of the first ``max_images`` images whose prediction is wrong, as one PNG.

    images: (N, C, H, W) with C of 1 or 3, (N, H, W), or (N, H*W) for square
    grayscale images; labels and predictions: class indices (N,). Each image is
    titled ``true -> predicted``. With no mistakes the figure says so.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    wrong = np.flatnonzero(labels != predictions)[:max_images]

    def name(index: int) -> str:
        return str(index) if class_names is None else class_names[index]

    columns = min(5, max(len(wrong), 1))
    rows = max(1, -(-len(wrong) // columns))
    figure = _new_figure(figsize=(2.0 * columns, 2.2 * rows), layout="constrained")
    if len(wrong) == 0:
        figure.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    for slot, index in enumerate(wrong):
        axes = figure.add_subplot(rows, columns, slot + 1)
        axes.imshow(_displayable(np.asarray(images[index])), cmap="gray")
        axes.set_title(f"{name(labels[index])} -> {name(predictions[index])}", fontsize=8)
        axes.axis("off")
    path = Path(path)
    with atomic_output(path) as out:
        figure.savefig(out, format="png", dpi=120)
    return path


def _displayable(image: np.ndarray) -> np.ndarray:
    """One image as imshow takes it: (H, W) for grayscale, (H, W, 3) for colour."""
    if image.ndim == 1:
        side = math.isqrt(image.size)
        return image.reshape(side, side)
    if image.ndim == 3:
        return image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)
    return image
