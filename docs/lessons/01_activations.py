"""Lesson 1: activation functions, and their derivatives computed by autograd.

Run it: python docs/lessons/01_activations.py
"""


import numpy as np
from _lesson import IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk

# --8<-- [start:derivatives]
ACTIVATIONS = {"sigmoid": gk.F.sigmoid, "tanh": gk.F.tanh, "ReLU": gk.F.relu, "step": gk.F.step}


def value_and_derivative(activation, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """activation(x) and its derivative at every point of x, the derivative by backprop."""
    x = gk.Tensor(x, requires_grad=True)
    y = activation(x)
    # Each y[i] depends on x[i] only, so d(sum(y))/dx[i] = dy[i]/dx[i]: one backward pass
    # gives the derivative at every point at once.
    y.sum().backward()
    return y.numpy(), x.grad.numpy()


x = np.linspace(-8, 8, 1601)
curves = {name: value_and_derivative(f, x) for name, f in ACTIVATIONS.items()}
# --8<-- [end:derivatives]

# --8<-- [start:checks]
sigmoid, sigmoid_derivative = curves["sigmoid"]
tanh, tanh_derivative = curves["tanh"]
# Autograd agrees with the textbook formulas.
assert np.allclose(sigmoid_derivative, sigmoid * (1 - sigmoid), rtol=0, atol=1e-12)
assert np.allclose(tanh_derivative, 1 - tanh**2, rtol=0, atol=1e-12)
assert np.array_equal(curves["ReLU"][1], (x > 0).astype(float))  # relu'(0) = 0
assert not curves["step"][1].any()  # step is flat everywhere: no gradient to learn from
# The largest slopes, at x = 0: sigmoid 1/4, tanh 1.
assert np.isclose(sigmoid_derivative.max(), 0.25) and np.isclose(tanh_derivative.max(), 1.0)

# Saturation: where the slope is below 1% of its largest value, a gradient passing through
# is all but stopped.
for name in ("sigmoid", "tanh"):
    slope = curves[name][1]
    saturated = x[slope < 0.01 * slope.max()]
    edge = saturated[saturated > 0].min()
    print(f"{name:7s} saturates for |x| > {edge:.1f}  (slope at x = 8: {slope[-1]:.1e})")
# --8<-- [end:checks]

figure = Figure(figsize=(9, 3.6), layout="constrained")
left, right = figure.subplots(1, 2, sharex=True)
for name, (y, dy) in curves.items():
    left.plot(x, y, label=name)
    right.plot(x, dy, label=name)
left.set(title="activation  $h(x)$", xlabel="$x$", ylim=(-1.2, 2.2))
right.set(title="derivative  $h'(x)$, by backprop", xlabel="$x$", ylim=(-0.1, 1.1))
for axes in (left, right):
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
figure.savefig(IMAGES / "01_activations.png", dpi=100)
print(f"wrote {IMAGES / '01_activations.png'}")
