"""Evaluation metrics on NumPy arrays (graphkit Tensors work too, through ``__array__``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def accuracy(scores: ArrayLike, labels: ArrayLike) -> float:
    """The fraction of rows whose highest score is at the true class.

    scores: (B, C) with B >= 1; labels: class indices (B,) or one-hot rows (B, C).
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (B, C), got {scores.shape}")
    if len(scores) == 0:
        raise ValueError("accuracy of an empty batch is undefined")
    truth = _class_indices(labels, scores.shape)
    return float(np.mean(scores.argmax(axis=1) == truth))


def mae(y: ArrayLike, t: ArrayLike) -> float:
    """Mean absolute error ``mean(|y - t|)`` over all elements; y and t of the same shape."""
    y, t = _same_shape(y, t)
    return float(np.mean(np.abs(y - t)))


def rmse(y: ArrayLike, t: ArrayLike) -> float:
    """Root mean square error ``sqrt(mean((y - t)**2))``; y and t of the same shape."""
    y, t = _same_shape(y, t)
    return float(np.sqrt(np.mean((y - t) ** 2)))


def confusion_matrix(
    pred_or_scores: ArrayLike, labels: ArrayLike, num_classes: int | None = None
) -> np.ndarray:
    """Count (true class, predicted class) pairs into an int64 array of shape (C, C).

    Row i, column j counts the examples of true class i predicted as j.
    pred_or_scores: predicted indices (B,) or scores (B, C), reduced by argmax;
    labels: indices (B,) or one-hot (B, C). ``num_classes`` defaults to the width
    of the scores or one-hot labels, else to one more than the largest class seen.
    """
    predictions = np.asarray(pred_or_scores)
    if predictions.ndim not in (1, 2):
        raise ValueError(f"pred_or_scores must have shape (B,) or (B, C), got {predictions.shape}")
    labels = np.asarray(labels)
    truth = _class_indices(labels, predictions.shape)
    if num_classes is None:
        widths = [array.shape[1] for array in (predictions, labels) if array.ndim == 2]
        if widths:
            num_classes = widths[0]
        else:
            num_classes = int(max(predictions.max(initial=-1), truth.max(initial=-1))) + 1
    if predictions.ndim == 2:
        predictions = predictions.argmax(axis=1)
    for name, classes in (("prediction", predictions), ("label", truth)):
        outside = (classes < 0) | (classes >= num_classes)
        if np.any(outside):
            raise ValueError(
                f"{name} {classes[outside][0]} is out of range for num_classes={num_classes}"
            )
    pairs = truth.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def _class_indices(labels: ArrayLike, prediction_shape: tuple[int, ...]) -> np.ndarray:
    """Labels as class indices (B,), from indices (B,) or one-hot rows (B, C).

    One-hot labels must match (B, C) scores exactly; index labels need B rows.
    """
    labels = np.asarray(labels)
    batch = prediction_shape[0]
    if labels.ndim == 2 and (labels.shape == prediction_shape or len(prediction_shape) == 1):
        matches = len(labels) == batch
    else:
        matches = labels.shape == (batch,)
    if not matches:
        raise ValueError(
            f"labels of shape {labels.shape} do not match predictions of shape {prediction_shape}"
        )
    return labels.argmax(axis=1) if labels.ndim == 2 else labels


def _same_shape(y: ArrayLike, t: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64)
    if y.shape != t.shape:
        raise ValueError(f"y of shape {y.shape} and t of shape {t.shape} must have the same shape")
    if y.size == 0:
        raise ValueError("mae/rmse of empty arrays is undefined")
    return y, t
