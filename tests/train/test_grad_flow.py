"""GradFlow and fit(grad_flow=True) (graphkit/train/grad_flow.py), and its plot."""

import math

import numpy as np
import pytest

import graphkit as gk
from graphkit import nn
from graphkit.data import DataLoader
from graphkit.train import GradFlow, History, fit, plot_grad_flow


def deep(activation, depth=8, width=16):
    layers = [nn.Linear(2, width), activation()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), activation()]
    return nn.Sequential(*layers, nn.Linear(width, 2))


def blobs():
    rng = np.random.default_rng(0)
    t = np.repeat([0, 1], 50)
    return rng.normal(size=(100, 2)) + np.where(t[:, None] == 1, 2.0, -2.0), t


def train(model, grad_flow=True, epochs=2):
    x, t = blobs()
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1)
    return fit(model, gk.F.softmax_cross_entropy, optimizer, DataLoader(x, t, 25, seed=0),
               epochs=epochs, progress=False, grad_flow=grad_flow)


def test_one_norm_per_layer_and_step_equal_to_the_gradients_own():
    np.random.seed(0)
    model = deep(nn.ReLU, depth=3)
    flow = GradFlow()
    x, t = blobs()
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1)
    flow.on_train_begin(model)
    loss = gk.F.softmax_cross_entropy(model(gk.Tensor(x)), t)
    optimizer.zero_grad()
    loss.backward()
    flow.on_batch_end(0, {})
    flow.on_train_end(model)
    assert list(flow.norms) == ["0", "2", "4"]
    first = next(model.children())
    expected = math.sqrt(sum(np.sum(p.grad.data ** 2) for p in first.parameters()))
    assert flow.norms["0"] == [pytest.approx(expected)]
    loss = gk.F.softmax_cross_entropy(model(gk.Tensor(x)), t)
    loss.backward()  # the hooks are gone
    assert flow._squares == {}


def test_fit_keeps_the_norms_in_the_history_and_its_file(tmp_path):
    np.random.seed(0)
    history = train(deep(nn.ReLU, depth=3))
    assert list(history.grad_flow) == ["0", "2", "4"]
    assert all(len(norms) == 8 for norms in history.grad_flow.values())  # 2 epochs x 4 steps
    history.save(tmp_path / "history.json")
    assert History.load(tmp_path / "history.json").grad_flow == history.grad_flow
    assert train(deep(nn.ReLU, depth=3), grad_flow=False).grad_flow == {}


def test_sigmoid_gradients_vanish_towards_the_input_and_relu_ones_do_not():
    np.random.seed(0)
    sigmoid = train(deep(nn.Sigmoid), epochs=1).grad_flow
    np.random.seed(0)
    relu = train(deep(nn.ReLU), epochs=1).grad_flow

    def first_over_last(flow):
        names = list(flow)
        return np.median(flow[names[0]]) / np.median(flow[names[-1]])

    assert first_over_last(sigmoid) < 0.01
    assert first_over_last(relu) > 10 * first_over_last(sigmoid)


def test_the_plot(tmp_path):
    pytest.importorskip("matplotlib")
    np.random.seed(0)
    history = train(deep(nn.ReLU, depth=3))
    path = plot_grad_flow(history, tmp_path / "grad_flow.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="grad_flow=True"):
        plot_grad_flow(History(), tmp_path / "empty.png")
