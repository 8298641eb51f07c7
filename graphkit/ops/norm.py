"""Normalisation: batch_norm and layer_norm, each one op with a closed-form backward.

Both standardise x over some axes, xhat = (x - mean) / sqrt(var + eps) with the biased
variance (as PyTorch), then scale and shift xhat by a per-feature weight and bias. The
gradient through the standardisation is the closed form

    P(g) = inv_std * (g - mean(g) - xhat * mean(g * xhat))

(means over the standardised axes), rather than the dozen ops the composition would
record. P is self-adjoint, so the same projection gives both the backward (applied to
gy * weight) and the jvp (applied to dx). Each rule is written with operators and ops:
under create_graph it recomputes xhat from x as a graph, and second derivatives follow.
"""

from __future__ import annotations

from typing import Any

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.tangents import total
from graphkit.tensor import Tensor, array_of


def _standardized(x, axes, eps):
    """(xhat, inv_std, mean, var) of x (an array or a Tensor) over ``axes``, kept as size 1."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = (var + eps) ** -0.5
    return centered * inv_std, inv_std, mean, var


def _through_standardization(g, xhat, inv_std, axes):
    """P(g): a gradient (or a tangent) of xhat carried to x, when mean and var come from x."""
    return inv_std * (
        g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)
    )


def _affine(xhat, weight, bias):
    """xhat * weight + bias on arrays, each term skipped when it is None; never xhat itself,
    which backward keeps."""
    y = xhat.copy() if weight is None else xhat * weight
    if bias is not None:
        y += bias
    return y


class BatchNorm(Op):
    """x (B, C, *spatial), weight and bias (C,) or None -> y of x's shape.

    Channel c is standardised over the batch and spatial axes with the batch's statistics
    when ``training`` (and those statistics are folded into ``running_mean`` and
    ``running_var`` in place: the variance unbiased, as PyTorch), else with the running
    statistics, which are then constants.
    """

    __slots__ = ("eps", "momentum", "running_mean", "running_var", "training")

    def __init__(self, running_mean=None, running_var=None, training=True, momentum=0.1,
                 eps=1e-5):
        self.running_mean = running_mean
        self.running_var = running_var
        self.training = training
        self.momentum = momentum
        self.eps = eps

    def forward(self, x, weight, bias):
        axes, shape = _channel_axes(x)
        if self.training:
            xhat, inv_std, mean, var = _standardized(x, axes, self.eps)
            if self.running_mean is not None:
                self._update_running_statistics(x, mean, var)
        else:
            mean = xp.asarray(self.running_mean, dtype=x.dtype).reshape(shape)
            var = xp.asarray(self.running_var, dtype=x.dtype).reshape(shape)
            inv_std = (var + self.eps) ** -0.5
            xhat = (x - mean) * inv_std
        self.saved = (xhat, inv_std, mean)
        return _affine(xhat, None if weight is None else weight.reshape(shape),
                       None if bias is None else bias.reshape(shape))

    def _update_running_statistics(self, x, mean, var):
        count = x.size // x.shape[1]
        m = self.momentum
        self.running_mean *= 1 - m
        self.running_mean += m * mean.reshape(-1)
        self.running_var *= 1 - m
        self.running_var += (m * count / (count - 1)) * var.reshape(-1)

    def _normalized(self, x):
        """(xhat, inv_std): saved on arrays; on a Tensor x, recomputed as its graph."""
        xhat, inv_std, mean = self.saved
        if isinstance(x, Tensor):
            if self.training:
                xhat, inv_std = _standardized(x, _channel_axes(x)[0], self.eps)[:2]
            else:
                xhat = (x - mean) * inv_std
        return xhat, inv_std

    def backward(self, gy, y, x, weight, bias):
        axes, shape = _channel_axes(x)
        xhat, inv_std = self._normalized(x)
        # Training: P(gy * weight) with weight constant over the reduced axes, where
        # mean(gy) and mean(gy * xhat) are the bias and weight gradients over the count.
        sums_needed = self.training and self.needs_grad(0)
        gbias = gweight = gx = None
        if sums_needed or self.needs_grad(2):
            gbias = gy.sum(axis=axes, keepdims=True)
        if sums_needed or self.needs_grad(1):
            gweight = (gy * xhat).sum(axis=axes, keepdims=True)
        if self.needs_grad(0):
            scale = inv_std if weight is None else inv_std * weight.reshape(shape)
            if self.training:
                count = x.size // x.shape[1]
                gx = scale * (gy - gbias / count - xhat * (gweight / count))
            else:
                gx = scale * gy
        return (
            gx,
            gweight.reshape(-1) if self.needs_grad(1) else None,
            gbias.reshape(-1) if self.needs_grad(2) else None,
        )

    def jvp(self, dxs, y, x, weight, bias):
        dx, dweight, dbias = dxs
        axes, shape = _channel_axes(x)
        xhat, inv_std = self._normalized(x)
        dxhat = None
        if dx is not None:
            if self.training:
                dxhat = _through_standardization(dx, xhat, inv_std, axes)
            else:
                dxhat = dx * inv_std
            if weight is not None:
                dxhat = dxhat * weight.reshape(shape)
        return total(
            dxhat,
            None if dweight is None else xhat * dweight.reshape(shape),
            None if dbias is None else dbias.reshape(shape),
        )

    def params(self) -> dict[str, Any]:
        return {"training": self.training, "momentum": self.momentum, "eps": self.eps}


def _channel_axes(x) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes batch_norm reduces over (all but axis 1), and (1, C, 1, ...) for weights."""
    ndim = x.ndim
    return (0, *range(2, ndim)), (1, x.shape[1]) + (1,) * (ndim - 2)


