"""Recording backward through autograd.observe: the engine's order, its gradients."""

from __future__ import annotations

import numpy as np
import pytest

import graphkit as gk
from graphkit.autograd import observe
from graphkit.cli.model_graphs import model_loss
from graphkit.viz.record import record_backward, tensor_gradients


def branching():
    x = gk.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")
    a = x.exp()
    b = (x * 2).tanh()
    c = a * b + a.sum()
    return x, c.sum()


def test_the_steps_are_the_engines_order():
    _, loss = branching()
    seen = []
    with observe(lambda op, gy, grads: seen.append(op)):
        loss.backward(retain_graph=True)
    steps = record_backward(loss).steps
    assert [s.op for s in steps] == seen
    assert len(steps) == 7


def test_gradients_match_backward_and_grad_is_untouched():
    x, loss = branching()
    recording = record_backward(loss)
    assert x.grad is None
    loss.backward()
    np.testing.assert_allclose(recording.gradients[id(x)], x.grad.data)


def test_accumulation_at_a_shared_input_is_counted_and_summed():
    x = gk.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    loss = (x * x + x).sum()
    arrivals = [a for s in record_backward(loss).steps for a in s.arrivals if a.tensor is x]
    assert [(a.count, a.expected) for a in arrivals] == [(1, 3), (2, 3), (3, 3)]
    np.testing.assert_allclose(arrivals[-1].total, 2 * x.data + 1)
    np.testing.assert_allclose(sum(a.gradient for a in arrivals), arrivals[-1].total)


def test_broadcast_gradients_arrive_in_the_inputs_shape():
    x = gk.Tensor(np.ones((4, 3)), name="x")
    b = gk.Tensor(np.zeros(3), requires_grad=True, name="b", dtype=np.float32)
    (step,) = [s for s in record_backward((x + b).sum()).steps if s.op.name == "add"]
    (arrival,) = step.arrivals
    assert arrival.gradient.shape == (3,) and arrival.gradient.dtype == np.float32
    np.testing.assert_allclose(arrival.gradient, [4.0, 4.0, 4.0])


def test_tensor_gradients_of_intermediate_tensors_and_after_a_free():
    loss = model_loss("mlp")
    gradients = tensor_gradients([loss])
    hidden = loss.grad_fn.inputs[0]
    assert gradients[id(hidden)].shape == hidden.shape
    loss.backward()  # frees the graph: only .grad is left
    after = tensor_gradients([loss])
    assert id(hidden) not in after
    weight = hidden.grad_fn.inputs[1]
    np.testing.assert_allclose(after[id(weight)], weight.grad.data)


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: gk.Tensor([1.0], requires_grad=True), ValueError, "leaf"),
        (lambda: gk.Tensor([1.0]) * 2, ValueError, "requires_grad=True"),
    ],
)
def test_no_graph_is_a_clear_error(make, error, words):
    with pytest.raises(error, match=words):
        record_backward(make())
