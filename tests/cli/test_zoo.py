"""The model zoo of ``graphkit train``: each model for each image shape, and one that learns."""

import argparse

import numpy as np
import pytest

import graphkit as gk
from graphkit.cli import zoo
from graphkit.data import DataLoader, load_digits, train_test_split
from graphkit.train import fit, predict

OPTIONS = argparse.Namespace(dtype="float64", dropout=0.0)


@pytest.mark.parametrize("name", list(zoo.MODELS))
@pytest.mark.parametrize("input_shape", [(1, 8, 8), (1, 28, 28)])
def test_every_model_maps_images_to_class_scores(name, input_shape):
    model = zoo.build_model(name, input_shape, 7, OPTIONS)
    assert model(np.zeros((3, *input_shape))).shape == (3, 7)


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="unknown model 'resnet'; expected one of twolayernet"):
        zoo.build_model("resnet", (1, 8, 8), 10, OPTIONS)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tinynet", "mlp"])
def test_small_networks_on_digits(name):
    x, t = load_digits(flatten=False)
    (x_train, t_train), (x_test, t_test) = train_test_split(x, t, train=0.8, seed=0)
    np.random.seed(0)
    model = zoo.build_model(name, x_train.shape[1:], 10, OPTIONS)
    optimizer = gk.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(x_train, t_train, batch_size=32, seed=0)
    fit(model, gk.F.softmax_cross_entropy, optimizer, loader, epochs=20, progress=False)
    assert gk.metrics.accuracy(predict(model, x_test), t_test) >= 0.95
