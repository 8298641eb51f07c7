"""A small batch-normalised CNN: two conv-BN-ReLU-pool blocks, then a BN hidden layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphkit import nn

#: Output channels of the two convolutions.
CHANNELS = (16, 32)
#: Width of the hidden fully connected layer.
HIDDEN = 128


class BNCNN(nn.Sequential):
    """(B, C, H, W) -> (B, num_classes) logits, for H and W divisible by 4.

    Two blocks of conv 3x3 pad 1, BatchNorm2d, ReLU and max-pool 2; then the flattened
    (channels[1], H/4, W/4) map goes through a hidden linear layer, BatchNorm1d, ReLU and
    dropout to the output layer. The layers that batch norm follows have no bias: its
    shift replaces it. Layers are named conv1 bn1 relu1 pool1 conv2 bn2 relu2 pool2
    flatten fc1 bn3 relu3 drop fc2.
    """

    def __init__(
        self,
        num_classes: int = 10,
        input_shape: tuple[int, int, int] = (1, 28, 28),
        channels: tuple[int, int] = CHANNELS,
        hidden: int = HIDDEN,
        dropout: float = 0.25,
        dtype: Any = np.float64,
    ) -> None:
        in_channels, height, width = input_shape
        if height % 4 or width % 4:
            raise ValueError(f"BNCNN pools twice by 2: image sides must divide by 4, got "
                             f"{height}x{width}")
        layers: dict[str, nn.Module] = {}
        for i, (c_in, c_out) in enumerate(zip((in_channels, *channels), channels), start=1):
            layers[f"conv{i}"] = nn.Conv2d(c_in, c_out, 3, pad=1, bias=False, dtype=dtype)
            layers[f"bn{i}"] = nn.BatchNorm2d(c_out, dtype=dtype)
            layers[f"relu{i}"] = nn.ReLU()
            layers[f"pool{i}"] = nn.MaxPool2d(2)
        features = channels[-1] * (height // 4) * (width // 4)
        layers["flatten"] = nn.Flatten()
        layers["fc1"] = nn.Linear(features, hidden, bias=False, dtype=dtype)
        layers["bn3"] = nn.BatchNorm1d(hidden, dtype=dtype)
        layers["relu3"] = nn.ReLU()
        layers["drop"] = nn.Dropout(dropout)
        layers["fc2"] = nn.Linear(hidden, num_classes, dtype=dtype)
        super().__init__(layers)
