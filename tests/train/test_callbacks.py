"""EarlyStopping on scripted metric sequences: when it stops, which weights it keeps."""

import numpy as np
import pytest

from graphkit import nn
from graphkit.train import EarlyStopping


def run_script(stopper, model, values, monitor="val_loss"):
    """Feed one value per epoch, marking the weights with the epoch number first.

    Returns the epoch at which the callback asked to stop, or None.
    """
    stopper.on_train_begin(model)
    for epoch, value in enumerate(values, start=1):
        model.weight.data[...] = epoch
        if stopper.on_epoch_end(epoch, {monitor: value}):
            return epoch
    return None


@pytest.fixture
def model():
    return nn.Linear(2, 3)


def test_stops_after_patience_epochs_without_improvement(model):
    stopper = EarlyStopping(patience=2)
    assert run_script(stopper, model, [1.0, 0.5, 0.6, 0.7, 0.1]) == 4
    assert (stopper.best, stopper.best_epoch) == (0.5, 2)


def test_an_improvement_resets_the_wait(model):
    stopper = EarlyStopping(patience=2)
    assert run_script(stopper, model, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.95]) == 7
    assert stopper.best_epoch == 5


def test_equal_values_are_no_improvement(model):
    assert run_script(EarlyStopping(patience=2), model, [1.0, 1.0, 1.0]) == 3


def test_nan_is_never_an_improvement(model):
    stopper = EarlyStopping(patience=2)
    assert run_script(stopper, model, [float("nan"), 2.0, float("nan"), float("nan")]) == 4
    assert stopper.best_epoch == 2


def test_restores_the_best_weights_at_the_end(model):
    stopper = EarlyStopping(patience=2)
    run_script(stopper, model, [1.0, 0.5, 0.6, 0.7])
    np.testing.assert_array_equal(model.weight.data, 4)
    stopper.on_train_end(model)
    np.testing.assert_array_equal(model.weight.data, 2)


def test_keeps_the_last_weights_without_restore_best(model):
    stopper = EarlyStopping(patience=2, restore_best=False)
    run_script(stopper, model, [1.0, 0.5, 0.6, 0.7])
    stopper.on_train_end(model)
    np.testing.assert_array_equal(model.weight.data, 4)
    assert stopper.best_weights is None


def test_mode_max_follows_a_rising_metric(model):
    stopper = EarlyStopping(monitor="val_accuracy", mode="max", patience=1)
    assert run_script(stopper, model, [0.5, 0.7, 0.6], monitor="val_accuracy") == 3
    stopper.on_train_end(model)
    assert stopper.best == 0.7
    np.testing.assert_array_equal(model.weight.data, 2)


def test_state_dict_round_trip_resumes_where_it_stopped(model):
    first = EarlyStopping(patience=3)
    run_script(first, model, [1.0, 0.5, 0.6])
    state = first.state_dict()
    model.weight.data[...] = -1  # the saved best weights are a copy, not a view
    resumed = EarlyStopping(patience=3)
    resumed.load_state_dict(state)
    resumed.on_train_begin(model)
    assert resumed.on_epoch_end(4, {"val_loss": 0.7}) is False
    assert resumed.on_epoch_end(5, {"val_loss": 0.8}) is True
    resumed.on_train_end(model)
    np.testing.assert_array_equal(model.weight.data, 2)
    assert resumed.state_dict()["best_epoch"] == 2


def test_missing_metric_names_what_was_logged(model):
    stopper = EarlyStopping()
    stopper.on_train_begin(model)
    with pytest.raises(KeyError, match=r"val_loss.*\['loss'\]"):
        stopper.on_epoch_end(1, {"loss": 1.0})


@pytest.mark.parametrize(
    ("options", "message"), [({"mode": "lowest"}, "mode"), ({"patience": 0}, "patience")]
)
def test_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**options)
