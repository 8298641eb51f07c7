"""Every fast path gives what the general path gives.

First-order backward runs ops on arrays and may take shortcuts (cached softmax,
conv2d's cached im2col columns, conv_transpose2d's saved rows); ``create_graph=True``
runs the same backward on Tensors, the general path. The fused ``linear`` op must equal
matmul then add. Max-pooling's backward writes each share in place when its windows
tile the input, and adds them up otherwise. The window ops take their large arrays
from buffers kept across steps: with every array kept, however small, graphs alive at
once, a second backward and a training loop give what fresh arrays give.
"""

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.ops import buffers
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


@settings(max_examples=15, deadline=None)
@given(st.tuples(st.integers(2, 3), st.integers(1, 3)), st.integers(1, 2), st.integers(1, 2),
       st.integers(0, 2**16), st.booleans())
def test_max_pool_backward_in_place_agrees_with_adding_up(kernel, B, C, seed, infinite):
    """Tiling windows (stride = kernel, no padding, the input a whole number of windows)
    take the in-place path; the same windows over one more row, which no window covers,
    the adding one. inf in the gradient takes the exact selection instead of a product."""
    rng = np.random.default_rng(seed)
    tiled = rng.standard_normal((B, C, 2 * kernel[0], 2 * kernel[1]))
    taller = np.concatenate([tiled, rng.standard_normal((B, C, 1, 2 * kernel[1]))], axis=2)
    gy = rng.standard_normal((B, C, 2, 2))
    if infinite:
        gy[0, 0, 0, 0] = np.inf
    grads = []
    for data in (tiled, taller):
        x = gk.Tensor(data, requires_grad=True)
        (g,) = gk.grad(gk.F.max_pool2d(x, kernel), [x], grad_outputs=gy)
        grads.append(g.data)
    np.testing.assert_array_equal(grads[1][:, :, : tiled.shape[2]], grads[0])
    np.testing.assert_array_equal(grads[1][:, :, tiled.shape[2]], 0)
    assert not np.isnan(grads[0]).any()


@contextmanager
def every_buffer_kept():
    """The window ops and activations keep every array they allocate, however small
    (the tests' arrays are far below the size worth keeping)."""
    buffers.release_buffers()
    with mock.patch.object(buffers, "_REUSE_FROM_BYTES", 0):
        yield
    buffers.release_buffers()


def small_cnn(seed=0):
    rng = np.random.default_rng(seed)
    return [gk.Tensor(rng.standard_normal(shape) * 0.5, requires_grad=True)
            for shape in [(4, 2, 3, 3), (4,), (3, 4, 3, 3), (3,), (12, 5), (5,)]]


def small_cnn_loss(x, params, labels):
    w1, b1, w2, b2, wf, bf = params
    h = gk.F.max_pool2d(gk.F.relu(gk.F.conv2d(x, w1, b1, pad=1)), 2)
    h = gk.F.max_pool2d(gk.F.relu(gk.F.conv2d(h, w2, b2, pad=1)), 2)
    return gk.F.softmax_cross_entropy(gk.F.linear(h.reshape(len(labels), -1), wf, bf), labels)


def test_graphs_alive_at_once_keep_buffers_of_their_own():
    rng = np.random.default_rng(1)
    images = [gk.Tensor(rng.standard_normal((2, 2, 8, 8)), requires_grad=True) for _ in range(2)]
    labels = np.array([1, 4])
    params = small_cnn()
    expected = [gk.grad(small_cnn_loss(x, params, labels), [x, *params]) for x in images]
    with every_buffer_kept():
        losses = [small_cnn_loss(x, params, labels) for x in images]  # both graphs alive
        got = [gk.grad(loss, [x, *params]) for loss, x in zip(losses, images)]
    for want, have in zip(expected, got):
        for w, h in zip(want, have):
            np.testing.assert_array_equal(h.data, w.data)


def test_a_second_backward_through_conv2d_makes_its_columns_again():
    """The first backward spends conv2d's saved columns on the column gradient; with
    retain_graph=True the second one builds them again and gets the same gradients."""
    rng = np.random.default_rng(2)
    x = gk.Tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    W = gk.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = (gk.F.conv2d(x, W, pad=1) ** 2).sum()
    with every_buffer_kept():
        first = [g.data.copy() for g in gk.grad(y, [x, W], retain_graph=True)]
        second = [g.data for g in gk.grad(y, [x, W])]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="second time"):
        gk.grad(y, [x, W])


def test_training_with_kept_buffers_is_training_with_fresh_ones():
    """Three SGD steps, each reusing the buffers of the last, end with the parameters
    that fresh arrays give; and the later steps allocate nothing new to keep."""
    rng = np.random.default_rng(3)
    x = gk.Tensor(rng.standard_normal((2, 2, 8, 8)))
    labels = np.array([0, 3])
    results = []
    for keep in (False, True):
        params = small_cnn()
        optimizer = gk.optim.SGD(params, lr=0.1)
        with every_buffer_kept() if keep else contextmanager(lambda: (yield))():
            for step in range(3):
                optimizer.zero_grad()
                small_cnn_loss(x, params, labels).backward()
                optimizer.step()
                if keep and step == 0:
                    kept = {id(b) for buffers in buffers._kept.values() for b in buffers}
            if keep:
                assert {id(b) for buffers in buffers._kept.values() for b in buffers} == kept
        results.append([p.data for p in params])
    for fresh, reused in zip(*results):
        np.testing.assert_array_equal(reused, fresh)
