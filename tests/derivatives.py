"""Checks of an op's forward-mode and second-order rules, shared by the op tests.

``assert_forward_mode`` compares ``gk.func.jvp`` with central differences along a random
direction and with reverse mode through the identity u·(J v) = (Jᵀ u)·v.
``assert_second_order`` differentiates the gradient (create_graph) and compares it with
central differences of the first derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import graphkit as gk
from graphkit.func import jvp


def _checked(inputs: Sequence[object]) -> list[int]:
    return [i for i, x in enumerate(inputs) if isinstance(x, gk.Tensor) and x.requires_grad]


def _with(inputs: Sequence[object], arrays: dict[int, np.ndarray]) -> list[object]:
    return [gk.Tensor(arrays[i]) if i in arrays else x for i, x in enumerate(inputs)]


def assert_forward_mode(
    fn: Callable[..., gk.Tensor],
    inputs: Sequence[object],
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """jvp of ``fn`` at ``inputs`` (its Tensors that require grad) against central
    differences and against reverse mode."""
    rng = np.random.default_rng(seed)
    checked = _checked(inputs)
    assert checked, "mark the inputs to differentiate with requires_grad=True"
    tangents = [rng.standard_normal(inputs[i].shape) for i in checked]

    def function(*xs):
        return fn(*_replace(inputs, checked, xs))

    out, jv = jvp(function, tuple(inputs[i] for i in checked), tuple(tangents))
    assert jv.shape == out.shape, (jv.shape, out.shape)
    assert jv.dtype == out.dtype, (jv.dtype, out.dtype)

    with gk.no_grad():
        plus = fn(*_with(inputs, {i: inputs[i].data + eps * t for i, t in zip(checked, tangents)}))
        minus = fn(*_with(inputs, {i: inputs[i].data - eps * t for i, t in zip(checked, tangents)}))
    numeric = (plus.data - minus.data) / (2 * eps)
    np.testing.assert_allclose(jv.data, numeric, rtol=rtol, atol=atol, err_msg="jvp vs central")

    fresh = [gk.Tensor(x.data.copy(), requires_grad=True) if i in checked else x
             for i, x in enumerate(inputs)]
    y = fn(*fresh)
    u = rng.standard_normal(y.shape)
    grads = [None] * len(checked)
    if y.requires_grad:
        grads = gk.grad(y, [fresh[i] for i in checked], grad_outputs=u, allow_unused=True)
    reverse = sum(0.0 if g is None else float(np.sum(g.data * t)) for g, t in zip(grads, tangents))
    forward = float(np.sum(u * jv.data))
    np.testing.assert_allclose(forward, reverse, rtol=rtol, atol=atol,
                               err_msg="u·(J v) vs (Jᵀ u)·v")


def _replace(inputs: Sequence[object], checked: list[int], xs: Sequence[object]) -> list[object]:
    replaced = list(inputs)
    for i, x in zip(checked, xs):
        replaced[i] = x
    return replaced


def assert_second_order(
    fn: Callable[..., gk.Tensor],
    inputs: Sequence[object],
    eps: float = 1e-6,
    rtol: float = 1e-3,
    atol: float = 1e-5,
    seed: int = 1,
) -> None:
    """Reverse over reverse: d/dx of r·grad(w·fn)(x), against central differences of it."""
    rng = np.random.default_rng(seed)
    checked = _checked(inputs)
    out = fn(*inputs)
    w = rng.standard_normal(out.shape)

    def first(arrays: dict[int, np.ndarray], create_graph: bool):
        xs = [gk.Tensor(arrays[i], requires_grad=True) if i in checked else x
              for i, x in enumerate(inputs)]
        y = fn(*xs)
        if not y.requires_grad:
            return xs, [None] * len(checked)
        return xs, list(gk.grad(y, [xs[i] for i in checked], grad_outputs=w,
                                create_graph=create_graph, allow_unused=True))

    base = {i: inputs[i].data.copy() for i in checked}
    xs, grads = first(base, create_graph=True)
    rs = [rng.standard_normal(inputs[i].shape) for i in checked]
    terms = [(g * r).sum() for g, r in zip(grads, rs) if g is not None and g.requires_grad]
    if terms:
        scalar = terms[0]
        for term in terms[1:]:
            scalar = scalar + term
        analytic = gk.grad(scalar, [xs[i] for i in checked], allow_unused=True)
    else:
        analytic = [None] * len(checked)

    def projected(arrays):
        _, gs = first(arrays, create_graph=False)
        return sum(0.0 if g is None else float(np.sum(g.data * r)) for g, r in zip(gs, rs))

    for k, i in enumerate(checked):
        numeric = np.zeros(inputs[i].shape)
        flat = numeric.reshape(-1)
        for j in range(flat.size):
            shifted = {key: value.copy() for key, value in base.items()}
            shifted[i].reshape(-1)[j] += eps
            plus = projected(shifted)
            shifted[i].reshape(-1)[j] -= 2 * eps
            flat[j] = (plus - projected(shifted)) / (2 * eps)
        got = np.zeros(inputs[i].shape) if analytic[k] is None else analytic[k].data
        np.testing.assert_allclose(got, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"second derivative of input {i}")
