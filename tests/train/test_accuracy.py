"""Accuracy floors on real data with fixed seeds: the engine trains networks that work.

Fashion-MNIST comes from Debian's dataset-fashion-mnist package (the ``fashion`` fixture of
tests/conftest.py); without it these tests are skipped, except on CI.
"""

import numpy as np
import pytest

import graphkit as gk
from graphkit.data import DataLoader
from graphkit.train import fit, predict
from models import BNCNN, LeNet, TwoLayerNet

pytestmark = pytest.mark.slow


def test_two_layer_net_on_fashion_mnist(fashion):
    """The book's recipe: sigmoid 784-50-10, SGD lr 0.1, batches of 100 drawn at random."""
    (x_train, t_train), (x_test, t_test) = fashion
    x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    np.random.seed(0)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    for _ in range(10_000):
        batch = np.random.choice(len(x_train), 100)
        gradients = network.gradient(x_train[batch], t_train[batch])
        for key, gradient in gradients.items():
            network.params[key] -= 0.1 * gradient
    assert network.accuracy(x_test, t_test) >= 0.84


def test_lenet_on_fashion_mnist(fashion):
    """LeNet-style CNN, SGD with momentum 0.9, batches of 64, 2 epochs, float32.

    lr 0.01 rather than PyTorch's 0.05: at 0.05 (an effective step of 0.5 with momentum)
    the result is a coin toss around the floor (seeds 0, 1, 2: 0.877, 0.886, 0.878, and
    PyTorch-style uniform init does no better: 0.873, 0.879); at 0.01 seeds 0 and 1
    reach 0.884 and 0.887.
    """
    (x_train, t_train), (x_test, t_test) = fashion
    np.random.seed(0)
    model = LeNet(num_classes=10, dtype=np.float32)
    optimizer = gk.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(x_train, t_train, batch_size=64, seed=0)
    fit(model, gk.F.softmax_cross_entropy, optimizer, loader, epochs=2, progress=False)
    assert gk.metrics.accuracy(predict(model, x_test), t_test) >= 0.88


def test_bn_cnn_on_fashion_mnist(fashion):
    """models.BNCNN, Adam at lr 1e-3 for two epochs and 1e-4 for the third, batches of 64,
    float32: at least 0.90 in three epochs (seed 0 reaches 0.914; 0.903 after two).

    The hidden BatchNorm1d layer is what gets it there cheaply: without it, conv widths
    (16, 32) reached 0.897 with the same schedule, and (32, 64) cost four times as much per
    step for 0.894 after two epochs.
    """
    (x_train, t_train), (x_test, t_test) = fashion
    np.random.seed(0)
    model = BNCNN(dtype=np.float32)
    optimizer = gk.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(x_train, t_train, batch_size=64, seed=0)
    history = fit(model, gk.F.softmax_cross_entropy, optimizer, loader, epochs=2,
                  progress=False)
    optimizer.lr = 1e-4
    fit(model, gk.F.softmax_cross_entropy, optimizer, loader, epochs=3, progress=False,
        history=history)
    assert len(history) == 3
    assert gk.metrics.accuracy(predict(model, x_test), t_test) >= 0.90
