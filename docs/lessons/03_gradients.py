"""Lesson 3: the numerical gradient against backpropagation: the error and the time.

Run it: python docs/lessons/03_gradients.py
"""

import time

import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
from models import TwoLayerNet


# --8<-- [start:relative_error]
def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||): 0 when equal, 1 when opposite, scale-free."""
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
# --8<-- [end:relative_error]


# --8<-- [start:one_function]
def f(x: gk.Tensor) -> gk.Tensor:
    return (x.tanh() * x.exp()).sum()


point = np.array([-1.0, 0.5, 2.0])
x = gk.Tensor(point, requires_grad=True)
f(x).backward()
backprop = x.grad.numpy()
numerical = gk.testing.numerical_gradient(lambda a: f(gk.Tensor(a)).item(), point.copy())
print(f"backprop  {backprop}\nnumerical {numerical}")
print(f"relative error {relative_error(backprop, numerical):.1e}")
assert relative_error(backprop, numerical) < 1e-6
# --8<-- [end:one_function]

# --8<-- [start:step_sizes]
# How the numerical gradient's error depends on the step: truncation shrinks with eps,
# rounding grows as 1/eps.
steps = np.logspace(-13, -1, 49)
central_errors, forward_errors = [], []
for eps in steps:
    central = gk.testing.numerical_gradient(lambda a: f(gk.Tensor(a)).item(), point.copy(), eps)
    forward = np.array([(f(gk.Tensor(point + eps * e)).item() - f(gk.Tensor(point)).item()) / eps
                        for e in np.eye(len(point))])
    central_errors.append(relative_error(central, backprop))
    forward_errors.append(relative_error(forward, backprop))
best = steps[np.argmin(central_errors)]
print(f"central differences are most accurate near eps = {best:.0e}")
assert 1e-7 < best < 1e-3  # around the cube root of machine epsilon, 6e-6
# --8<-- [end:step_sizes]

# --8<-- [start:two_layer_net]
def timed(function, *args, repeat: int = 1):
    """function(*args) and its best wall-clock time over `repeat` calls, in seconds."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args)
        seconds.append(time.perf_counter() - started)
    return result, min(seconds)


np.random.seed(0)
x_batch = np.random.rand(3, 784)  # three "images"; their content does not matter here
t_batch = np.array([2, 7, 9])
hidden_sizes = (5,) if FAST else (5, 10, 20, 50)
timings = []
for hidden in hidden_sizes:
    net = TwoLayerNet(input_size=784, hidden_size=hidden, output_size=10)
    grad_backprop, backprop_seconds = timed(net.gradient, x_batch, t_batch, repeat=20)
    grad_numerical, numerical_seconds = timed(net.numerical_gradient, x_batch, t_batch)

    n_params = sum(p.size for p in net.params.values())
    timings.append((n_params, backprop_seconds, numerical_seconds))
    print(f"TwoLayerNet(784, {hidden}, 10), {n_params} parameters: backprop "
          f"{backprop_seconds * 1e3:.2f} ms, numerical {numerical_seconds:.2f} s "
          f"({numerical_seconds / backprop_seconds:,.0f}x slower)")
    for key in net.params:
        error = relative_error(grad_backprop[key], grad_numerical[key])
        print(f"    {key}: relative error {error:.1e}")
        assert error < 1e-6
# --8<-- [end:two_layer_net]

figure = Figure(figsize=(10, 3.8), layout="constrained")
left, right = figure.subplots(1, 2)
left.loglog(steps, central_errors, "o-", markersize=3, label="central $(f(x+h)-f(x-h))/2h$")
left.loglog(steps, forward_errors, "s-", markersize=3, label="forward $(f(x+h)-f(x))/h$")
left.set(title="numerical gradient vs backprop", xlabel="step $h$",
         ylabel="relative error")
left.grid(alpha=0.3, which="both")
left.legend()
params, backprop_times, numerical_times = np.array(timings).T
right.semilogy(params, numerical_times, "o-", label="numerical gradient")
right.semilogy(params, backprop_times, "o-", label="backprop")
right.set(title="time for one gradient of TwoLayerNet", xlabel="parameters",
          ylabel="seconds")
right.grid(alpha=0.3, which="both")
right.legend()
figure.savefig(IMAGES / "03_gradients.png", dpi=100)
print(f"wrote {IMAGES / '03_gradients.png'}")
