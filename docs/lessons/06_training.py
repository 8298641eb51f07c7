"""Lesson 6: training by stochastic gradient descent: TinyNet with L2, then TwoLayerNet on
Fashion-MNIST with its learning curves.

Run it: python docs/lessons/06_training.py  (needs Fashion-MNIST: apt-get install
dataset-fashion-mnist, or gk.data.load_mnist(kind="fashion", download=True) once)
"""


import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
import graphkit.train
from models import TwoLayerNet, train_one_iter

# --8<-- [start:one_iter]
# TinyNet's six parameters as plain arrays, and one batch of 8x8 RGB images to learn.
rng = np.random.default_rng(0)
shapes = [(6, 3, 3, 3), (6,), (12, 6, 3, 3), (12,), (48, 10), (10,)]
initial = [0.1 * rng.standard_normal(shape) for shape in shapes]
x = rng.random((16, 3, 8, 8))
t = rng.integers(0, 10, size=16)


def fit_one_batch(weight_decay: float, steps: int) -> tuple[list[float], list[np.ndarray]]:
    """`steps` SGD steps on the same batch; the loss before each step and the final weights."""
    params, losses = initial, []
    for _ in range(steps):
        losses.append(gk.F.softmax_cross_entropy(tinynet_scores(params, x), t).item())
        params = train_one_iter(*params, x, t, learning_rate=0.2, weight_decay=weight_decay)
    return losses, params


def tinynet_scores(params: list[np.ndarray], x: np.ndarray) -> gk.Tensor:
    W1, b1, W2, b2, W_fc, b_fc = params
    h = gk.F.max_pool2d(gk.F.relu(gk.F.conv2d(x, W1, b1, pad=1)), 2)
    h = gk.F.max_pool2d(gk.F.relu(gk.F.conv2d(h, W2, b2, pad=1)), 2)
    return gk.F.linear(h.reshape(len(x), -1), W_fc, b_fc)


plain_losses, plain = fit_one_batch(weight_decay=0.0, steps=150)
decayed_losses, decayed = fit_one_batch(weight_decay=0.01, steps=150)
norm = [np.sqrt(sum(np.sum(p**2) for p in params)) for params in (initial, plain, decayed)]
print(f"loss on the batch: {plain_losses[0]:.3f} -> {plain_losses[-1]:.3f} without L2, "
      f"-> {decayed_losses[-1]:.3f} with L2")
print(f"weight norm: {norm[0]:.2f} at the start, {norm[1]:.2f} without L2, {norm[2]:.2f} with")
assert plain_losses[-1] < 0.1  # it learns (here: memorises) the batch
assert norm[2] < norm[1]  # L2 keeps the weights smaller
# --8<-- [end:one_iter]

figure = Figure(figsize=(5, 3.2), layout="constrained")
axes = figure.subplots()
axes.plot(plain_losses, label="SGD")
axes.plot(decayed_losses, label="SGD with L2 (weight decay 0.01)")
axes.set(title="TinyNet, 150 steps on one batch of 16", xlabel="step", ylabel="loss")
axes.grid(alpha=0.3)
axes.legend(loc="lower left")
figure.savefig(IMAGES / "06_tinynet_one_batch.png", dpi=100)

# --8<-- [start:data]
(x_train, t_train), (x_test, t_test) = gk.data.load_mnist(kind="fashion")  # (N, 784) in [0, 1]
if FAST:  # a small slice, so the test suite runs in seconds
    x_train, t_train, x_test, t_test = x_train[:2000], t_train[:2000], x_test[:500], t_test[:500]
# --8<-- [end:data]

# --8<-- [start:train]
gk.manual_seed(0)
net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
iterations = 600 if FAST else 10000
batch_size, learning_rate = 100, 0.1
iterations_per_epoch = len(x_train) // batch_size
history = gk.train.History()

for i in range(iterations):
    batch = np.random.choice(len(x_train), batch_size)  # a random mini-batch
    grads = net.gradient(x_train[batch], t_train[batch])  # backprop through graphkit
    for key in net.params:
        net.params[key] -= learning_rate * grads[key]  # the SGD step

    if (i + 1) % iterations_per_epoch == 0:  # one epoch's worth of examples seen
        history.log({
            "epoch": (i + 1) // iterations_per_epoch,
            "loss": net.loss(x_train, t_train),
            "accuracy": net.accuracy(x_train, t_train),
            "test_loss": net.loss(x_test, t_test),
            "test_accuracy": net.accuracy(x_test, t_test),
        })  # fmt: skip
        print(", ".join(f"{name} {value[-1]:.4g}" for name, value in history.metrics.items()))
# --8<-- [end:train]

# --8<-- [start:curves]
gk.train.plot_curves(history, IMAGES / "06_twolayernet_curves", formats=["png"])
final = history.last()
assert final["test_accuracy"] > (0.6 if FAST else 0.83)
assert history["loss"][-1] < history["loss"][0]
# --8<-- [end:curves]
print(f"wrote {IMAGES / '06_tinynet_one_batch.png'} and 06_twolayernet_curves.png")
