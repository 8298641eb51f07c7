"""Lesson 7: regularization on Fashion-MNIST: L2, dropout, data augmentation, early stopping.

Run it: python docs/lessons/07_regularization.py  (needs Fashion-MNIST: apt-get install
dataset-fashion-mnist, or gk.data.load_mnist(kind="fashion", download=True) once)

The full run repeats `python -m graphkit.cli.experiments regularization` (the same five
runs, the same settings and seeds) with gk.train.fit, and draws their curves.
"""


import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed
from matplotlib.ticker import MaxNLocator

import graphkit as gk
import graphkit.train
from models import MLP

TRAIN_EXAMPLES = 500 if FAST else 10000  # few enough to overfit
TEST_EXAMPLES = 1000 if FAST else 10000
EPOCHS = 3 if FAST else 30
SEED = 0

(x_all, t_all), (x_test, t_test) = gk.data.load_mnist(kind="fashion", flatten=False)
x_train, t_train = x_all[:TRAIN_EXAMPLES], t_all[:TRAIN_EXAMPLES]
x_test, t_test = x_test[:TEST_EXAMPLES], t_test[:TEST_EXAMPLES]
test_loader = gk.data.DataLoader(x_test, t_test, batch_size=256, shuffle=False)


# --8<-- [start:experiment]
def experiment(weight_decay=0.0, dropout=0.0, augment=False, patience=None):
    """Train a 784-100-100-10 ReLU network; return it and its History."""
    x, t = x_train, t_train
    evaluate_on = {"test": test_loader}
    callbacks = []
    if patience is not None:  # early stopping watches a validation split, never the test set
        (x, t), (x_val, t_val) = gk.data.train_test_split(x, t, train=0.9, seed=SEED)
        evaluate_on = {"val": gk.data.DataLoader(x_val, t_val, 256, shuffle=False), **evaluate_on}
        callbacks.append(gk.train.EarlyStopping(monitor="val_loss", patience=patience))
    # Augmentation: every epoch sees each image turned by up to 10 degrees and moved by up
    # to 2 pixels, drawn afresh.
    transform = None
    if augment:
        transform = gk.data.Compose([gk.data.RandomRotation(10), gk.data.RandomShift(2)])
    train_loader = gk.data.DataLoader(x, t, 32, shuffle=True, transform=transform, seed=SEED)

    gk.manual_seed(SEED)  # the same initial weights (and dropout masks) for every experiment
    model = gk.nn.Sequential(gk.nn.Flatten(), MLP([784, 100, 100, 10], dropout=dropout))
    optimizer = gk.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=weight_decay)
    history = gk.train.fit(model, gk.F.softmax_cross_entropy, optimizer, train_loader,
                           val_loader=evaluate_on, epochs=EPOCHS, callbacks=callbacks,
                           progress=False)
    return model, history


EXPERIMENTS = {
    "baseline": {},
    "L2": {"weight_decay": 1e-3},
    "dropout": {"dropout": 0.3},
    "augmentation": {"augment": True},
    "early stopping": {"patience": 3},
}
results = {}
for name, options in EXPERIMENTS.items():
    print(f"== {name} {options}")
    model, history = experiment(**options)
    test_accuracy = gk.metrics.accuracy(gk.train.predict(model, x_test), t_test)
    results[name] = (model, history, test_accuracy)
# --8<-- [end:experiment]

# --8<-- [start:table]
print("| experiment | epochs run | train accuracy (last epoch) | test accuracy |")
print("| --- | ---: | ---: | ---: |")
for name, (_, history, test_accuracy) in results.items():
    print(f"| {name} | {len(history)} | {history['accuracy'][-1]:.4f} | {test_accuracy:.4f} |")
# --8<-- [end:table]

figure = Figure(figsize=(13, 4.4), layout="constrained")
loss_axes, accuracy_axes, gap_axes = figure.subplots(1, 3)
for name, (_, history, _) in results.items():
    epochs = history["epoch"]
    loss_axes.plot(epochs, history["test_loss"], label=name)
    accuracy_axes.plot(epochs, history["test_accuracy"])
    gap_axes.plot(epochs, np.subtract(history["accuracy"], history["test_accuracy"]))
loss_axes.set(title="test loss", xlabel="epoch")
accuracy_axes.set(title="test accuracy", xlabel="epoch")
gap_axes.set(title="train accuracy - test accuracy", xlabel="epoch")
for axes in (loss_axes, accuracy_axes, gap_axes):
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
figure.legend(loc="outside lower center", ncols=len(results))
figure.savefig(IMAGES / "07_regularization.png", dpi=100)
print(f"wrote {IMAGES / '07_regularization.png'}")

# --8<-- [start:checks]
def weight_norm(model):
    return np.sqrt(sum(np.sum(p.numpy() ** 2) for p in model.parameters()))


def overfitting_gap(name):
    """Training accuracy minus test accuracy in the last epoch."""
    history = results[name][1]
    return history["accuracy"][-1] - history["test_accuracy"][-1]


assert all(accuracy > (0.55 if FAST else 0.75) for *_, accuracy in results.values())
assert weight_norm(results["L2"][0]) < weight_norm(results["baseline"][0])  # smaller weights
# Each regularizer narrows the gap between training and test accuracy.
for name in ("dropout", "augmentation") if FAST else ("L2", "dropout", "augmentation"):
    assert overfitting_gap(name) < overfitting_gap("baseline")
# Dropout is random in training mode and switched off in eval mode.
dropout, batch = results["dropout"][0], gk.Tensor(x_test[:8])
assert not np.allclose(dropout.train()(batch).numpy(), dropout(batch).numpy())
assert np.array_equal(dropout.eval()(batch).numpy(), dropout(batch).numpy())
# Early stopping hands back the weights of the epoch with the lowest validation loss.
history = results["early stopping"][1]
best_epoch = int(np.argmin(history["val_loss"]))
assert np.isclose(results["early stopping"][2], history["test_accuracy"][best_epoch])
print(f"early stopping: best validation loss at epoch {best_epoch + 1} of {len(history)}")
# --8<-- [end:checks]
