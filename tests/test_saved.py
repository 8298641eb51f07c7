"""gk.saved_tensors_hooks (graphkit/saved.py): what backward keeps goes through pack/unpack."""

import threading

import numpy as np
import pytest

import graphkit as gk
from graphkit import graph


def test_every_array_an_op_keeps_is_packed_and_unpacked_for_backward():
    packed, unpacked = [], []

    def pack(a):
        packed.append(a.shape)
        return ("box", a.copy())

    def unpack(box):
        unpacked.append(box[0])
        return box[1]

    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.saved_tensors_hooks(pack, unpack):
        y = (x * x).sum()
    assert packed == [(2,), (2,), (2,), (2,), ()]  # mul: x, x, its output; sum: input, output
    assert unpacked == []
    y.backward()
    assert len(unpacked) == 5
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    assert graph._taps == []


def test_backward_computes_with_what_unpack_returns():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.saved_tensors_hooks(lambda a: a, lambda a: a * 0 + 10):
        y = (x * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, [20.0, 20.0])  # gy * b + gy * a, both read as 10


def test_what_forward_saved_is_packed_too_and_freed_from_the_op():
    x = gk.Tensor(np.ones((2, 5)), requires_grad=True)
    calls = []
    with gk.saved_tensors_hooks(lambda a: calls.append(a.shape) or a, lambda a: a):
        y = gk.F.dropout(x, 0.5)  # keeps its scaled mask in op.saved
    assert (2, 5) in calls and y.grad_fn.saved is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data)


def test_what_is_kept_is_the_packed_form_and_saved_memory_counts_it():
    x = gk.Tensor(np.random.default_rng(0).standard_normal((64, 64)), requires_grad=True)
    sizes = []

    def pack(a):
        sizes.append(a.astype(np.float16).nbytes)
        return a.astype(np.float16)

    with gk.saved_tensors_hooks(pack, lambda a: a.astype(np.float64)):
        y = x.tanh().exp().sum()
    assert gk.viz.saved_memory(y).total == sum(sizes)
    y.backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad.data, np.exp(t) * (1 - t * t), rtol=0.05, atol=5e-3)
    assert gk.viz.saved_memory(y).total == 0


def test_the_innermost_block_applies_and_blocks_nest():
    seen = []
    x = gk.Tensor([1.0], requires_grad=True)
    with gk.saved_tensors_hooks(lambda a: seen.append("outer") or a, lambda a: a):
        with gk.saved_tensors_hooks(lambda a: seen.append("inner") or a, lambda a: a):
            y = x * 2
        z = y * 3
    assert seen == ["inner"] * 2 + ["outer"] * 2  # x and the output (2 is a Python number)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0])


def test_ops_outside_the_block_and_in_other_threads_are_not_packed():
    seen = []
    x = gk.Tensor([1.0], requires_grad=True)
    with gk.saved_tensors_hooks(lambda a: seen.append(1) or a, lambda a: a):
        thread = threading.Thread(target=lambda: x * 2)
        thread.start()
        thread.join()
    y = x * 2
    assert seen == [] and type(y.grad_fn.arrays) is list


def test_create_graph_gets_the_tensors_and_still_differentiates():
    x = gk.Tensor([0.5], requires_grad=True)
    with gk.saved_tensors_hooks(lambda a: a.copy(), lambda a: a):
        y = x.tanh().sum()
    (g,) = gk.grad(y, x, create_graph=True)
    (h,) = gk.grad(g.sum(), x)
    t = np.tanh(0.5)
    np.testing.assert_allclose(h.data, [-2 * t * (1 - t * t)])


def test_hooks_must_be_functions():
    with pytest.raises(TypeError, match="two functions"):
        gk.saved_tensors_hooks(None, lambda a: a)
