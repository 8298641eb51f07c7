"""LeNet-style convolutional network for 28x28 images (MNIST, Fashion-MNIST)."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphkit import nn
from graphkit.tensor import Tensor


class LeNet(nn.Module):
    """(B, 1, 28, 28) -> (B, num_classes) logits.

    conv 1->16 5x5 pad 2, ReLU, max-pool 2, conv 16->32 5x5 pad 2, ReLU, max-pool 2,
    linear 32*7*7 = 1568 -> num_classes. Parameters are ``dtype`` (float64 by default;
    ``np.float32`` halves the memory): feed inputs of the same dtype.
    """

    def __init__(self, num_classes: int = 10, dtype: Any = np.float64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, pad=2, dtype=dtype)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 5, pad=2, dtype=dtype)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * 7 * 7, num_classes, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(self.flatten(x))
