"""Tensor hooks (graphkit/hooks.py): register_hook, retain_grad, is_leaf, grad_fn, handles."""

import numpy as np
import pytest

import graphkit as gk


def leaf(values):
    return gk.Tensor(np.asarray(values, dtype=float), requires_grad=True)


def test_a_leaf_hook_sees_the_gradient_summed_over_its_uses_and_may_replace_it():
    x = leaf([1.0, 2.0])
    seen = []

    def triple(g):
        seen.append(g.data.copy())
        return g * 3

    x.register_hook(triple)
    (x * x + x).sum().backward()  # d/dx = 2x + 1, from two uses of x
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [3.0, 5.0])
    np.testing.assert_allclose(x.grad.data, [9.0, 15.0])


def test_an_interior_hook_changes_what_flows_below_it():
    x = leaf([1.0, 2.0])
    y = x * x
    y.register_hook(lambda g: g * 10)
    (y * 2).sum().backward()  # dy = 2, after the hook 20, dx = 20 * 2x
    np.testing.assert_allclose(x.grad.data, [40.0, 80.0])


class _FirstInputOnly(gk.graph.Op):
    """a + b whose backward gives b no gradient, though b requires grad."""

    def forward(self, a, b):
        return a + b

    def backward(self, gy, y, a, b):
        return gy, None


def test_a_leaf_without_hooks_that_gets_no_gradient_keeps_none_while_others_have_hooks():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seen = []
    a.register_hook(lambda g: seen.append(g) or g)
    _FirstInputOnly.apply(a, b).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(a.grad.data, [1.0, 1.0])
    assert b.grad is None


def test_hooks_run_in_registration_order_each_seeing_the_previous_result():
    x = leaf([1.0])
    order = []
    x.register_hook(lambda g: order.append(("a", g.item())) or g + 1)
    x.register_hook(lambda g: order.append(("b", g.item())) or g * 2)
    (x * 3).sum().backward()
    assert order == [("a", 3.0), ("b", 4.0)]
    np.testing.assert_allclose(x.grad.data, [8.0])


def test_hooks_get_a_tensor_and_may_return_an_array():
    x = leaf([1.0, -2.0])
    kinds = []
    x.register_hook(lambda g: kinds.append(type(g)) or np.clip(g.data, -0.5, 0.5))
    (x * 4).sum().backward()
    assert kinds == [gk.Tensor]
    np.testing.assert_allclose(x.grad.data, [0.5, 0.5])


def test_a_hook_returning_none_leaves_the_gradient():
    x = leaf([2.0])
    x.register_hook(lambda g: None)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0])


def test_a_replacement_of_the_wrong_shape_is_refused():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*the tensor's shape"):
        (x * 2).sum().backward()


def test_remove_unregisters_and_a_second_remove_is_harmless():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0])


def test_a_handle_as_a_context_manager_removes_the_hook_at_the_end():
    x = leaf([1.0])
    with x.register_hook(lambda g: g * 100):
        (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, [200.0])
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0])


def test_retain_grad_keeps_the_gradient_after_every_hook_whatever_the_order():
    x = leaf([1.0, 2.0])
    y = x * x
    y.retain_grad()  # registered first, runs last, as in PyTorch 2
    y.register_hook(lambda g: g * 5)
    assert y.retains_grad and not x.retains_grad
    y.sum().backward()
    np.testing.assert_allclose(y.grad.data, [5.0, 5.0])
    np.testing.assert_allclose(x.grad.data, [10.0, 20.0])


def test_a_retained_gradient_accumulates_over_backward_calls():
    x = leaf([1.0])
    y = x * 3
    y.retain_grad()
    (y * 2).sum().backward(retain_graph=True)
    (y * 2).sum().backward()
    np.testing.assert_allclose(y.grad.data, [4.0])


def test_without_retain_grad_an_interior_tensor_has_no_grad():
    x = leaf([1.0])
    y = x * 3
    y.sum().backward()
    assert y.grad is None


def test_retain_grad_on_a_leaf_changes_nothing():
    x = leaf([1.0])
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0])


def test_is_leaf_and_grad_fn():
    x = leaf([1.0])
    c = gk.Tensor([2.0])
    y = x * c
    assert x.is_leaf and c.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name == "mul"
    with gk.no_grad():
        z = x * c
    assert z.is_leaf and z.grad_fn is None
    assert (c * c).is_leaf  # made from tensors that need no gradient


def test_a_hook_on_a_tensor_without_grad_is_refused():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gk.Tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="does not require grad"):
        gk.Tensor([1.0]).retain_grad()


def test_hooks_fire_in_grad_for_interior_tensors_and_the_inputs_asked_for():
    x, w = leaf([1.0, 2.0]), leaf([3.0])
    y = x * w
    fired = []
    y.register_hook(lambda g: fired.append("y"))
    x.register_hook(lambda g: fired.append("x"))
    w.register_hook(lambda g: fired.append("w"))
    (gx,) = gk.grad(y.sum(), x)
    np.testing.assert_allclose(gx.data, [3.0, 3.0])
    assert sorted(fired) == ["x", "y"]  # w's gradient is not computed
    assert x.grad is None


def test_a_hook_replacement_is_what_grad_returns():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 0 + 7)
    (gx,) = gk.grad((x * x).sum(), x)
    np.testing.assert_allclose(gx.data, [7.0, 7.0])


def test_hooks_fire_under_create_graph_and_their_result_is_differentiable():
    x = leaf([3.0])
    y = x * x
    y.register_hook(lambda g: g * x)  # the hook's result depends on x
    (gx,) = gk.grad(y.sum(), x, create_graph=True)  # (1 * x) * 2x = 2x^2
    np.testing.assert_allclose(gx.data, [18.0])
    (gxx,) = gk.grad(gx.sum(), x)
    np.testing.assert_allclose(gxx.data, [12.0])  # d(2x^2)/dx


def test_a_hook_on_the_output_itself_sees_the_seed_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()))
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_allclose(seen[0], [1.0, -1.0])


def test_a_leaf_used_as_the_output_goes_through_its_hooks():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 2)
    x.backward(np.ones(2))
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])


def test_gradient_clipping_by_norm_with_hooks():
    rng = np.random.default_rng(0)
    W = gk.Tensor(rng.standard_normal((4, 3)) * 10, requires_grad=True)

    def clip(g, max_norm=1.0):
        norm = np.linalg.norm(g.data)
        return g * (max_norm / norm) if norm > max_norm else None

    W.register_hook(clip)
    x = gk.Tensor(rng.standard_normal((5, 4)))
    ((x @ W) ** 2).sum().backward()
    assert np.linalg.norm(W.grad.data) == pytest.approx(1.0)


def test_a_walk_without_hooks_after_hooked_tensors_die_is_unchanged():
    x = leaf([1.0])
    y = x * 2
    y.register_hook(lambda g: g * 0)
    del y
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0])
