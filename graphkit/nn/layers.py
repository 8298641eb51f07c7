"""The layers: thin modules over ``graphkit.functional``.

Weights are He-initialised by default (``init="xavier"`` for sigmoid and tanh networks;
see ``graphkit.nn.init``), biases start at zero, and everything is float64 unless a
``dtype`` such as ``np.float32`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

from graphkit import functional as F
from graphkit.nn.init import initial_weights
from graphkit.nn.module import Module, Parameter
from graphkit.ops.dropout import check_probability
from graphkit.ops.windows import pair
from graphkit.tensor import Tensor, as_tensor


class Linear(Module):
    """y = x @ weight + bias: x (..., in_features) -> (..., out_features).

    ``weight`` is (in_features, out_features), as ``F.linear`` takes it; ``bias`` is
    (out_features,), or None with ``bias=False``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = np.float64,
        init: str = "he",
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(
            initial_weights(init, (in_features, out_features), in_features, out_features, dtype)
        )
        self.bias = Parameter(np.zeros(out_features, dtype)) if bias else None

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class _Convolution(Module):
    """What Conv2d and ConvTranspose2d share: a 4-D ``weight`` with the channel axes in
    the order ``channel_axes`` names, a ``bias`` (out_channels,), ``stride`` and ``pad``
    (each an int or an (h, w) pair, as ``kernel_size``)."""

    channel_axes: ClassVar[tuple[str, str]]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        pad: int | tuple[int, int] = 0,
        bias: bool = True,
        dtype: Any = np.float64,
        init: str = "he",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        kh, kw = pair(kernel_size, f"{name}: kernel_size")
        self.stride = pair(stride, f"{name}: stride")
        self.pad = pair(pad, f"{name}: pad", minimum=0)
        channels = {"in": in_channels, "out": out_channels}
        shape = (*(channels[axis] for axis in self.channel_axes), kh, kw)
        self.weight = Parameter(
            initial_weights(init, shape, in_channels * kh * kw, out_channels * kh * kw, dtype)
        )
        self.bias = Parameter(np.zeros(out_channels, dtype)) if bias else None

    def extra_repr(self) -> str:
        channels = dict(zip(self.channel_axes, self.weight.shape))
        return (
            f"{channels['in']}, {channels['out']}, kernel_size={self.weight.shape[2:]}, "
            f"stride={self.stride}, pad={self.pad}"
        )


class Conv2d(_Convolution):
    """2-D convolution: x (B, in_channels, H, W) -> (B, out_channels, OH, OW).

    ``weight`` is (out_channels, in_channels, KH, KW), ``bias`` (out_channels,);
    ``kernel_size``, ``stride`` and ``pad`` are an int or an (h, w) pair.
    """

    channel_axes = ("out", "in")

    def forward(self, x: Any) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, pad=self.pad)


class ConvTranspose2d(_Convolution):
    """2-D transposed convolution: x (B, in_channels, H, W) -> (B, out_channels, OH, OW)
    with OH = (H - 1) * stride - 2 * pad + KH (and likewise OW).

    ``weight`` is (in_channels, out_channels, KH, KW), as PyTorch's, ``bias``
    (out_channels,); ``kernel_size``, ``stride`` and ``pad`` are an int or an (h, w) pair.
    Initialised as ``Conv2d``: each output pixel of a stride-1 transposed convolution sums
    in_channels * KH * KW products, its fan-in.
    """

    channel_axes = ("in", "out")

    def forward(self, x: Any) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride, pad=self.pad)


class _Pool2d(Module):
    """Pooling over windows of ``kernel_size``; ``stride`` defaults to it."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        pad: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.pad = pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}"


class MaxPool2d(_Pool2d):
    """Max-pooling over windows of ``kernel_size``; ``stride`` defaults to it."""

    def forward(self, x: Any) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.pad)


class AvgPool2d(_Pool2d):
    """Average pooling over windows of ``kernel_size``, zero padding counted in the mean
    (PyTorch's default); ``stride`` defaults to the kernel size."""

    def forward(self, x: Any) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.pad)


class ReLU(Module):
    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Φ(x), Φ the standard normal CDF (the exact erf form)."""

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x)


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class Softplus(Module):
    """log(1 + exp(x)), a smooth ReLU."""

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x)


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training mode, the identity in eval mode."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability(p)
        self.generator = generator

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    """Batch normalisation over axis 1, as ``F.batch_norm``.

    ``weight`` (ones) and ``bias`` (zeros) are (num_features,) Parameters, or None with
    ``affine=False``. The buffers ``running_mean`` (zeros) and ``running_var`` (ones) are
    updated by every training-mode call, used instead of the batch's statistics in
    ``eval()``, and saved by ``state_dict``.
    """

    #: x.ndim -> the shape it stands for, in error messages.
    shapes: ClassVar[dict[int, str]]
    running_mean: np.ndarray  # buffers, set by register_buffer
    running_var: np.ndarray

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.weight = Parameter(np.ones(num_features, dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if affine else None
        self.register_buffer("running_mean", np.zeros(num_features, dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype))

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in self.shapes:
            raise ValueError(
                f"{type(self).__name__} takes x of shape {' or '.join(self.shapes.values())}, "
                f"got {x.shape}"
            )
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of x (B, C) or (B, C, L) over the batch (and length) axes."""

    shapes: ClassVar[dict[int, str]] = {2: "(B, C)", 3: "(B, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of x (B, C, H, W), per channel over the batch and both image axes."""

    shapes: ClassVar[dict[int, str]] = {4: "(B, C, H, W)"}


class LayerNorm(Module):
    """Each sample standardised over its last axes, ``normalized_shape``, as ``F.layer_norm``;
    ``weight`` (ones) and ``bias`` (zeros) have that shape (None with
    ``elementwise_affine=False``)."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        affine = elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) if affine else None

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class Embedding(Module):
    """A table of ``num`` learned vectors of size ``dim``: integer indices (any shape) ->
    (*indices.shape, dim). ``weight`` (num, dim) starts as N(0, 1) draws, as PyTorch's."""

    def __init__(self, num: int, dim: int, dtype: Any = np.float64) -> None:
        super().__init__()
        self.num_embeddings = num
        self.embedding_dim = dim
        self.weight = Parameter(np.random.randn(num, dim).astype(dtype))

    def forward(self, indices: Any) -> Tensor:
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """(B, ...) -> (B, everything else): the bridge from conv layers to linear ones."""

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return x.reshape(x.shape[0], -1)


class Sequential(Module):
    """Modules applied one after another.

    ``Sequential(a, b, c)`` names them ``"0"``, ``"1"``, ``"2"``; ``Sequential({"conv": a,
    "relu": b})`` uses the given names.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        named: dict[str, object]  # checked below: a caller may pass anything
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            named = dict(modules[0])
        else:
            named = {str(i): module for i, module in enumerate(modules)}
        for name, module in named.items():
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential takes modules, got {type(module).__name__} for {name!r}"
                )
            setattr(self, name, module)

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return list(self.children())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return self.children()
