import numpy as np
import pytest

import graphkit as gk
from graphkit.optim import SGD, Adam, Optimizer

GRADIENTS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.75, 1.0]), np.array([1.5, 0.5, -2.0])]


def _param(values=(1.0, -2.0, 3.0), dtype=np.float64) -> gk.Tensor:
    return gk.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def _set_grad(param: gk.Tensor, gradient: np.ndarray) -> None:
    param.grad = gk.Tensor(gradient.astype(param.dtype))


def _numpy_adam(p, gradients, lr, betas, eps, weight_decay):
    """The textbook algorithm with explicit bias-corrected moments."""
    beta1, beta2 = betas
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, grad in enumerate(gradients, start=1):
        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def test_sgd_plain_step_is_p_minus_lr_g():
    param = _param()
    start = param.data.copy()
    _set_grad(param, GRADIENTS[0])
    SGD([param], lr=0.1).step()
    np.testing.assert_allclose(param.data, start - 0.1 * GRADIENTS[0], rtol=0, atol=1e-15)


def test_sgd_momentum_matches_pytorch_formula_over_three_steps():
    param = _param()
    optimizer = SGD([param], lr=0.1, momentum=0.9)
    expected = param.data.copy()
    velocity = np.zeros(3)
    for gradient in GRADIENTS:
        _set_grad(param, gradient)
        optimizer.step()
        velocity = 0.9 * velocity + gradient
        expected = expected - 0.1 * velocity
        np.testing.assert_allclose(param.data, expected, rtol=1e-14, atol=1e-15)


def test_sgd_weight_decay_adds_wd_times_param_on_every_param():
    first, second = _param(), _param((0.5, 4.0))
    starts = [first.data.copy(), second.data.copy()]
    _set_grad(first, GRADIENTS[0])
    _set_grad(second, np.array([1.0, -1.0]))
    SGD([first, second], lr=0.1, weight_decay=0.01).step()
    for param, start, gradient in zip(
        [first, second], starts, [GRADIENTS[0], np.array([1.0, -1.0])]
    ):
        np.testing.assert_allclose(param.data, start - 0.1 * (gradient + 0.01 * start), rtol=1e-14)


def test_sgd_weight_decay_with_momentum_leaves_grad_untouched():
    param = _param()
    optimizer = SGD([param], lr=0.1, momentum=0.5, weight_decay=0.1)
    expected, velocity = param.data.copy(), np.zeros(3)
    for gradient in GRADIENTS:
        _set_grad(param, gradient)
        grad_before = param.grad.data.copy()
        optimizer.step()
        np.testing.assert_array_equal(param.grad.data, grad_before)
        velocity = 0.5 * velocity + gradient + 0.1 * expected
        expected = expected - 0.1 * velocity
    np.testing.assert_allclose(param.data, expected, rtol=1e-14)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_matches_numpy_adam(weight_decay):
    param = _param()
    settings = {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": weight_decay}
    expected = _numpy_adam(param.data.copy(), GRADIENTS * 2, **settings)
    optimizer = Adam([param], **settings)
    for gradient in GRADIENTS * 2:
        _set_grad(param, gradient)
        optimizer.step()
    np.testing.assert_allclose(param.data, expected, rtol=1e-12)


def test_adam_default_first_step_moves_each_entry_by_lr():
    # With bias correction the first update is lr * g / (|g| + eps): about lr in size.
    param = _param()
    start = param.data.copy()
    _set_grad(param, GRADIENTS[0])
    Adam([param]).step()
    np.testing.assert_allclose(start - param.data, 1e-3 * np.sign(GRADIENTS[0]), rtol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.1),
        lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
    ],
)
def test_float32_params_update_in_place_and_stay_float32(make):
    param = _param(dtype=np.float32)
    array = param.data
    optimizer = make([param])
    for gradient in GRADIENTS:
        _set_grad(param, gradient)
        optimizer.step()
    assert param.data is array
    assert param.data.dtype == np.float32
    assert all(
        value.dtype == np.float32
        for state in optimizer.state
        for value in state.values()
        if isinstance(value, np.ndarray)
    )


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), Adam])
def test_params_without_grad_are_skipped(make):
    with_grad, without_grad = _param(), _param()
    untouched = without_grad.data.copy()
    optimizer = make([with_grad, without_grad])
    _set_grad(with_grad, GRADIENTS[0])
    optimizer.step()
    np.testing.assert_array_equal(without_grad.data, untouched)
    assert not optimizer.state[1]


def test_zero_grad_sets_every_grad_to_none():
    params = [_param(), _param()]
    for param in params:
        _set_grad(param, GRADIENTS[0])
    SGD(params, lr=0.1).zero_grad()
    assert all(param.grad is None for param in params)


def test_training_loop_with_backward_reduces_the_loss():
    w = _param((0.0, 0.0))
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    target = x @ np.array([2.0, -1.0])
    optimizer = Adam((p for p in [w]), lr=0.1)
    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = ((x @ w - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-4 * losses[0]


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_no_params_raises(cls):
    with pytest.raises(ValueError, match="no parameters"):
        cls(iter([]), lr=0.1)


def test_param_without_requires_grad_raises_naming_it():
    frozen = gk.Tensor([1.0, 2.0], name="frozen_bias")
    with pytest.raises(ValueError, match="parameter 1 'frozen_bias'"):
        SGD([_param(), frozen], lr=0.1)


def test_duplicate_param_raises():
    param = _param()
    with pytest.raises(ValueError, match="more than once"):
        SGD([param, param], lr=0.1)


def test_non_tensor_param_raises():
    with pytest.raises(TypeError, match="ndarray, not a Tensor"):
        Adam([np.zeros(3)])


@pytest.mark.parametrize(
    ("cls", "settings", "bad"),
    [
        (SGD, {"lr": -0.1}, "lr"),
        (SGD, {"lr": 0.1, "momentum": -0.5}, "momentum"),
        (Adam, {"betas": (0.9, 1.0)}, r"betas\[1\]"),
        (Adam, {"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_invalid_hyperparameters_raise(cls, settings, bad):
    with pytest.raises(ValueError, match=bad):
        cls([_param()], **settings)


def test_optimizer_is_abstract():
    with pytest.raises(TypeError):
        Optimizer([_param()])


@pytest.mark.parametrize(
    "make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1)]
)
def test_state_dict_resumes_training_exactly(make):
    original, resumed = _param(), _param()
    optimizer = make([original])
    for gradient in GRADIENTS[:2]:
        _set_grad(original, gradient)
        optimizer.step()
    resumed.data[...] = original.data
    restored = make([resumed])
    restored.load_state_dict(optimizer.state_dict())
    _set_grad(original, GRADIENTS[2])
    _set_grad(resumed, GRADIENTS[2])
    optimizer.step()
    restored.step()
    np.testing.assert_array_equal(resumed.data, original.data)


def test_state_dict_is_a_copy_and_restores_hyperparameters():
    param = _param()
    optimizer = SGD([param], lr=0.1, momentum=0.9)
    _set_grad(param, GRADIENTS[0])
    optimizer.step()
    saved = optimizer.state_dict()
    optimizer.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], GRADIENTS[0])
    restored = SGD([_param()], lr=1.0)
    restored.load_state_dict(saved)
    assert (restored.lr, restored.momentum) == (0.1, 0.9)


def test_load_state_dict_rejects_mismatched_shapes():
    param = _param()
    optimizer = Adam([param])
    _set_grad(param, GRADIENTS[0])
    optimizer.step()
    with pytest.raises(ValueError, match="shape"):
        Adam([_param((1.0, 2.0))]).load_state_dict(optimizer.state_dict())
