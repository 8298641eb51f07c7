"""Lesson 2: the McCulloch-Pitts neuron, logic gates, and why XOR needs a hidden layer.

Run it: python docs/lessons/02_mp_neuron.py
"""


import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
from models import MPNeuron

# --8<-- [start:gates]
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
AND_TRUTH = np.array([0, 0, 0, 1])
OR_TRUTH = np.array([0, 1, 1, 1])
XOR_TRUTH = np.array([0, 1, 1, 0])

AND = MPNeuron(w=(0.5, 0.5), b=-0.7)  # fires only when both inputs are on: 1.0 > 0.7
OR = MPNeuron(w=(0.5, 0.5), b=-0.2)  # fires when either is on: 0.5 > 0.2
NAND = MPNeuron(w=(-0.5, -0.5), b=0.7)  # AND with every sign flipped
assert np.array_equal(AND(INPUTS), AND_TRUTH)
assert np.array_equal(OR(INPUTS), OR_TRUTH)
assert np.array_equal(NAND(INPUTS), 1 - AND_TRUTH)
# --8<-- [end:gates]

# --8<-- [start:no_single_neuron]
# Try every neuron on a grid of weights and thresholds: many compute AND or OR, none XOR.
grid = np.linspace(-2, 2, 41)
w1, w2, b = (axis.ravel() for axis in np.meshgrid(grid, grid, grid))
outputs = gk.F.step(INPUTS @ np.stack([w1, w2]) + b).numpy()  # (4 inputs, 68921 neurons)
counts = {
    name: int((outputs == truth[:, None]).all(axis=0).sum())
    for name, truth in {"AND": AND_TRUTH, "OR": OR_TRUTH, "XOR": XOR_TRUTH}.items()
}
print(f"of {w1.size} single neurons: {counts}")
assert counts["AND"] > 0 and counts["OR"] > 0 and counts["XOR"] == 0
# --8<-- [end:no_single_neuron]

# --8<-- [start:wired_xor]
# Two layers of M-P neurons do it: XOR(x) = AND(OR(x), NAND(x)).
hidden = np.stack([OR(INPUTS), NAND(INPUTS)], axis=1)
assert np.array_equal(AND(hidden), XOR_TRUTH)
# --8<-- [end:wired_xor]


# --8<-- [start:train_xor]
def train_xor(seed: int, steps: int = 2000) -> tuple[gk.nn.Module, float]:
    """A 2-2-1 network (tanh hidden layer, sigmoid output) trained on XOR by SGD."""
    gk.manual_seed(seed)
    net = gk.nn.Sequential(
        gk.nn.Linear(2, 2, init="xavier"),
        gk.nn.Tanh(),
        gk.nn.Linear(2, 1, init="xavier"),
        gk.nn.Sigmoid(),
    )
    optimizer = gk.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    for _ in range(steps):
        prediction = net(gk.Tensor(INPUTS)).reshape(4)
        loss = gk.F.mse(prediction, XOR_TRUTH)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net, loss.item()


def predict(net: gk.nn.Module, x: np.ndarray) -> np.ndarray:
    with gk.no_grad():
        return net(gk.Tensor(x)).numpy().reshape(len(x))


net, loss = train_xor(seed=3)
learned = (predict(net, INPUTS) > 0.5).astype(int)
print(f"2-2-1 net after training: loss {loss:.1e}, outputs {learned}")
assert np.array_equal(learned, XOR_TRUTH)
# --8<-- [end:train_xor]

# --8<-- [start:restarts]
# Two hidden units are just enough, and the loss surface has local minima: some random
# starts end answering 0.5 for two of the four inputs, which they cannot tell apart.
seeds = range(4 if FAST else 20)
solved = sum(
    np.array_equal(predict(train_xor(seed)[0], INPUTS) > 0.5, XOR_TRUTH) for seed in seeds
)
print(f"{solved} of {len(seeds)} random starts learned XOR")
# --8<-- [end:restarts]

# The picture: the line each M-P gate draws, and the regions the trained net carves.
figure = Figure(figsize=(10, 3.4), layout="constrained")
side = np.linspace(-0.25, 1.25, 151)
plane = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
panels = [
    ("AND: one neuron", AND(plane), AND_TRUTH),
    ("OR: one neuron", OR(plane), OR_TRUTH),
    ("XOR: trained 2-2-1 net", predict(net, plane), XOR_TRUTH),
]
for axes, (title, value, truth) in zip(figure.subplots(1, 3), panels):
    image = axes.contourf(side, side, value.reshape(len(side), len(side)), levels=20,
                          cmap="coolwarm", vmin=0, vmax=1)
    axes.contour(side, side, value.reshape(len(side), len(side)), levels=[0.5], colors="k")
    axes.scatter(INPUTS[:, 0], INPUTS[:, 1], c=truth, cmap="coolwarm", vmin=0, vmax=1,
                 edgecolors="k", s=80, zorder=3)
    axes.set(title=title, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
figure.colorbar(image, ax=figure.axes, shrink=0.8, label="output")
figure.savefig(IMAGES / "02_gates.png", dpi=100)
print(f"wrote {IMAGES / '02_gates.png'}")
