"""One forward-and-loss pass of each model in ``models/`` on a dummy batch, to draw.

``python -m graphkit graph MODEL`` and the README's picture both come from here, so
the committed picture can be checked against a fresh pass. A model to draw is one
function ``(rng, labels) -> loss`` and one entry in ``LOSSES``; each reaches its model
through the model's public methods only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from graphkit import functional as F
from graphkit.tensor import Tensor
from models import BNCNN, MLP, LeNet, TinyNet, TwoLayerNet

DEFAULT_BATCH = 2
NUM_CLASSES = 10


def model_loss(name: str, batch: int = DEFAULT_BATCH) -> Tensor:
    """The loss tensor of model ``name`` on ``batch`` random inputs, with its graph.

    The inputs come from a fixed seed; weights are drawn as the models draw them. Only
    shapes, names and ops appear in a default drawing, so the picture is the same for
    every run.
    """
    if name not in LOSSES:
        raise ValueError(f"unknown model {name!r}: use one of {', '.join(LOSSES)}")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_CLASSES, size=batch)
    loss = LOSSES[name](rng, labels)
    loss.name = "loss"
    return loss


def _tinynet_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    shapes = [(6, 3, 3, 3), (6,), (12, 6, 3, 3), (12,), (48, NUM_CLASSES), (NUM_CLASSES,)]
    net = TinyNet(*(0.1 * rng.standard_normal(shape) for shape in shapes))
    x = Tensor(rng.random((len(labels), 3, 8, 8)), name="x")
    return F.softmax_cross_entropy(net.logits(x), labels)


def _twolayernet_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    net = TwoLayerNet(784, 50, NUM_CLASSES)
    params = {key: Tensor(value, requires_grad=True, name=key) for key, value in net.params.items()}
    x = Tensor(rng.random((len(labels), 784)), name="x")
    # loss() returns a float; the same computation on named parameter Tensors is the graph.
    return F.softmax_cross_entropy(net.scores(x, params), labels)


def _mlp_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    x = Tensor(rng.random((len(labels), 784)), name="x")
    return F.softmax_cross_entropy(MLP([784, 100, NUM_CLASSES])(x), labels)


def _lenet_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    x = Tensor(rng.random((len(labels), 1, 28, 28)), name="x")
    return F.softmax_cross_entropy(LeNet(NUM_CLASSES)(x), labels)


def _bn_cnn_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    x = Tensor(rng.random((len(labels), 1, 28, 28)), name="x")
    return F.softmax_cross_entropy(BNCNN(NUM_CLASSES)(x), labels)


#: Model name -> its loss on a random batch; the models the ``graph`` command can draw.
LOSSES: dict[str, Callable[[np.random.Generator, np.ndarray], Tensor]] = {
    "tinynet": _tinynet_loss,
    "twolayernet": _twolayernet_loss,
    "mlp": _mlp_loss,
    "lenet": _lenet_loss,
    "bn_cnn": _bn_cnn_loss,
}
MODEL_NAMES = tuple(LOSSES)
