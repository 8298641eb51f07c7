"""Layers and models as objects: ``Module``, ``Parameter`` and the standard layers.

``gk.nn.Module`` registers the parameters and sub-modules assigned to its attributes;
see ``graphkit.nn.module``. Initialisation schemes live in ``graphkit.nn.init``.
"""

from graphkit.nn import init
from graphkit.nn.layers import (
    AvgPool2d,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from graphkit.nn.module import Module, Parameter

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "init",
]
