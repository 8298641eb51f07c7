"""The user-facing functions (``gk.F.relu``, ``gk.F.softmax_cross_entropy``, ...).

Each accepts Tensors, ndarrays or lists and returns a Tensor; the math lives in
``graphkit.ops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphkit import ops
from graphkit.backend import xp
from graphkit.tensor import Tensor, as_tensor

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "broadcast_to",
    "cat",
    "col2im",
    "concatenate",
    "conv2d",
    "conv_transpose2d",
    "dropout",
    "einsum",
    "embedding",
    "exp",
    "expand_dims",
    "flatten",
    "flip",
    "im2col",
    "interpolate",
    "layer_norm",
    "linear",
    "log",
    "log_softmax",
    "mae",
    "max_pool2d",
    "mse",
    "pad",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "split",
    "squeeze",
    "stack",
    "step",
    "take_along_axis",
    "tanh",
    "tile",
    "unsqueeze",
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


# ----- shapes and einsum -------------------------------------------------------------------
def _as_tensors(op: str, xs: Any) -> list[Tensor]:
    """Each element of the sequence ``xs`` as a Tensor."""
    if isinstance(xs, (Tensor, xp.ndarray)):
        raise TypeError(f"{op}: takes a sequence of tensors (a list or a tuple), not one "
                        f"{type(xs).__name__}; wrap it as [x]")
    return [as_tensor(x) for x in xs]


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """``tensors`` joined along their axis ``axis``; they must agree on every other axis.
    Also called ``cat``."""
    return ops.concatenate(_as_tensors("concatenate", tensors), axis=axis)


cat = concatenate


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """``tensors``, all of one shape, joined along a new axis ``axis`` of the result."""
    return ops.stack(_as_tensors("stack", tensors), axis=axis)


def split(x: Any, sections_or_indices: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """NumPy's ``split``: an int k cuts axis ``axis`` into k equal parts (it must divide the
    length); a list of indices cuts before each of them (``[2, 5]``: ``:2``, ``2:5``, ``5:``)."""
    return ops.split(as_tensor(x), sections_or_indices, axis=axis)


def squeeze(x: Any, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """``x`` without its axes of length 1, or only those in ``axis`` (each must be 1)."""
    return ops.squeeze(as_tensor(x), axis=axis)


def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Tensor:
    """``x`` with a new axis of length 1 at position ``axis`` of the result (or at each of
    a tuple of positions). Also called ``unsqueeze``."""
    return ops.expand_dims(as_tensor(x), axis)


unsqueeze = expand_dims


def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """``x`` with axes ``start_axis`` to ``end_axis`` merged into one (all by default)."""
    return ops.flatten(as_tensor(x), start_axis=start_axis, end_axis=end_axis)


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """``x`` with ``value`` around it, as ``numpy.pad(x, pad_width, constant_values=value)``:
    ``pad_width`` is an int (every side of every axis), a ``(before, after)`` pair (every
    axis), or one pair per axis."""
    return ops.pad(as_tensor(x), pad_width, value=value)


def flip(x: Any, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """``x`` with the order of its elements reversed along ``axis`` (all axes by default)."""
    return ops.flip(as_tensor(x), axis=axis)


def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """``numpy.tile``: ``x`` repeated ``reps[k]`` times along axis k."""
    return ops.tile(as_tensor(x), reps)


def broadcast_to(x: Any, shape: int | Sequence[int]) -> Tensor:
    """``x`` repeated along new leading axes and its axes of length 1 to ``shape``; the
    gradient sums over the repeats."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return ops.broadcast_to(as_tensor(x), shape=shape)


