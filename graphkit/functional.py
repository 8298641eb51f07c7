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
    "col2im",
    "conv2d",
    "dropout",
    "exp",
    "im2col",
    "linear",
    "log",
    "log_softmax",
    "mae",
    "max_pool2d",
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
    """x @ W + b, with x (..., in), W (in, out), b (out,) or None -> (..., out)."""
    x, W = as_tensor(x), as_tensor(W)
    b = None if b is None else as_tensor(b)
    if W.ndim != 2 or x.ndim < 1 or x.shape[-1] != W.shape[0]:
        raise ValueError(f"linear: x {x.shape} must be (..., in) and W {W.shape} (in, out)")
    if b is not None and b.shape != W.shape[1:]:
        raise ValueError(f"linear: b {b.shape} must be ({W.shape[1]},), one bias per output")
    return ops.linear(x, W, b)


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
        # One example: a scalar target is its class, a (C,) target its distribution. Shape
        # it as a batch of one before _as_target, which reads 1-D targets as class indices.
        logits = logits.reshape(1, -1)
        target = target if isinstance(target, Tensor) else xp.asarray(target)
        target = _as_target(target.reshape(1, -1) if target.ndim == 1 else target.reshape(1))
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
        # One reduction checks both bounds: a negative label read as unsigned is huge.
        if target.size and xp.maximum.reduce(target.view(xp.uintp)) >= classes:
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
        as_int = target.astype(xp.intp, copy=False)
        if target.dtype.kind == "f" and not (as_int == target).all():
            raise ValueError("softmax_cross_entropy: class indices must be whole numbers")
        return as_int
    return target if target.dtype.kind == "f" else target.astype(xp.float64)


# ----- convolution, pooling, dropout ----------------------------------------------------
im2col = ops.im2col
col2im = ops.col2im


def conv2d(
    x: Any,
    W: Any,
    b: Any = None,
    stride: int | tuple[int, int] = 1,
    pad: int | tuple[int, int] = 0,
) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch's), computed through im2col.

    x (B, C, H, W), W (OC, C, KH, KW), b (OC,) or None -> (B, OC, OH, OW) with
    OH = (H + 2*pad_h - KH) // stride_h + 1 (and likewise OW). ``stride`` and ``pad``
    (zeros) are an int or an (h, w) pair.
    """
    b = None if b is None else as_tensor(b)
    return ops.conv2d(as_tensor(x), as_tensor(W), b, stride=stride, pad=pad)


def max_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    pad: int | tuple[int, int] = 0,
) -> Tensor:
    """The maximum over each window of x (B, C, H, W) -> (B, C, OH, OW).

    ``stride`` defaults to ``kernel_size``; padding counts as -inf, so it never wins, and
    may be at most half the kernel. The gradient goes to each window's (first) arg-max.
    """
    return ops.max_pool2d(as_tensor(x), kernel_size, stride=stride, pad=pad)


def dropout(
    x: Any, p: float = 0.5, training: bool = True, generator: xp.random.Generator | None = None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    The identity when not ``training`` or when ``p`` is 0. The mask comes from NumPy's
    global RNG (``np.random.seed`` repeats it) unless a ``generator`` is given.
    """
    x = as_tensor(x)
    if not training or p == 0:
        return x
    return ops.dropout(x, p=p, generator=generator)
