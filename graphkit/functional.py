"""The user-facing functions (``gk.F.relu``, ``gk.F.softmax_cross_entropy``, ...).

Each accepts Tensors, ndarrays or lists and returns a Tensor; the math lives in
``graphkit.ops``.
"""

from __future__ import annotations

from typing import Any

from graphkit import ops
from graphkit.backend import xp
from graphkit.tensor import Tensor, as_tensor

__all__ = [
    "exp",
    "linear",
    "log",
    "log_softmax",
    "mae",
    "mse",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "step",
    "tanh",
]


def relu(x: Any) -> Tensor:
    """max(x, 0) elementwise; the derivative at 0 is 0."""
    return ops.relu(as_tensor(x))


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + exp(-x)) elementwise, stable for large |x|."""
    return ops.sigmoid(as_tensor(x))


def tanh(x: Any) -> Tensor:
    return ops.tanh(as_tensor(x))


def step(x: Any) -> Tensor:
    """The M-P neuron's activation: 1 where x > 0, else 0 (zero gradient)."""
    return ops.step(as_tensor(x))


def exp(x: Any) -> Tensor:
    return ops.exp(as_tensor(x))


def log(x: Any) -> Tensor:
    return ops.log(as_tensor(x))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    return ops.softmax(as_tensor(x), axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably."""
    return ops.log_softmax(as_tensor(x), axis=axis)


def linear(x: Any, W: Any, b: Any = None) -> Tensor:
    """x @ W + b, with x (..., in), W (in, out), b (out,)."""
    y = as_tensor(x) @ W
    return y if b is None else y + b


def _same_shape(op: str, y: Tensor, t: Tensor) -> None:
    if y.shape != t.shape:
        raise ValueError(f"{op}: prediction shape {y.shape} != target shape {t.shape}")


def mse(y: Any, t: Any) -> Tensor:
    """Mean squared error over all elements: mean((y - t)**2)."""
    y, t = as_tensor(y), as_tensor(t)
    _same_shape("mse", y, t)
    return ops.mse(y, t)


def mae(y: Any, t: Any) -> Tensor:
    """Mean absolute error over all elements: mean(|y - t|)."""
    y, t = as_tensor(y), as_tensor(t)
    _same_shape("mae", y, t)
    return ops.mae(y, t)


def softmax_cross_entropy(logits: Any, target: Any) -> Tensor:
    """Cross-entropy of softmax(logits), averaged over the batch.

    Args:
        logits: (B, C) scores, or (C,) for one example.
        target: class indices of shape (B,) (or a scalar for (C,) logits), or a
            distribution over classes of shape (B, C), such as one-hot labels.
    """
    logits = as_tensor(logits)
    if logits.ndim == 1:
        logits = logits.reshape(1, -1)
        target = _as_target(target)
        target = target.reshape(1, -1) if target.ndim == 1 else target.reshape(1)
    elif logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be (B, C), got shape {logits.shape}")
    else:
        target = _as_target(target)
    batch, classes = logits.shape
    if target.ndim == 1:
        if target.shape[0] != batch:
            raise ValueError(
                f"softmax_cross_entropy: {target.shape[0]} labels for a batch of {batch} logits"
            )
        if target.size and (target.min() < 0 or target.max() >= classes):
            raise ValueError(
                f"softmax_cross_entropy: labels must lie in [0, {classes}), "
                f"got values from {target.min()} to {target.max()}"
            )
    elif target.shape != logits.shape:
        raise ValueError(
            f"softmax_cross_entropy: target shape {target.shape} fits neither the class "
            f"indices ({batch},) nor the one-hot ({batch}, {classes}) of logits {logits.shape}"
        )
    if isinstance(target, xp.ndarray) and target.ndim == 2:
        target = target.astype(logits.dtype, copy=False)
    return ops.softmax_cross_entropy(logits, target)


def _as_target(target: Any) -> Any:
    """Class indices become an integer array; a distribution stays a (float) Tensor."""
    if isinstance(target, Tensor):
        if target.ndim == 2 and target.requires_grad:
            return target
        target = target.data
    target = xp.asarray(target)
    if target.ndim <= 1:
        as_int = target.astype(xp.intp)
        if target.dtype.kind == "f" and not (as_int == target).all():
            raise ValueError("softmax_cross_entropy: class indices must be whole numbers")
        return as_int
    return target if target.dtype.kind == "f" else target.astype(xp.float64)
