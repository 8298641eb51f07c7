"""One forward-and-loss pass of each model in ``models/`` on a dummy batch, to draw.

``python -m graphkit graph MODEL`` and the README's picture both come from here, so
the committed picture can be checked against a fresh pass. ``models`` is imported
inside each builder: it is built on graphkit, which must import without it.
"""

from __future__ import annotations

import numpy as np

from graphkit import functional as F
from graphkit.tensor import Tensor

#: The models the ``graph`` command can draw.
MODEL_NAMES = ("tinynet", "twolayernet", "mlp")
DEFAULT_BATCH = 2
NUM_CLASSES = 10


def model_loss(name: str, batch: int = DEFAULT_BATCH) -> Tensor:
    """The loss tensor of model ``name`` on ``batch`` random inputs, with its graph.

    The inputs come from a fixed seed; weights are drawn as the models draw them. Only
    shapes, names and ops appear in a default drawing, so the picture is the same for
    every run.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}: use one of {', '.join(MODEL_NAMES)}")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, NUM_CLASSES, size=batch)
    if name == "tinynet":
        loss = _tinynet_loss(rng, labels)
    elif name == "twolayernet":
        loss = _twolayernet_loss(rng, labels)
    else:
        loss = _mlp_loss(rng, labels)
    loss.name = "loss"
    return loss


def _tinynet_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    from models import TinyNet

    shapes = [(6, 3, 3, 3), (6,), (12, 6, 3, 3), (12,), (48, NUM_CLASSES), (NUM_CLASSES,)]
    net = TinyNet(*(0.1 * rng.standard_normal(shape) for shape in shapes))
    x = Tensor(rng.random((len(labels), 3, 8, 8)), name="x")
    net.forward(x, labels)
    # forward() hands back arrays, as the book's TinyNet does; the loss Tensor it
    # keeps for backward() is the graph to draw.
    return net._loss


def _twolayernet_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    from models import TwoLayerNet

    net = TwoLayerNet(784, 50, NUM_CLASSES)
    params = {key: Tensor(value, requires_grad=True, name=key) for key, value in net.params.items()}
    x = Tensor(rng.random((len(labels), 784)), name="x")
    # loss() returns a float; _loss() is the same computation on named parameter Tensors.
    return net._loss(x, labels, params)


def _mlp_loss(rng: np.random.Generator, labels: np.ndarray) -> Tensor:
    from models import MLP

    x = Tensor(rng.random((len(labels), 784)), name="x")
    return F.softmax_cross_entropy(MLP([784, 100, NUM_CLASSES])(x), labels)
