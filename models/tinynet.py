"""TinyNet: two conv-ReLU-pool stages and a linear layer, on (B, 3, 8, 8) images."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from graphkit import functional as F
from graphkit.tensor import Tensor

#: The parameters in the order the constructor takes them and ``backward`` returns them.
PARAM_NAMES = ("W_conv1", "b_conv1", "W_conv2", "b_conv2", "W_fc", "b_fc")


class TinyNet:
    """conv(3->6, 3x3, stride 1, pad 1), ReLU, max-pool 2x2 stride 2,
    conv(6->12, 3x3, stride 1, pad 1), ReLU, max-pool 2x2 stride 2,
    linear(48 -> 10) on the flattened (B, 12, 2, 2) map, softmax-with-loss.

    Shapes: W_conv1 (6, 3, 3, 3), b_conv1 (6,), W_conv2 (12, 6, 3, 3), b_conv2 (12,),
    W_fc (48, 10) (in, out), b_fc (10,). The arrays are copied: the caller's stay as
    they are. ``params`` maps each name to its Tensor.
    """

    def __init__(
        self, W_conv1: Any, b_conv1: Any, W_conv2: Any, b_conv2: Any, W_fc: Any, b_fc: Any
    ) -> None:
        arrays = (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        self.params = {
            name: Tensor(np.array(array, copy=True), requires_grad=True, name=name)
            for name, array in zip(PARAM_NAMES, arrays)
        }
        self._loss: Tensor | None = None

    def forward(self, x: Any, t: Any) -> tuple[np.ndarray, float]:
        """x (B, 3, 8, 8), labels t (B,) or one-hot (B, 10) -> (logits (B, 10), mean loss)."""
        logits = self.logits(x)
        self._loss = F.softmax_cross_entropy(logits, t)
        return logits.numpy(), self._loss.item()

    def logits(self, x: Any) -> Tensor:
        """x (B, 3, 8, 8) -> logits (B, 10) as a Tensor with its graph (``forward`` hands
        back arrays, as the book's TinyNet does)."""
        p = self.params
        h = F.max_pool2d(F.relu(F.conv2d(x, p["W_conv1"], p["b_conv1"], stride=1, pad=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p["W_conv2"], p["b_conv2"], stride=1, pad=1)), 2)
        return F.linear(h.reshape(h.shape[0], -1), p["W_fc"], p["b_fc"])

    def backward(self) -> tuple[np.ndarray, ...]:
        """The gradients of the last ``forward``'s loss, in ``PARAM_NAMES`` order."""
        if self._loss is None:
            raise RuntimeError("TinyNet.backward() needs a forward(x, t) first")
        for param in self.params.values():
            param.grad = None
        self._loss.backward()
        self._loss = None
        # Every parameter is used, so every one has a gradient now.
        return tuple(cast(Tensor, param.grad).numpy() for param in self.params.values())


def train_one_iter(
    W_conv1: Any,
    b_conv1: Any,
    W_conv2: Any,
    b_conv2: Any,
    W_fc: Any,
    b_fc: Any,
    x: Any,
    t: Any,
    learning_rate: float,
    weight_decay: float = 0.0,
) -> tuple[np.ndarray, ...]:
    """One SGD step of TinyNet on (x, t) with L2 on all six parameters:
    ``param - learning_rate * (grad + weight_decay * param)``. Returns the six updated
    arrays in the order given; the inputs are not modified."""
    net = TinyNet(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
    net.forward(x, t)
    grads = net.backward()
    return tuple(
        param.data - learning_rate * (grad + weight_decay * param.data)
        for param, grad in zip(net.params.values(), grads)
    )