def take_along_axis(x: Any, indices: Any, axis: int | None) -> Tensor:
    """``numpy.take_along_axis``: the elements of ``x`` at the integer ``indices`` (of x's
    rank, broadcast against it on the other axes) along ``axis``. A repeated index gets
    the sum of its gradients."""
    return ops.take_along_axis(as_tensor(x), indices, axis)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """``numpy.einsum``: explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) forms,
    ``...`` for broadcast axes, repeated letters for diagonals and traces
    (``"ii->i"``, ``"ii"``); differentiable in every operand."""
    return ops.einsum(subscripts, *(as_tensor(x) for x in operands))


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


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    pad: int | tuple[int, int] = 0,
) -> Tensor:
    """The mean over each window of x (B, C, H, W) -> (B, C, OH, OW).

    ``stride`` defaults to ``kernel_size``; padding is zeros and counts in the mean (as
    PyTorch's default, ``count_include_pad=True``), and may be at most half the kernel.
    """
    return ops.avg_pool2d(as_tensor(x), kernel_size, stride=stride, pad=pad)


def conv_transpose2d(
    x: Any,
    W: Any,
    b: Any = None,
    stride: int | tuple[int, int] = 1,
    pad: int | tuple[int, int] = 0,
) -> Tensor:
    """2-D transposed convolution (as PyTorch's conv_transpose2d), through col2im.

    x (B, C_in, H, W), W (C_in, C_out, KH, KW), b (C_out,) or None -> (B, C_out, OH, OW)
    with OH = (H - 1) * stride_h - 2*pad_h + KH (and likewise OW): the adjoint of
    ``conv2d`` in its input, each input pixel adding W, scaled by it, into the output.
    """
    b = None if b is None else as_tensor(b)
    return ops.conv_transpose2d(as_tensor(x), as_tensor(W), b, stride=stride, pad=pad)


def interpolate(
    x: Any, scale_factor: float | tuple[float, float], mode: str = "nearest"
) -> Tensor:
    """x (B, C, H, W) resized to (B, C, floor(H * scale), floor(W * scale)).

    ``mode`` is "nearest" or "bilinear" (PyTorch's ``align_corners=False``);
    ``scale_factor`` a positive number or an (h, w) pair, below 1 to shrink. Values and
    index rounding follow PyTorch's ``interpolate`` with a ``scale_factor``.
    """
    return ops.interpolate(as_tensor(x), scale_factor, mode=mode)


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


# ----- normalisation, embedding, attention -----------------------------------------------
def _optional(x: Any) -> Tensor | None:
    return None if x is None else as_tensor(x)


def batch_norm(
    x: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over axis 1 (the channels) of x (B, C), (B, C, L) or (B, C, H, W).

    In training, each channel is standardised with the batch's mean and biased variance,
    and ``running_mean``/``running_var`` (float ndarrays of shape (C,)) are updated in place:
    ``r = (1 - momentum) * r + momentum * s``, with the unbiased variance, as PyTorch. Outside
    training the running statistics standardise x. Then ``* weight + bias`` (each (C,)).
    """
    return ops.batch_norm(as_tensor(x), running_mean, running_var, _optional(weight),
                          _optional(bias), training=training, momentum=momentum, eps=eps)


def layer_norm(
    x: Any,
    normalized_shape: int | tuple[int, ...],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """Each sample of x (..., *normalized_shape) standardised over its last axes (mean and
    biased variance), then ``* weight + bias`` (each of ``normalized_shape``)."""
    return ops.layer_norm(as_tensor(x), normalized_shape, _optional(weight), _optional(bias),
                          eps=eps)


def embedding(indices: Any, W: Any) -> Tensor:
    """Rows of the table W (num, dim) at integer ``indices`` -> (*indices.shape, dim).

    An index outside [0, num) raises IndexError; a row picked several times gets the sum
    of their gradients.
    """
    return ops.embedding(indices, as_tensor(W))


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None) -> Tensor:
    """softmax(q kᵀ / sqrt(d)) v: q (..., L, d), k (..., S, d), v (..., S, dv) -> (..., L, dv).

    ``mask`` (bool, broadcastable to (..., L, S)) is True where a query may attend to a
    key; a query with no key allowed gets NaN, as in PyTorch.
    """
    return ops.scaled_dot_product_attention(as_tensor(q), as_tensor(k), as_tensor(v), mask)
