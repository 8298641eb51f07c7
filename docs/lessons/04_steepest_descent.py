"""Lesson 4: steepest descent with an exact line search, and with Armijo's on Rosenbrock.

Run it: python docs/lessons/04_steepest_descent.py
"""


import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk


# --8<-- [start:quadratic]
def quadratic(x: gk.Tensor) -> gk.Tensor:
    """f(x) = 2 x1^2 + x2^2, written with graphkit ops so the engine can differentiate it."""
    return 2 * x[0] ** 2 + x[1] ** 2


result = gk.optim.steepest_descent(quadratic, x0=[1.0, 1.0], tol=1e-6, line_search="exact")
print(f"exact line search: {result.n_iter} steps to x = {result.x}, f = {result.fun:.1e}")
for k, x in enumerate(result.path[:5]):
    print(f"  x_{k} = ({x[0]: .6f}, {x[1]: .6f})")
# --8<-- [end:quadratic]

# --8<-- [start:quadratic_checks]
path = np.array(result.path)
assert result.converged and np.allclose(result.x, 0, atol=1e-6)
assert np.allclose(path[1], [-1 / 9, 4 / 9])  # t_0 = g.g / g.Ag = 20/72 by hand
gradients = path * [4, 2]  # grad f(x) = (4 x1, 2 x2)
# Exact line search stops where the new gradient is orthogonal to the old one: a zig-zag.
turns = np.sum(gradients[1:] * gradients[:-1], axis=1)
assert np.allclose(turns, 0, atol=1e-12)
# Every step cuts f by the same factor, 2/27, within the Kantorovich bound ((k-1)/(k+1))^2 = 1/9.
values = np.array([quadratic(gk.Tensor(x)).item() for x in result.path])
ratios = values[1:] / values[:-1]
assert np.allclose(ratios, 2 / 27) and ratios.max() <= 1 / 9
# --8<-- [end:quadratic_checks]


# --8<-- [start:rosenbrock]
def rosenbrock(x: gk.Tensor) -> gk.Tensor:
    """A long curved valley with its minimum f = 0 at (1, 1)."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


banana = gk.optim.steepest_descent(
    rosenbrock, x0=[-1.2, 1.0], tol=1e-4, max_iter=1000 if FAST else 20000, line_search="armijo"
)
print(f"Armijo on Rosenbrock: {banana.n_iter} steps to x = {banana.x}, f = {banana.fun:.1e}")
assert banana.fun < 1e-3  # from f(x0) = 24.2
if not FAST:
    assert banana.converged and np.allclose(banana.x, [1, 1], atol=1e-3)
# --8<-- [end:rosenbrock]

figure = Figure(figsize=(13, 4.2), layout="constrained")
left, right, progress = figure.subplots(1, 3)
grid = np.linspace(-1.2, 1.2, 241)
x1, x2 = np.meshgrid(grid, grid)
left.contour(x1, x2, 2 * x1**2 + x2**2, levels=np.geomspace(1e-3, 4, 14), cmap="viridis")
left.plot(path[:, 0], path[:, 1], "o-", color="crimson", markersize=4)
left.set(title=f"$2x_1^2 + x_2^2$, exact line search: {result.n_iter} steps",
         xlabel="$x_1$", ylabel="$x_2$", aspect="equal")

u, v = np.meshgrid(np.linspace(-1.6, 1.6, 321), np.linspace(-0.6, 1.6, 221))
right.contour(u, v, (1 - u) ** 2 + 100 * (v - u**2) ** 2, levels=np.geomspace(0.01, 500, 15),
              cmap="viridis")
banana_path = np.array(banana.path)
right.plot(banana_path[:, 0], banana_path[:, 1], "-", color="crimson", linewidth=1)
right.plot(*banana_path[0], "o", color="crimson")
right.plot(1, 1, "*", color="black", markersize=12)
right.set(title=f"Rosenbrock, Armijo backtracking: {banana.n_iter} steps",
          xlabel="$x_1$", ylabel="$x_2$")
banana_values = [rosenbrock(gk.Tensor(x)).item() for x in banana.path]
progress.loglog(np.arange(1, len(values) + 1), values, label="quadratic, exact")
progress.loglog(np.arange(1, len(banana_values) + 1), banana_values, label="Rosenbrock, Armijo")
progress.set(title="$f(x_k)$", xlabel="iteration $k + 1$")
progress.grid(alpha=0.3, which="both")
progress.legend()
figure.savefig(IMAGES / "04_steepest_descent.png", dpi=100)
print(f"wrote {IMAGES / '04_steepest_descent.png'}")
