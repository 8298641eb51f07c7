"""Module hooks (graphkit/nn/module_hooks.py): pre-hooks, forward and full backward hooks."""

import numpy as np
import pytest

import graphkit as gk


class Scale(gk.nn.Module):
    """y = w * x, with hand-computable gradients."""

    def __init__(self, w):
        super().__init__()
        self.w = gk.nn.Parameter(np.array([w]))

    def forward(self, x):
        return x * self.w


class Pair(gk.nn.Module):
    """Two inputs, two outputs: (a * b, a + b)."""

    def forward(self, a, b):
        return a * b, a + b


def test_hooks_run_in_pytorch_order_with_their_arguments():
    m = Scale(3.0)
    calls = []
    m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", mod, args[0].data.copy())))
    m.register_forward_hook(lambda mod, args, out: calls.append(("fwd", out.data.copy())))
    m.register_full_backward_hook(
        lambda mod, gin, gout: calls.append(("bwd", gin[0].data.copy(), gout[0].data.copy())))
    x = gk.Tensor([2.0], requires_grad=True)
    (m(x) * 5).sum().backward()
    assert [c[0] for c in calls] == ["pre", "fwd", "bwd"]
    assert calls[0][1] is m
    np.testing.assert_allclose(calls[1][1], [6.0])
    np.testing.assert_allclose(calls[2][1], [15.0])  # d/dx = 5 * w
    np.testing.assert_allclose(calls[2][2], [5.0])  # d/dy
    np.testing.assert_allclose(m.w.grad.data, [10.0])


def test_a_pre_hook_may_replace_the_arguments_and_a_forward_hook_the_output():
    m = Scale(2.0)
    m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # one value: wrapped in a tuple
    m.register_forward_hook(lambda mod, args, out: out * 10)
    y = m(gk.Tensor([1.0]))
    np.testing.assert_allclose(y.data, [40.0])


def test_a_backward_hook_may_replace_grad_input():
    m = Scale(3.0)
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 0 + 1,))
    x = gk.Tensor([2.0], requires_grad=True)
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])
    np.testing.assert_allclose(m.w.grad.data, [2.0])  # the parameter's gradient is untouched


def test_removing_handles():
    m = Scale(1.0)
    calls = []
    handles = [m.register_forward_pre_hook(lambda *a: calls.append("pre")),
               m.register_forward_hook(lambda *a: calls.append("fwd")),
               m.register_full_backward_hook(lambda *a: calls.append("bwd"))]
    m(gk.Tensor([1.0], requires_grad=True)).sum().backward()
    for handle in handles:
        handle.remove()
    m(gk.Tensor([1.0], requires_grad=True)).sum().backward()
    assert calls == ["pre", "fwd", "bwd"]


def test_an_input_without_grad_gets_none_and_the_hook_still_runs():
    m = Scale(4.0)
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout[0].data.copy())))
    m(gk.Tensor([1.0])).sum().backward()
    assert seen[0][0] == (None,)
    np.testing.assert_allclose(seen[0][1], [1.0])


def test_two_inputs_and_two_outputs():
    m = Pair()
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    a, b = gk.Tensor([2.0], requires_grad=True), gk.Tensor([3.0], requires_grad=True)
    prod, total = m(a, b)
    (prod * 1 + total * 10).sum().backward()
    (gin, gout) = seen[0]
    np.testing.assert_allclose(gout[0].data, [1.0])
    np.testing.assert_allclose(gout[1].data, [10.0])
    np.testing.assert_allclose(gin[0].data, [3.0 + 10.0])  # d/da: b + 10
    np.testing.assert_allclose(gin[1].data, [2.0 + 10.0])
    np.testing.assert_allclose(a.grad.data, [13.0])


def test_replacing_an_earlier_input_of_several_is_refused():
    m = Pair()
    m.register_full_backward_hook(lambda mod, gin, gout: tuple(g * 0 for g in gin))
    a, b = gk.Tensor([2.0], requires_grad=True), gk.Tensor([3.0], requires_grad=True)
    prod, total = m(a, b)
    with pytest.raises(RuntimeError, match="several differentiable inputs"):
        (prod + total).sum().backward()


def test_hooks_on_submodules_of_a_sequential_see_each_layer():
    model = gk.nn.Sequential(gk.nn.Linear(3, 4), gk.nn.ReLU(), gk.nn.Linear(4, 2))
    shapes = []
    for layer in model.children():
        layer.register_full_backward_hook(
            lambda mod, gin, gout: shapes.append((type(mod).__name__, gin[0].shape, gout[0].shape)))
    x = gk.Tensor(np.ones((5, 3)), requires_grad=True)
    model(x).sum().backward()
    assert shapes == [("Linear", (5, 4), (5, 2)), ("ReLU", (5, 4), (5, 4)),
                      ("Linear", (5, 3), (5, 4))]


def test_backward_hooks_fire_under_create_graph_and_each_backward():
    m = Scale(2.0)
    count = []
    m.register_full_backward_hook(lambda *a: count.append(1))
    x = gk.Tensor([3.0], requires_grad=True)
    y = (m(x) ** 2).sum()
    (g,) = gk.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.data, [2 * 6.0 * 2.0])
    y.backward()
    assert len(count) == 2


def test_under_no_grad_backward_hooks_add_nothing():
    m = Scale(2.0)
    m.register_full_backward_hook(lambda *a: None)
    with gk.no_grad():
        y = m(gk.Tensor([1.0], requires_grad=True))
    assert y.grad_fn is None


def test_a_hook_must_be_a_function():
    with pytest.raises(TypeError, match="function"):
        Scale(1.0).register_forward_hook(3)
