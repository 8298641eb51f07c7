"""Lesson 11: forward and reverse mode; Newton's method with the Hessian and with hvp.

Run it: python docs/lessons/11_forward_reverse.py
"""

import time

import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
from graphkit.func import grad, hessian, hvp, jacfwd, jacrev, jvp, vjp

# --8<-- [start:both_ways]
rng = np.random.default_rng(0)
A = gk.Tensor(rng.standard_normal((3, 4)))


def f(x: gk.Tensor) -> gk.Tensor:
    """R^4 -> R^3: tanh(A x)."""
    return (A @ x).tanh()


x = rng.standard_normal(4)
by_rows = jacrev(f)(x)  # one vjp per output: 3 backward passes
by_columns = jacfwd(f)(x)  # one jvp per input: 4 forward passes with tangents
print("J =\n", np.round(by_rows.data, 4))
assert by_rows.shape == (3, 4)
assert np.allclose(by_rows.data, by_columns.data, atol=1e-14)
# The closed form: diag(1 - tanh(Ax)^2) A.
assert np.allclose(by_rows.data, (1 - np.tanh(A.data @ x) ** 2)[:, None] * A.data)

# A single jvp is a column direction J v; a single vjp a row direction u J.
v, u = rng.standard_normal(4), rng.standard_normal(3)
_, Jv = jvp(f, (x,), (v,))
_, vjp_fn = vjp(f, x)
(uJ,) = vjp_fn(u)
assert np.allclose(Jv.data, by_rows.data @ v) and np.allclose(uJ.data, u @ by_rows.data)
assert np.isclose(u @ Jv.data, uJ.data @ v)  # u.(J v) = (u J).v: the two modes are adjoint
# --8<-- [end:both_ways]


# --8<-- [start:cost]
def seconds(transform, n_in: int, n_out: int, repeats: int) -> float:
    """Best time of ``transform`` on tanh(W x), W of shape (n_out, n_in)."""
    W = gk.Tensor(np.random.default_rng(1).standard_normal((n_out, n_in)) / np.sqrt(n_in))
    point = np.ones(n_in)
    jacobian = transform(lambda t: (W @ t).tanh())
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jacobian(point)
        best = min(best, time.perf_counter() - start)
    return best


sizes = [1, 4, 16] if FAST else [1, 2, 4, 8, 16, 32, 64]
repeats = 2 if FAST else 5
fixed = 16
cost = {
    (mode, sweep): [
        seconds(transform, n if sweep == "inputs" else fixed, fixed if sweep == "inputs" else n,
                repeats)
        for n in sizes
    ]
    for mode, transform in (("jacrev", jacrev), ("jacfwd", jacfwd))
    for sweep in ("inputs", "outputs")
}
for sweep in ("inputs", "outputs"):
    ratios = np.array(cost["jacfwd", sweep]) / np.array(cost["jacrev", sweep])
    print(f"jacfwd / jacrev time as the {sweep} grow {sizes}: {np.round(ratios, 2)}")
# The passes behind the times: jacfwd runs f once per input, jacrev once in all (then one
# backward pass per output, each running every op's backward once).
calls, backward_steps = [], []
W = gk.Tensor(np.ones((3, 5)))
counted = lambda t: calls.append(1) or (W @ t).tanh()  # noqa: E731
with gk.autograd.observe(lambda op, gy, grads: backward_steps.append(op.name)):
    jacrev(counted)(np.ones(5))
    assert len(calls) == 1 and backward_steps == ["tanh", "matmul"] * 3
    jacfwd(counted)(np.ones(5))
    assert len(calls) == 1 + 5 and len(backward_steps) == 6
if not FAST:  # timings are the full run's (the page's); fast mode only checks the counts
    assert cost["jacfwd", "inputs"][-1] > cost["jacrev", "inputs"][-1]
    assert cost["jacrev", "outputs"][-1] > cost["jacfwd", "outputs"][-1]
# --8<-- [end:cost]