class LayerNorm(Op):
    """x (..., *normalized_shape), weight and bias of normalized_shape or None -> y of
    x's shape: each sample standardised over its last ``normalized_ndim`` axes."""

    __slots__ = ("eps", "normalized_ndim")

    def __init__(self, normalized_ndim=1, eps=1e-5):
        self.normalized_ndim = normalized_ndim
        self.eps = eps

    def _axes(self, x) -> tuple[int, ...]:
        return tuple(range(x.ndim - self.normalized_ndim, x.ndim))

    def forward(self, x, weight, bias):
        xhat, inv_std = _standardized(x, self._axes(x), self.eps)[:2]
        self.saved = (xhat, inv_std)
        return _affine(xhat, weight, bias)

    def _normalized(self, x):
        if isinstance(x, Tensor):
            return _standardized(x, self._axes(x), self.eps)[:2]
        return self.saved

    def backward(self, gy, y, x, weight, bias):
        axes = self._axes(x)
        batch_axes = tuple(range(x.ndim - self.normalized_ndim))
        xhat, inv_std = self._normalized(x)
        gx = gweight = gbias = None
        if self.needs_grad(0):
            gxhat = gy if weight is None else gy * weight
            gx = _through_standardization(gxhat, xhat, inv_std, axes)
        if self.needs_grad(1):
            gweight = (gy * xhat).sum(axis=batch_axes)
        if self.needs_grad(2):
            gbias = gy.sum(axis=batch_axes)
        return gx, gweight, gbias

    def jvp(self, dxs, y, x, weight, bias):
        dx, dweight, dbias = dxs
        xhat, inv_std = self._normalized(x)
        dxhat = None
        if dx is not None:
            dxhat = _through_standardization(dx, xhat, inv_std, self._axes(x))
            if weight is not None:
                dxhat = dxhat * weight
        return total(dxhat, None if dweight is None else xhat * dweight, dbias)


def batch_norm(
    x: Any,
    running_mean: Any = None,
    running_var: Any = None,
    weight: Any = None,
    bias: Any = None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Batch normalisation over axis 1 of x (B, C), (B, C, L) or (B, C, H, W).

    ``running_mean`` and ``running_var`` are float ndarrays of shape (C,), updated in place
    when ``training`` (they may be None there, and are then not tracked); outside training
    they standardise x. ``weight`` and ``bias`` are (C,) or None.
    """
    shape = xp.shape(array_of(x))
    if len(shape) < 2:
        raise ValueError(f"batch_norm: x of shape {shape} needs a channel axis: (B, C, ...)")
    channels = shape[1]
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is None:
            if not training:
                raise ValueError(f"batch_norm: {name} is needed outside training")
            continue
        if not isinstance(stat, xp.ndarray) or stat.dtype.kind != "f":
            raise TypeError(f"batch_norm: {name} must be a float ndarray (updated in place), "
                            f"got {type(stat).__name__}")
        if stat.shape != (channels,):
            raise ValueError(
                f"batch_norm: x of shape {shape} has {channels} channels on axis 1, but "
                f"{name} has shape {stat.shape}: the statistics need one entry per channel"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and xp.shape(array_of(value)) != (channels,):
            raise ValueError(f"batch_norm: {name} of shape {xp.shape(array_of(value))} must "
                             f"be ({channels},), one per channel of x {shape}")
    if training and shape[0] * int(xp.prod(shape[2:])) <= 1:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got x "
                         f"of shape {shape}")
    return BatchNorm.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                           training=training, momentum=momentum, eps=eps)


def layer_norm(
    x: Any,
    normalized_shape: int | tuple[int, ...],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Any:
    """Layer normalisation of x (..., *normalized_shape) over its last axes, as PyTorch.

    ``weight`` and ``bias`` have ``normalized_shape``, or are None.
    """
    normalized_shape = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    shape = xp.shape(array_of(x))
    count = len(normalized_shape)
    if not count or shape[len(shape) - count:] != normalized_shape or count > len(shape):
        raise ValueError(f"layer_norm: x of shape {shape} does not end in normalized_shape "
                         f"{normalized_shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and xp.shape(array_of(value)) != normalized_shape:
            raise ValueError(f"layer_norm: {name} of shape {xp.shape(array_of(value))} must "
                             f"be normalized_shape {normalized_shape}")
    return LayerNorm.apply(x, weight, bias, normalized_ndim=len(normalized_shape), eps=eps)
