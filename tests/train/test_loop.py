"""fit, evaluate and predict on a tiny problem: two Gaussian blobs in the plane."""

import sys

import numpy as np
import pytest

import graphkit as gk
from graphkit import nn
from graphkit.data import DataLoader
from graphkit.train import Callback, EarlyStopping, History, evaluate, fit, predict


@pytest.fixture
def blobs():
    """x (200, 2) float64, t (200,): class 0 around (-2, -2), class 1 around (2, 2)."""
    rng = np.random.default_rng(0)
    t = np.repeat([0, 1], 100)
    x = rng.normal(size=(200, 2)) + np.where(t[:, None] == 1, 2.0, -2.0)
    return x, t


@pytest.fixture
def model():
    np.random.seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def train(model, blobs, **options):
    x, t = blobs
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(x, t, batch_size=20, seed=0)
    options.setdefault("progress", False)
    return fit(model, gk.F.softmax_cross_entropy, optimizer, loader, **options)


class Probe(nn.Module):
    """Records, for every call, whether it was in training mode and recording the graph."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, gk.is_grad_enabled()))
        return self.inner(x)


class InterruptAt(Callback):
    """Raises KeyboardInterrupt at one batch of one epoch, as Ctrl-C would."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch, self.seen_epochs = epoch, batch, 0

    def on_batch_end(self, batch, metrics):
        if self.seen_epochs + 1 == self.epoch and batch == self.batch:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, metrics):
        self.seen_epochs = epoch
        return False


def test_fit_reduces_the_loss_and_learns(model, blobs):
    history = train(model, blobs, epochs=5)
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["accuracy"][-1] >= 0.95
    assert history.stop_reason is None


def test_history_has_one_entry_per_epoch_for_each_metric(model, blobs):
    x, t = blobs
    history = train(model, blobs, epochs=3, val_loader=DataLoader(x, t, 50, shuffle=False))
    assert set(history) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert len(history) == 3
    assert history["epoch"] == [1, 2, 3]
    assert all(len(history[name]) == 3 for name in history)


def test_named_evaluation_splits_prefix_their_metrics(model, blobs):
    x, t = blobs
    loader = DataLoader(x, t, 50, shuffle=False)
    history = train(model, blobs, epochs=1, val_loader={"val": loader, "test": loader})
    assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= set(history)
    assert history["val_loss"] == history["test_loss"]


def test_validation_runs_in_eval_mode_without_recording(model, blobs):
    x, t = blobs
    probe = Probe(model)
    train(probe, blobs, epochs=1, val_loader=DataLoader(x, t, 100, shuffle=False))
    assert probe.calls == [(True, True)] * 10 + [(False, False)] * 2
    assert probe.training


def test_validation_metrics_match_evaluate(model, blobs):
    x, t = blobs
    val_loader = DataLoader(x, t, 64, shuffle=False)
    history = train(model, blobs, epochs=2, val_loader=val_loader)
    measured = evaluate(model, gk.F.softmax_cross_entropy, val_loader)
    assert measured["loss"] == pytest.approx(history["val_loss"][-1])
    expected_accuracy = gk.metrics.accuracy(predict(model, x, batch_size=7), t)
    assert measured["accuracy"] == pytest.approx(expected_accuracy)


def test_evaluate_and_predict_restore_eval_mode(model, blobs):
    x, t = blobs
    model.eval()
    evaluate(model, gk.F.softmax_cross_entropy, DataLoader(x, t, 50))
    predict(model, x)
    assert not model.training


def test_predict_returns_every_row(model, blobs):
    x, _ = blobs
    scores = predict(model, x, batch_size=64)
    assert scores.shape == (200, 2)
    np.testing.assert_allclose(scores, model(x).data)


def test_ctrl_c_returns_the_history_of_finished_epochs(model, blobs):
    history = train(model, blobs, epochs=5, callbacks=[InterruptAt(epoch=3, batch=4)])
    assert history.stop_reason == "interrupted"
    assert history["epoch"] == [1, 2]


def test_ctrl_c_restores_the_best_weights(model, blobs):
    x, t = blobs
    stopper = EarlyStopping(monitor="val_loss", patience=10)
    callbacks = [stopper, InterruptAt(epoch=4, batch=2)]
    val_loader = DataLoader(x, t, 50, shuffle=False)
    history = train(model, blobs, epochs=10, val_loader=val_loader, callbacks=callbacks)
    assert history.stop_reason == "interrupted"
    assert len(history) == 3
    best = history["val_loss"][stopper.best_epoch - 1]
    assert evaluate(model, gk.F.softmax_cross_entropy, val_loader)["loss"] == pytest.approx(best)


def test_early_stopping_ends_training(model, blobs):
    # The epoch number only grows, so in "min" mode the first epoch stays the best.
    stopper = EarlyStopping(monitor="epoch", mode="min", patience=2)
    history = train(model, blobs, epochs=10, callbacks=[stopper])
    assert history.stop_reason == "early stopping"
    assert len(history) == 3
    assert stopper.best_epoch == 1


def test_a_given_history_is_continued(model, blobs):
    first = train(model, blobs, epochs=2)
    resumed = train(model, blobs, epochs=4, history=first)
    assert resumed is first
    assert resumed["epoch"] == [1, 2, 3, 4]


def test_plain_lines_without_progress_bar(model, blobs, capsys):
    train(model, blobs, epochs=2, progress=False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert "loss" in lines[0]
    assert "accuracy" in lines[0]


def test_plain_lines_when_tqdm_is_missing(model, blobs, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    train(model, blobs, epochs=1, progress=True)
    assert capsys.readouterr().out.startswith("epoch 1/1: loss ")


def test_progress_bar_shows_loss_and_accuracy(model, blobs, capsys):
    pytest.importorskip("tqdm")
    train(model, blobs, epochs=1, progress=True)
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err
    assert "loss" in captured.err
    assert "accuracy" in captured.err
    assert captured.out == ""


def test_history_saves_and_loads(model, blobs, tmp_path):
    history = train(model, blobs, epochs=2)
    history.save(tmp_path / "history.json")
    loaded = History.load(tmp_path / "history.json")
    assert loaded.metrics == history.metrics
    assert loaded.stop_reason is None
    assert list(tmp_path.iterdir()) == [tmp_path / "history.json"]


def test_empty_loader_is_an_error(model):
    loader = DataLoader(np.zeros((0, 2)), np.zeros(0, dtype=int), batch_size=4)
    optimizer = gk.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, gk.F.softmax_cross_entropy, optimizer, loader)
