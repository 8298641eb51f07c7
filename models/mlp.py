"""The multi-layer perceptron: Linear layers with an activation between them."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from graphkit import nn

_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class MLP(nn.Sequential):
    """``MLP([784, 100, 10])``: 784 -> 100 -> activation -> 10 logits (no softmax).

    Layers are named ``fc1, relu1, fc2, ...`` (``drop1, ...`` with ``dropout > 0``, after
    each activation). ReLU layers get He weights, sigmoid and tanh layers Xavier weights.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        dtype: Any = np.float64,
    ) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {list(_ACTIVATIONS)}")
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        init = "he" if activation == "relu" else "xavier"
        layers: dict[str, nn.Module] = {}
        for i, (n_in, n_out) in enumerate(pairwise(sizes), start=1):
            layers[f"fc{i}"] = nn.Linear(n_in, n_out, dtype=dtype, init=init)
            if i < len(sizes) - 1:
                layers[f"{activation}{i}"] = _ACTIVATIONS[activation]()
                if dropout > 0:
                    layers[f"drop{i}"] = nn.Dropout(dropout)
        super().__init__(layers)
