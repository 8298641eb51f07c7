"""Every fast path gives what the general path gives.

First-order backward runs ops on arrays and may take shortcuts (cached softmax,
conv2d's cached im2col columns, conv_transpose2d's saved rows); ``create_graph=True``
runs the same backward on Tensors, the general path. The fused ``linear`` op must equal
matmul then add.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import strategies as gst


def both_paths(fn, *inputs):
    """The gradients of sum(fn(*inputs) * v) on arrays, and on Tensors (create_graph)."""
    out = fn(*inputs)
    v = np.random.default_rng(1).standard_normal(out.shape)
    fast = gk.grad(fn(*inputs), list(inputs), grad_outputs=v)
    general = gk.grad(fn(*inputs), list(inputs), grad_outputs=gk.Tensor(v), create_graph=True)
    return [g.data for g in fast], [g.data for g in general]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(2, 7), st.booleans(), st.integers(0, 2**16))
def test_cross_entropy_backward_paths_agree(batch, classes, one_hot, seed):
    rng = np.random.default_rng(seed)
    logits = gk.Tensor(rng.standard_normal((batch, classes)) * 3, requires_grad=True)
    labels = rng.integers(0, classes, batch)
    target = np.eye(classes)[labels] if one_hot else labels
    fast, general = both_paths(lambda z: gk.F.softmax_cross_entropy(z, target), logits)
    np.testing.assert_allclose(fast[0], general[0], rtol=1e-12, atol=1e-15)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(3, 6), st.sampled_from([1, 2]),
       st.integers(0, 1), st.integers(0, 2**16))
def test_conv_weight_gradient_from_cached_columns_agrees(batch, channels, side, stride, pad, seed):
    rng = np.random.default_rng(seed)
    x = gk.Tensor(rng.standard_normal((batch, channels, side, side)), requires_grad=True)
    W = gk.Tensor(rng.standard_normal((2, channels, 3, 3)), requires_grad=True)
    b = gk.Tensor(rng.standard_normal(2), requires_grad=True)
    if side + 2 * pad < 3:
        return
    fast, general = both_paths(lambda a, w, c: gk.F.conv2d(a, w, c, stride=stride, pad=pad),
                               x, W, b)
    for f, g in zip(fast, general):
        np.testing.assert_allclose(f, g, rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(gst.conv_transpose_geometries(), st.integers(0, 2**16))
def test_conv_transpose_weight_gradient_from_saved_rows_agrees(geometry, seed):
    x_shape, W_shape, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, W = (gk.Tensor(rng.standard_normal(s), requires_grad=True) for s in (x_shape, W_shape))
    b = gk.Tensor(rng.standard_normal(W_shape[1]), requires_grad=True)
    fast, general = both_paths(
        lambda a, w, c: gk.F.conv_transpose2d(a, w, c, stride=stride, pad=pad), x, W, b)
    for f, g in zip(fast, general):
        np.testing.assert_allclose(f, g, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([(5,), (4, 5), (2, 3, 5)]), st.booleans(), st.integers(0, 2**16))
def test_linear_equals_matmul_then_add(x_shape, with_bias, seed):
    rng = np.random.default_rng(seed)
    x = gk.Tensor(rng.standard_normal(x_shape), requires_grad=True)
    W = gk.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    b = gk.Tensor(rng.standard_normal(3), requires_grad=True)
    bias = b if with_bias else None
    fused = gk.F.linear(x, W, bias)
    composed = x @ W + b if with_bias else x @ W
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)
    inputs = [x, W, b] if with_bias else [x, W]
    for f, g in zip(gk.grad(fused.sum(), inputs), gk.grad(composed.sum(), inputs)):
        np.testing.assert_allclose(f.data, g.data, rtol=1e-12, atol=1e-14)