# --8<-- [start:newton]
def rosenbrock(x: gk.Tensor) -> gk.Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def newton(f, x0, tol=1e-10, max_iter=100):
    """x <- x - H^-1 g, with the Hessian from hessian() (forward over reverse)."""
    path = [np.asarray(x0, dtype=float)]
    for _ in range(max_iter):
        x = path[-1]
        g = grad(f)(x).data
        if np.linalg.norm(g) <= tol:
            break
        path.append(x - np.linalg.solve(hessian(f)(x).data, g))
    return np.array(path)


def newton_cg(f, x0, tol=1e-10, max_iter=100):
    """Newton's step by conjugate gradients on H p = -g, touching H only through hvp:
    never forming it, which is what makes Newton's method possible in many dimensions."""
    path = [np.asarray(x0, dtype=float)]
    for _ in range(max_iter):
        x = path[-1]
        g = grad(f)(x).data
        if np.linalg.norm(g) <= tol:
            break
        p, r = np.zeros_like(x), -g
        d = r.copy()
        for _ in range(x.size):
            Hd = hvp(f, x, d)[1].data
            alpha = (r @ r) / (d @ Hd)
            p, r_next = p + alpha * d, r - alpha * Hd
            if np.linalg.norm(r_next) <= 1e-12 * np.linalg.norm(g):
                break
            d, r = r_next + (r_next @ r_next) / (r @ r) * d, r_next
        path.append(x + p)
    return np.array(path)


x0 = [-1.2, 1.0]
exact = newton(rosenbrock, x0)
matrix_free = newton_cg(rosenbrock, x0)
descent = gk.optim.steepest_descent(rosenbrock, x0=x0, tol=1e-4,
                                    max_iter=2000 if FAST else 20000, line_search="armijo")
print(f"Newton (hessian): {len(exact) - 1} steps to {exact[-1]}")
print(f"Newton-CG (hvp):  {len(matrix_free) - 1} steps to {matrix_free[-1]}")
print(f"steepest descent: {descent.n_iter} steps to {descent.x}")
assert np.allclose(exact[-1], [1, 1], atol=1e-8) and len(exact) - 1 <= 10
assert np.allclose(matrix_free, exact, atol=1e-8)  # in 2-D, CG solves H p = -g exactly
assert descent.n_iter > 50 * (len(exact) - 1)
# --8<-- [end:newton]

figure = Figure(figsize=(12, 4.4), layout="constrained")
left, right = figure.subplots(1, 2)
for (mode, sweep), times in cost.items():
    other = "outputs" if sweep == "inputs" else "inputs"
    left.loglog(sizes, np.array(times) * 1e3, "o-" if sweep == "inputs" else "s--",
                color="C0" if mode == "jacrev" else "C1",
                label=f"{mode}: {sweep} grow, {fixed} {other}")
left.set(title="Jacobian of tanh(W x): cost of each mode", xlabel="number of inputs or outputs",
         ylabel="time (ms)")
left.grid(alpha=0.3, which="both")
left.legend(fontsize=8)
u_grid, v_grid = np.meshgrid(np.linspace(-1.6, 1.6, 321), np.linspace(-3.5, 1.6, 511))
right.contour(u_grid, v_grid, (1 - u_grid) ** 2 + 100 * (v_grid - u_grid**2) ** 2,
              levels=np.geomspace(0.01, 2000, 17), cmap="viridis")
descent_path = np.array(descent.path)
right.plot(descent_path[:, 0], descent_path[:, 1], "-", color="gray", linewidth=1,
           label=f"steepest descent (Armijo): {descent.n_iter} steps")
right.plot(exact[:, 0], exact[:, 1], "o-", color="crimson",
           label=f"Newton, hessian(): {len(exact) - 1} steps")
right.plot(matrix_free[:, 0], matrix_free[:, 1], "x", color="black", markersize=9,
           label="Newton-CG, hvp(): the same steps")
right.plot(1, 1, "*", color="black", markersize=12)
right.set(title="Rosenbrock from (-1.2, 1)", xlabel="$x_1$", ylabel="$x_2$")
right.legend(fontsize=8, loc="lower right")
figure.savefig(IMAGES / "11_forward_reverse.png", dpi=100)
print(f"wrote {IMAGES / '11_forward_reverse.png'}")
