"""The user-facing functions (``gk.F.relu``, ``gk.F.softmax_cross_entropy``, ...).

Each accepts Tensors, ndarrays or lists and returns a Tensor; the math lives in
``graphkit.ops``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphkit import forward, ops
from graphkit.backend import xp
from graphkit.data.loader import one_hot as encode_one_hot
from graphkit.tensor import Tensor, as_tensor

__all__ = [
    "argmax",
    "argmin",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "broadcast_to",
    "cat",
    "clip",
    "col2im",
    "concatenate",
    "conv2d",
    "conv_transpose2d",
    "cos",
    "cross_entropy",
    "cumsum",
    "dropout",
    "einsum",
    "elu",
    "embedding",
    "erf",
    "exp",
    "expand_dims",
    "expm1",
    "flatten",
    "flip",
    "gelu",
    "huber_loss",
    "im2col",
    "interpolate",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "mae",
    "max",
    "max_pool2d",
    "maximum",
    "min",
    "minimum",
    "mse",
    "nll_loss",
    "one_hot",
    "pad",
    "prod",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "split",
    "square",
    "squeeze",
    "stack",
    "std",
    "step",
    "take_along_axis",
    "tanh",
    "tile",
    "unsqueeze",
    "var",
    "where",
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


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x; the derivative at 0 is negative_slope."""
    return ops.leaky_relu(as_tensor(x), negative_slope=negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1); the derivative at 0 is alpha."""
    return ops.elu(as_tensor(x), alpha=alpha)


def gelu(x: Any) -> Tensor:
    """x Φ(x) with Φ the standard normal CDF, 0.5 (1 + erf(x / √2)): the exact form."""
    return ops.gelu(as_tensor(x))


def silu(x: Any) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return ops.silu(as_tensor(x))


def softplus(x: Any) -> Tensor:
    """log(1 + exp(x)), without overflow for large x; its derivative is sigmoid(x)."""
    return ops.softplus(as_tensor(x))


def sin(x: Any) -> Tensor:
    return ops.sin(as_tensor(x))


def cos(x: Any) -> Tensor:
    return ops.cos(as_tensor(x))


def log1p(x: Any) -> Tensor:
    """log(1 + x), accurate for small x."""
    return ops.log1p(as_tensor(x))


def expm1(x: Any) -> Tensor:
    """exp(x) - 1, accurate for small x."""
    return ops.expm1(as_tensor(x))


def square(x: Any) -> Tensor:
    return ops.square(as_tensor(x))


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each element; the gradient is 0."""
    return ops.sign(as_tensor(x))


def erf(x: Any) -> Tensor:
    """The error function, elementwise, to double precision."""
    return ops.erf(as_tensor(x))


def clip(x: Any, min: float | None = None, max: float | None = None) -> Tensor:
    """x limited to [min, max] (a bound may be None), as ``torch.clamp``: the gradient is 1
    where min <= x <= max, bounds included, 0 outside; where min > max, every element is max."""
    return ops.clip(as_tensor(x), min=min, max=max)


# ----- reductions -----------------------------------------------------------------------
# min and max shadow the builtins in this module, as PyTorch's names; use builtins.min here.


