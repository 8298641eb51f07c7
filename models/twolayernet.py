"""The book's two-layer network: affine, sigmoid, affine, softmax-with-loss.

Its weights are plain arrays in ``.params``; ``gradient`` differentiates through
graphkit, ``numerical_gradient`` by central differences, so the two can be compared.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from graphkit import functional as F
from graphkit.metrics import accuracy
from graphkit.tensor import Tensor
from graphkit.testing import numerical_gradient

Params = dict[str, np.ndarray]


class TwoLayerNet:
    """input_size -> hidden_size (sigmoid) -> output_size scores.

    ``params``: W1 (input_size, hidden_size), b1 (hidden_size,), W2 (hidden_size,
    output_size), b2 (output_size,); weights drawn as ``weight_init_std * randn`` from
    NumPy's global RNG, biases zero. Labels ``t`` are class indices (B,) or one-hot (B, C).
    """

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01
    ) -> None:
        self.params: Params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def scores(self, x: Any, params: dict[str, Any] | None = None) -> Tensor:
        """x (B, input_size) -> scores (B, output_size) as a Tensor with its graph.

        ``params`` (default: ``self.params``) has the keys of ``self.params``; pass Tensors
        that require grad (and have names) to differentiate or draw through them.
        """
        params = self.params if params is None else params
        hidden = F.sigmoid(F.linear(x, params["W1"], params["b1"]))
        return F.linear(hidden, params["W2"], params["b2"])

    def predict(self, x: Any) -> np.ndarray:
        """x (B, input_size) -> scores (B, output_size), before the softmax."""
        return self.scores(x).numpy()

    def loss(self, x: Any, t: Any) -> float:
        """The mean cross-entropy of softmax(scores) against ``t``."""
        return F.softmax_cross_entropy(self.scores(x), t).item()

    def accuracy(self, x: Any, t: Any) -> float:
        """The fraction of ``x`` whose highest score is the label."""
        return accuracy(self.predict(x), t)

    def gradient(self, x: Any, t: Any) -> Params:
        """d loss / d param for each of W1 b1 W2 b2, by backpropagation through graphkit."""
        params = {key: Tensor(value, requires_grad=True) for key, value in self.params.items()}
        F.softmax_cross_entropy(self.scores(x, params), t).backward()
        # Every parameter is used, so every one has a gradient now.
        return {key: cast(Tensor, param.grad).numpy() for key, param in params.items()}

    def numerical_gradient(self, x: Any, t: Any) -> Params:
        """The same gradients by central differences (slow: two losses per weight)."""
        return {
            key: numerical_gradient(lambda _: self.loss(x, t), value)
            for key, value in self.params.items()
        }
