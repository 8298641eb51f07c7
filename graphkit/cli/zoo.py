"""The models ``python -m graphkit train`` builds, by name, each for the data set's image shape.

A new model is one builder function and one entry in ``MODELS``.

A builder takes ``(input_shape, num_classes, args)``: the shape of one image
(C, H, W), the number of classes, and the training options (it reads ``args.dtype``
and, for mlp, ``args.dropout``). Every model maps a batch (B, C, H, W) to class
scores (B, num_classes).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphkit import nn
from models import BNCNN, MLP, LeNet

Builder = Callable[[tuple[int, ...], int, argparse.Namespace], nn.Module]

#: mlp's hidden layer widths.
MLP_HIDDEN = (100, 100)
#: twolayernet's hidden width, as the book's TwoLayerNet(784, 50, 10).
TWO_LAYER_HIDDEN = 50
#: The only image shape models.LeNet takes.
LENET_INPUT = (1, 28, 28)


def twolayernet(
    input_shape: tuple[int, ...], num_classes: int, args: argparse.Namespace
) -> nn.Module:
    """The book's TwoLayerNet as a Module: affine, sigmoid, affine on the flattened image.

    ``models.TwoLayerNet`` keeps plain arrays and cannot be saved or trained by ``fit``.
    """
    sizes = [math.prod(input_shape), TWO_LAYER_HIDDEN, num_classes]
    return _flattened(MLP(sizes, activation="sigmoid", dtype=np.dtype(args.dtype)))


def mlp(input_shape: tuple[int, ...], num_classes: int, args: argparse.Namespace) -> nn.Module:
    """``models.MLP``: ``MLP_HIDDEN`` ReLU layers (with ``args.dropout``) on the flat image."""
    sizes = [math.prod(input_shape), *MLP_HIDDEN, num_classes]
    return _flattened(MLP(sizes, dropout=args.dropout, dtype=np.dtype(args.dtype)))


def tinynet(input_shape: tuple[int, ...], num_classes: int, args: argparse.Namespace) -> nn.Module:
    """TinyNet's layers for any image size and channel count.

    conv 3x3 pad 1 (C -> 6), ReLU, max-pool 2, conv 3x3 pad 1 (6 -> 12), ReLU,
    max-pool 2, affine on the flattened (12, H/4, W/4) map. On (3, 8, 8) images this
    is ``models.TinyNet``, whose weights are fixed-shape arrays rather than a Module.
    """
    return _two_conv_net(input_shape, num_classes, (6, 12), 3, np.dtype(args.dtype))


def lenet(input_shape: tuple[int, ...], num_classes: int, args: argparse.Namespace) -> nn.Module:
    """``models.LeNet`` on (1, 28, 28) images; on other shapes (8x8 digits) the same
    layers sized for them: conv 5x5 pad 2 (C -> 16), ReLU, max-pool 2, conv 5x5 pad 2
    (16 -> 32), ReLU, max-pool 2, affine on the flattened (32, H/4, W/4) map."""
    dtype = np.dtype(args.dtype)
    if tuple(input_shape) == LENET_INPUT:
        return LeNet(num_classes, dtype=dtype)
    return _two_conv_net(input_shape, num_classes, (16, 32), 5, dtype)


def bn_cnn(input_shape: tuple[int, ...], num_classes: int, args: argparse.Namespace) -> nn.Module:
    """``models.BNCNN``: two conv 3x3-BatchNorm-ReLU-max-pool blocks, then a hidden affine
    layer with BatchNorm, ReLU and dropout, for any image whose sides divide by 4."""
    channels, height, width = input_shape
    return BNCNN(num_classes, input_shape=(channels, height, width), dtype=np.dtype(args.dtype))


def _flattened(model: nn.Module) -> nn.Module:
    return nn.Sequential({"flatten": nn.Flatten(), "mlp": model})


def _two_conv_net(
    input_shape: tuple[int, ...],
    num_classes: int,
    channels: tuple[int, int],
    kernel_size: int,
    dtype: Any,
) -> nn.Module:
    """Two (conv, ReLU, max-pool 2) stages, size-preserving convolutions, then one affine layer.

    Layers are named as ``models.LeNet`` names them: conv1 relu1 pool1 conv2 relu2 pool2 flatten fc.
    """
    in_channels, height, width = input_shape
    pad = kernel_size // 2
    return nn.Sequential(
        {
            "conv1": nn.Conv2d(in_channels, channels[0], kernel_size, pad=pad, dtype=dtype),
            "relu1": nn.ReLU(),
            "pool1": nn.MaxPool2d(2),
            "conv2": nn.Conv2d(channels[0], channels[1], kernel_size, pad=pad, dtype=dtype),
            "relu2": nn.ReLU(),
            "pool2": nn.MaxPool2d(2),
            "flatten": nn.Flatten(),
            "fc": nn.Linear(channels[1] * (height // 4) * (width // 4), num_classes, dtype=dtype),
        }
    )


MODELS: dict[str, Builder] = {
    "twolayernet": twolayernet,
    "tinynet": tinynet,
    "mlp": mlp,
    "lenet": lenet,
    "bn_cnn": bn_cnn,
}


def build_model(
    name: str, input_shape: tuple[int, ...], num_classes: int, args: argparse.Namespace
) -> nn.Module:
    """The model registered as ``name``, for images (C, H, W) and ``num_classes`` classes."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    return MODELS[name](tuple(input_shape), num_classes, args)