def max(
    x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """The largest element (along ``axis``); tied maxima share the gradient equally."""
    return ops.max(as_tensor(x), axis=axis, keepdims=keepdims)


def min(
    x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """The smallest element (along ``axis``); tied minima share the gradient equally."""
    return ops.min(as_tensor(x), axis=axis, keepdims=keepdims)


def prod(
    x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """The product of the elements (along ``axis``); its gradient is exact where x has zeros."""
    return ops.prod(as_tensor(x), axis=axis, keepdims=keepdims)


def var(
    x: Any, axis: int | tuple[int, ...] | None = None, ddof: int = 0, keepdims: bool = False
) -> Tensor:
    """The variance, sum((x - mean)**2) / (N - ddof) over N elements (NumPy's ``ddof``)."""
    return ops.var(as_tensor(x), axis=axis, ddof=ddof, keepdims=keepdims)


def std(
    x: Any, axis: int | tuple[int, ...] | None = None, ddof: int = 0, keepdims: bool = False
) -> Tensor:
    """The standard deviation, sqrt(var(x, axis, ddof)); its gradient is 0 where it is 0."""
    return ops.std(as_tensor(x), axis=axis, ddof=ddof, keepdims=keepdims)


def logsumexp(
    x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """log(sum(exp(x))) (along ``axis``), stable for large values; its gradient is softmax."""
    return ops.logsumexp(as_tensor(x), axis=axis, keepdims=keepdims)


def cumsum(x: Any, axis: int) -> Tensor:
    """Running sums along ``axis``: element i is the sum of elements 0..i."""
    return ops.cumsum(as_tensor(x), axis=axis)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """The index of the first largest element (along ``axis``, else of the flattened x), as
    an integer array: it is not differentiable, and not a Tensor."""
    return ops.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """The index of the first smallest element, as ``argmax``."""
    return ops.argmin(x, axis=axis, keepdims=keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    return ops.softmax(as_tensor(x), axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed stably."""
    return ops.log_softmax(as_tensor(x), axis=axis)


def maximum(a: Any, b: Any) -> Tensor:
    """The elementwise larger of a and b (broadcast); at a tie each gets half the gradient."""
    return ops.maximum(*_operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """The elementwise smaller of a and b (broadcast); at a tie each gets half the gradient."""
    return ops.minimum(*_operands(a, b))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where ``condition`` holds, else b, broadcast together as ``numpy.where``.

    ``condition`` is a bool array or a bool Tensor (``x > 0``); the gradient of each
    element goes to the operand it was taken from.
    """
    mask = xp.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if mask.dtype != bool:
        raise TypeError(
            f"where: condition must be a bool array or a bool Tensor (such as x > 0), got "
            f"dtype {mask.dtype}; compare it to make one, e.g. condition != 0"
        )
    return ops.where(mask, *_operands(a, b))


def _operands(a: Any, b: Any) -> tuple[Any, Any]:
    """Tensors and Python numbers as they are (a number keeps the other's float32), the
    rest as Tensors; at least one of the two a Tensor, so that the result is one."""
    a, b = (x if isinstance(x, (Tensor, int, float)) else as_tensor(x) for x in (a, b))
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    return a, b


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
        _check_labels("softmax_cross_entropy", target, batch, classes)
    elif target.shape != logits.shape:
        raise ValueError(
            f"softmax_cross_entropy: target shape {target.shape} fits neither the class "
            f"indices ({batch},) nor the one-hot ({batch}, {classes}) of logits {logits.shape}"
        )
    if isinstance(target, xp.ndarray) and target.ndim == 2:
        target = target.astype(logits.dtype, copy=False)
    return ops.softmax_cross_entropy(logits, target)


cross_entropy = softmax_cross_entropy


def nll_loss(log_probs: Any, target: Any) -> Tensor:
    """The negative log-likelihood -log_probs[i, target[i]], averaged over the batch.

    Args:
        log_probs: (B, C) log-probabilities, such as ``log_softmax(logits)``; or (C,) for
            one example.
        target: class indices of shape (B,) (a scalar for (C,) log_probs).
    """
    log_probs = as_tensor(log_probs)
    if log_probs.ndim == 1:
        log_probs = log_probs.reshape(1, -1)
        target = xp.reshape(target.data if isinstance(target, Tensor) else target, 1)
    elif log_probs.ndim != 2:
        raise ValueError(f"nll_loss: log_probs must be (B, C), got shape {log_probs.shape}")
    batch, classes = log_probs.shape
    target = _as_target(target, "nll_loss")
    if target.ndim != 1:
        raise ValueError(
            f"nll_loss: target must be class indices of shape ({batch},), got shape "
            f"{target.shape}; for one-hot or soft targets use softmax_cross_entropy on logits"
        )
    _check_labels("nll_loss", target, batch, classes)
    return ops.nll_loss(log_probs, target)


def binary_cross_entropy(p: Any, t: Any) -> Tensor:
    """mean(-(t log p + (1 - t) log(1 - p))) over all elements, each log at least -100 (as
    PyTorch's); p holds probabilities in [0, 1] and t targets of p's shape."""
    p, t = _prediction_and_target("binary_cross_entropy", p, t)
    outside = (p.data < 0) | (p.data > 1)
    if outside.any():
        raise ValueError(
            f"binary_cross_entropy: p must hold probabilities in [0, 1], got values from "
            f"{p.data.min()} to {p.data.max()}; for scores use binary_cross_entropy_with_logits"
        )
    return ops.binary_cross_entropy(p, t)


def binary_cross_entropy_with_logits(logits: Any, t: Any) -> Tensor:
    """binary_cross_entropy(sigmoid(logits), t), computed stably from the logits themselves."""
    logits, t = _prediction_and_target("binary_cross_entropy_with_logits", logits, t)
    return ops.binary_cross_entropy_with_logits(logits, t)


def huber_loss(y: Any, t: Any, delta: float = 1.0) -> Tensor:
    """The mean of 0.5 d² where |d| < delta and delta (|d| - delta / 2) elsewhere, d = y - t."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    y, t = _prediction_and_target("huber_loss", y, t)
    return ops.huber_loss(y, t, delta=delta)


def one_hot(labels: Any, num_classes: int) -> Tensor:
    """Integer class labels of any shape as a float64 Tensor of shape labels.shape +
    (num_classes,), one 1 per row (``gk.data.one_hot`` as a Tensor)."""
    return Tensor(encode_one_hot(labels.data if isinstance(labels, Tensor) else labels,
                                 num_classes))


def _prediction_and_target(op: str, y: Any, t: Any) -> tuple[Tensor, Tensor]:
    """Both as Tensors of the same shape; a constant target takes the prediction's dtype."""
    y, t = as_tensor(y), as_tensor(t)
    _same_shape(op, y, t)
    if not t.requires_grad and t.dtype != y.dtype:
        t = Tensor(t.data.astype(y.dtype))
    return y, t


def _check_labels(op: str, labels: Any, batch: int, classes: int) -> None:
    """ValueError unless ``labels`` (integer, 1-D) holds one class in [0, classes) per row."""
    if labels.shape[0] != batch:
        raise ValueError(f"{op}: {labels.shape[0]} labels for a batch of {batch} rows")
    # One reduction checks both bounds: a negative label read as unsigned is huge.
    if labels.size and xp.maximum.reduce(labels.view(xp.uintp)) >= classes:
        raise ValueError(
            f"{op}: labels must lie in [0, {classes}), "
            f"got values from {labels.min()} to {labels.max()}"
        )


def _as_target(target: Any, op: str = "softmax_cross_entropy") -> Any:
    """Class indices become an integer array; a distribution stays a (float) Tensor."""
    if isinstance(target, Tensor):
        # Inside forward mode a distribution may carry a tangent without requiring grad.
        if target.ndim == 2 and (target.requires_grad or forward.is_active()):
            return target
        target = target.data
    target = xp.asarray(target)
    if target.ndim <= 1:
        as_int = target.astype(xp.intp, copy=False)
        if target.dtype.kind == "f" and not (as_int == target).all():
            raise ValueError(f"{op}: class indices must be whole numbers")
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
