"""gk.checkpoint (graphkit/checkpoint.py): the same gradients for less memory."""

import numpy as np
import pytest

import graphkit as gk


def mlp_blocks(rng, width=16, blocks=4):
    return [gk.nn.Sequential(gk.nn.Linear(width, width), gk.nn.Tanh(), gk.nn.Linear(width, width))
            for _ in range(blocks)]


def residual(block):
    return lambda h: block(h).relu() + h


def run(blocks, x, use_checkpoint):
    h = x
    for block in blocks:
        h = gk.checkpoint(residual(block), h) if use_checkpoint else residual(block)(h)
    return (h * h).mean()


def gradients(params, x):
    return [p.grad.data.copy() for p in params], x.grad.data.copy()


def test_an_mlp_gets_the_same_gradients_for_its_parameters_and_input():
    rng = np.random.default_rng(0)
    blocks = mlp_blocks(rng)
    params = [p for b in blocks for p in b.parameters()]
    x = gk.Tensor(rng.standard_normal((8, 16)), requires_grad=True)
    expected_loss = run(blocks, x, False)
    expected_loss.backward()
    expected = gradients(params, x)
    for p in [*params, x]:
        p.grad = None
    loss = run(blocks, x, True)
    assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-12)
    loss.backward()
    got = gradients(params, x)
    for a, b in zip(got[0], expected[0]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-10, atol=1e-12)


def test_a_conv_block_gets_the_same_gradients():
    rng = np.random.default_rng(1)
    block = gk.nn.Sequential(gk.nn.Conv2d(2, 3, 3, pad=1), gk.nn.ReLU(),
                             gk.nn.Conv2d(3, 2, 3, pad=1))
    x = gk.Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    block(x).sum().backward()
    expected = [p.grad.data.copy() for p in block.parameters()] + [x.grad.data.copy()]
    block.zero_grad()
    x.grad = None
    gk.checkpoint(block, x).sum().backward()
    got = [p.grad.data for p in block.parameters()] + [x.grad.data]
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_graph_keeps_less_memory_and_nothing_once_freed():
    rng = np.random.default_rng(2)
    blocks = mlp_blocks(rng, width=32, blocks=6)
    x = gk.Tensor(rng.standard_normal((64, 32)))
    plain = gk.viz.saved_memory(run(blocks, x, False)).total
    loss = run(blocks, x, True)
    checkpointed = gk.viz.saved_memory(loss).total
    assert checkpointed * 4 < plain  # one array a block instead of five
    loss.backward()
    assert gk.viz.saved_memory(loss).total == 0


def test_second_derivatives_flow_through_a_checkpoint():
    rng = np.random.default_rng(3)
    W = gk.Tensor(rng.standard_normal((3, 3)), requires_grad=True)

    def f(h):
        return (h @ W).tanh()

    x = gk.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    results = []
    for wrap in (f, lambda h: gk.checkpoint(f, h)):
        gx, gW = gk.grad(wrap(x).sum(), [x, W], create_graph=True)
        hx, hW = gk.grad((gx * gx).sum() + gW.sum(), [x, W])
        results.append([gx.data, gW.data, hx.data, hW.data])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gk_grad_with_respect_to_a_closure_parameter():
    W = gk.Tensor([[2.0]], requires_grad=True)
    x = gk.Tensor([[3.0]], requires_grad=True)
    (gW,) = gk.grad(gk.checkpoint(lambda h: (h @ W) ** 2, x).sum(), W)
    np.testing.assert_allclose(gW.data, [[2 * 6.0 * 3.0]])
    assert W.grad is None


def test_dropout_draws_the_same_mask_when_recomputed():
    gk.manual_seed(0)
    layer = gk.nn.Dropout(0.5)
    x = gk.Tensor(np.ones((4, 8)), requires_grad=True)
    gk.manual_seed(7)
    y = gk.checkpoint(layer, x)
    y.sum().backward()
    mask = y.data != 0
    np.testing.assert_array_equal(x.grad.data != 0, mask)


def test_inputs_without_grad_and_python_arguments_pass_through():
    W = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = gk.checkpoint(lambda a, scale, c: (a * W * scale + c).sum(), gk.Tensor([1.0, 1.0]), 3.0,
                      np.array([1.0, 1.0]))
    y.backward()
    np.testing.assert_allclose(W.grad.data, [3.0, 3.0])
    assert y.grad_fn.name == "checkpoint" and y.grad_fn.inputs == (W,)


def test_nested_checkpoints():
    W = gk.Tensor([[0.5]], requires_grad=True)
    x = gk.Tensor([[2.0]], requires_grad=True)

    def inner(h):
        return (h @ W).tanh()

    gk.checkpoint(lambda h: gk.checkpoint(inner, h) * 2, x).sum().backward()
    t = np.tanh(1.0)
    np.testing.assert_allclose(x.grad.data, [[2 * (1 - t * t) * 0.5]])
    np.testing.assert_allclose(W.grad.data, [[2 * (1 - t * t) * 2.0]])


def test_outside_grad_mode_it_is_a_plain_call_and_fn_must_return_a_tensor():
    x = gk.Tensor([1.0], requires_grad=True)
    with gk.no_grad():
        assert gk.checkpoint(lambda h: h * 2, x).grad_fn is None
    with pytest.raises(TypeError, match="one Tensor"):
        gk.checkpoint(lambda h: (h, h), x)


def test_hooks_inside_fire_once_per_backward_and_on_parameters_once():
    W = gk.Tensor([1.0], requires_grad=True)
    fired = []
    W.register_hook(lambda g: fired.append("W"))

    def f(h):
        y = h * W
        y.register_hook(lambda g: fired.append("inside"))
        return y

    gk.checkpoint(f, gk.Tensor([2.0], requires_grad=True)).sum().backward()
    assert sorted(fired) == ["W", "inside"]
