"""The backward walk, gk.grad, accumulation, retain_graph, higher-order derivatives,
deep and wide graphs, and freeing graphs by reference counting."""

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import gradcheck, numerical_gradient
from graphkit.testing import strategies as gst


def derivative(f, wrt=0):
    """x... -> d(sum f(x...))/dx[wrt] as a differentiable Tensor.

    Recording is forced on because gradcheck evaluates the function under no_grad for its
    central differences: that is how second derivatives are checked numerically.
    """

    def df(*xs):
        with gk.enable_grad():
            return gk.grad(f(*xs).sum(), xs[wrt], create_graph=True)[0]

    return df


# ----- the walk -------------------------------------------------------------------------------


def test_backward_of_a_scalar():
    x = gk.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x + 3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)


def test_diamond_graph_gets_every_path():
    x = gk.Tensor([0.5, 2.0], requires_grad=True)
    y = x * x + x  # x is used three times
    z = (y * y).sum()
    z.backward()
    expected = 2 * (x.data**2 + x.data) * (2 * x.data + 1)
    np.testing.assert_allclose(x.grad.data, expected)


def test_same_tensor_on_both_sides():
    x = gk.Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0
    x.zero_grad()
    (x / x).backward()
    assert x.grad.item() == pytest.approx(0.0)
    x.zero_grad()
    (x - x + x * x * x).backward()
    assert x.grad.item() == 27.0


@pytest.mark.parametrize("kind", ["ndarray", "list", "tensor"])
def test_backward_of_a_non_scalar_with_grad(kind):
    x = gk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = np.array([4.0, 5.0, 6.0])
    y = x * w
    g = np.array([1.0, -1.0, 2.0])
    y.backward({"ndarray": g, "list": g.tolist(), "tensor": gk.Tensor(g)}[kind])
    np.testing.assert_allclose(x.grad.data, g * w)


def test_backward_of_a_non_scalar_without_grad_is_an_error():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"`grad`.*non-scalar"):
        (x * 2).backward()
    assert x.grad is None


def test_backward_of_a_one_element_non_scalar():
    x = gk.Tensor([[2.0]], requires_grad=True)
    (x * 3).backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0]])


def test_backward_with_a_grad_of_the_wrong_shape():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(3))


def test_backward_through_a_tensor_without_grad():
    with pytest.raises(RuntimeError):
        gk.Tensor([1.0]).sum().backward()


def test_backward_of_a_leaf():
    x = gk.Tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_only_leaves_that_require_grad_get_grad():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    w = gk.Tensor([3.0, 4.0])
    unused = gk.Tensor([1.0], requires_grad=True)
    h = x * w
    h.sum().backward()
    assert w.grad is None
    assert unused.grad is None
    assert h.grad is None  # intermediate tensors keep no grad, as in PyTorch
    np.testing.assert_array_equal(x.grad.data, w.data)


def test_leaf_grads_are_separate_writable_arrays():
    # add and reshape pass one gradient array to several inputs; each leaf must own its own.
    a = gk.Tensor([1.0, 2.0], requires_grad=True)
    b = gk.Tensor([3.0, 4.0], requires_grad=True)
    c = gk.Tensor([[5.0, 6.0]], requires_grad=True)
    g = np.array([1.0, 1.0])
    (a + b + c.reshape(2)).backward(g)
    grads = [a.grad.data, b.grad.data, c.grad.data]
    for i, first in enumerate(grads):
        assert first.flags.writeable
        assert not np.shares_memory(first, g)
        for second in grads[i + 1 :]:
            assert not np.shares_memory(first, second)
    a.grad.data *= 10  # in-place gradient clipping must touch only a
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(c.grad.data, [[1.0, 1.0]])
    np.testing.assert_array_equal(g, [1.0, 1.0])
    # sum's backward is a read-only broadcast view: the leaf still gets a writable array.
    d = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    d.sum().backward()
    assert d.grad.data.flags.writeable


def test_grad_results_are_separate_arrays():
    a = gk.Tensor([1.0, 2.0], requires_grad=True)
    b = gk.Tensor([3.0, 4.0], requires_grad=True)
    g = np.array([1.0, 1.0])
    ga, gb = gk.grad(a + b, [a, b], grad_outputs=g)
    assert not np.shares_memory(ga.data, gb.data)
    assert not np.shares_memory(ga.data, g)
    ga.data *= 3
    np.testing.assert_array_equal(gb.data, [1.0, 1.0])


def test_accumulated_grad_of_a_scalar_stays_an_ndarray():
    x = gk.Tensor(2.0, requires_grad=True)
    for _ in range(3):
        (x * 3).backward()
    assert isinstance(x.grad.data, np.ndarray)
    assert x.grad.shape == ()
    assert x.grad.item() == 9.0


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    (g2,) = gk.grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.data, 6 * x.data)


# ----- accumulation and retain_graph ------------------------------------------------------------


def test_two_backward_calls_accumulate():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    once = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * once)


def test_running_forward_twice_accumulates():
    x = gk.Tensor([0.3, -1.2], requires_grad=True)
    (x.exp() * x).sum().backward()
    once = x.grad.data.copy()
    (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * once)
    np.testing.assert_allclose(once, np.exp(x.data) * (1 + x.data))


def test_second_backward_through_a_freed_graph_is_an_error():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_many_times():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    for _ in range(3):
        y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, 3 * 2 * x.data)


def test_grad_frees_the_graph_unless_retained():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    gk.grad(y, x, retain_graph=True)
    y.backward()  # still there
    np.testing.assert_allclose(x.grad.data, 2 * x.data)
    z = (x * x).sum()
    gk.grad(z, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()


# ----- gk.grad -----------------------------------------------------------------------------------


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    w = gk.Tensor([3.0, -1.0], requires_grad=True)
    y = (x * w).sum()
    gs = gk.grad(y, [x, w])
    assert isinstance(gs, tuple) and len(gs) == 2
    assert all(isinstance(g, gk.Tensor) for g in gs)
    np.testing.assert_array_equal(gs[0].data, w.data)
    np.testing.assert_array_equal(gs[1].data, x.data)
    assert x.grad is None and w.grad is None
    assert gs[0].grad_fn is None and not gs[0].requires_grad


def test_grad_with_one_input_not_in_a_list():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    gs = gk.grad((x * x).sum(), x)
    assert isinstance(gs, tuple) and len(gs) == 1
    np.testing.assert_array_equal(gs[0].data, 2 * x.data)


def test_grad_with_respect_to_an_intermediate_tensor():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = gk.grad(y, h)
    np.testing.assert_allclose(gh.data, 2 * h.data)


def test_grad_with_grad_outputs():
    x = gk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = np.array([1.0, 0.0, -2.0])
    (g,) = gk.grad(x * x, x, grad_outputs=v)
    np.testing.assert_allclose(g.data, 2 * x.data * v)
    with pytest.raises(RuntimeError, match="non-scalar"):
        gk.grad(x * x, x)


def test_grad_of_several_outputs_sums_them():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = gk.grad([(x * x).sum(), (3 * x).sum()], x)
    np.testing.assert_allclose(g.data, 2 * x.data + 3)


def test_grad_of_a_leaf_by_itself():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = gk.grad(x, x, grad_outputs=np.array([5.0, 6.0]))
    np.testing.assert_array_equal(g.data, [5.0, 6.0])


def test_grad_on_an_unused_input_raises_unless_allowed():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    unused = gk.Tensor([3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        gk.grad((x * x).sum(), [x, unused])
    gx, gu = gk.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.data, 2 * x.data)


def test_grad_inputs_must_require_grad():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    c = gk.Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError):
        gk.grad((x * c).sum(), c)


def test_grad_with_create_graph_is_differentiable():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = gk.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    assert x.grad is None


# ----- higher-order derivatives -------------------------------------------------------------------


SECOND_DERIVATIVES = {
    "tanh": (lambda x: x.tanh(), lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), None),
    "sigmoid": (
        lambda x: x.sigmoid(),
        lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s),
        None,
    ),
    "exp": (lambda x: x.exp(), np.exp, None),
    "log": (lambda x: x.log(), lambda x: -1 / x**2, "log"),
    "sqrt": (lambda x: x.sqrt(), lambda x: -0.25 * x**-1.5, "sqrt"),
    "pow3": (lambda x: x**3, lambda x: 6 * x, None),
    "pow_neg": (lambda x: x**-2, lambda x: 6 * x**-4, "pow"),
    "pow_half": (lambda x: x**0.5, lambda x: -0.25 * x**-1.5, "pow"),
    "rpow": (lambda x: 2.0**x, lambda x: np.log(2.0) ** 2 * 2.0**x, None),
    "div": (lambda x: 1 / x, lambda x: 2 / x**3, "div"),
    "softmax": (
        lambda x: gk.F.softmax(x) * gk.Tensor([1.0, -2.0, 0.5]),
        None,  # checked numerically only
        None,
    ),
    "log_softmax": (lambda x: gk.F.log_softmax(x) * gk.Tensor([1.0, -2.0, 0.5]), None, None),
}


@pytest.mark.parametrize("name", sorted(SECOND_DERIVATIVES))
@settings(max_examples=15)
@given(data=st.data())
def test_second_derivatives(name, data):
    f, closed_form, elements = SECOND_DERIVATIVES[name]
    shape = (3,) if name in ("softmax", "log_softmax") else gst.shapes(max_dims=2)
    x = data.draw(gst.tensors(shape=shape, elements=gst.elements_for(elements or name)))
    (g,) = gk.grad(f(x).sum(), x, create_graph=True)
    (h,) = gk.grad(g.sum(), x)
    if closed_form is not None:
        np.testing.assert_allclose(h.data, closed_form(x.data), rtol=1e-9, atol=1e-12)
    # And against central differences of the first derivative.
    assert gradcheck(derivative(f), [x])


_R = np.random.default_rng(4)
_A = _R.normal(size=(2, 3))
_B = _R.normal(size=(3,)) + np.sign(_R.normal(size=3)) * 0.5
_DISTINCT = np.array([[0.3, -1.2, 2.1], [1.7, 0.4, -0.6]])
_INDEX = np.array([1, 0, 1, 2, 1])
_ONEHOT = np.eye(3)[[2, 0]]

# op name -> (function of Tensors, inputs): every op's backward must itself be
# differentiable, since create_graph=True runs it on Tensors. The cube keeps each second
# derivative away from zero.
EVERY_OP = {
    "add": (lambda a, b: (a + b) ** 3, [_A, _B]),
    "sub": (lambda a, b: (a - b) ** 3, [_A, _B]),
    "mul": (lambda a, b: (a * b) ** 3, [_A, _B]),
    "div": (lambda a, b: (a / b) ** 3, [_A, _B]),
    "neg": (lambda a: (-a) ** 3, [_A]),
    "pow": (lambda a, b: b.abs() ** a, [_A, _B]),
    "matmul": (lambda a, b: (a @ b) ** 3, [_A, _B]),
    "matmul_batched": (lambda a, b: (a.reshape(2, 1, 3) @ b.reshape(1, 3, 1)) ** 3, [_A, _B]),
    "sum": (lambda a: a.sum(axis=-1, keepdims=True) ** 3, [_A]),
    "mean": (lambda a: a.mean(axis=(0,)) ** 3, [_A]),
    "max": (lambda a: a.max(axis=1) ** 3, [_DISTINCT]),
    "reshape": (lambda a: a.reshape(3, 2) ** 3, [_A]),
    "transpose": (lambda a: a.reshape(1, 2, 3).transpose(-1, 0, 1) ** 3, [_A]),
    "getitem": (lambda a: a[:, _INDEX] ** 3, [_A]),
    "getitem_basic": (lambda a: a[::-1, 1:] ** 3, [_A]),
    "exp": (lambda a: a.exp() ** 2, [_A]),
    "log": (lambda a: a.abs().log() ** 3, [_DISTINCT]),
    "sqrt": (lambda a: a.abs().sqrt() ** 3, [_DISTINCT]),
    "abs": (lambda a: a.abs() ** 3, [_DISTINCT]),
    "relu": (lambda a: a.relu() ** 3, [_DISTINCT]),
    "sigmoid": (lambda a: a.sigmoid() ** 3, [_A]),
    "tanh": (lambda a: a.tanh() ** 3, [_A]),
    "step": (lambda a: gk.F.step(a) * a**3, [_DISTINCT]),
    "cast": (lambda a: a.astype(np.float64) ** 3, [_A]),
    "softmax": (lambda a: gk.F.softmax(a, axis=0) ** 3, [_A]),
    "log_softmax": (lambda a: gk.F.log_softmax(a) ** 3, [_A]),
    "softmax_cross_entropy": (lambda a: gk.F.softmax_cross_entropy(a, [2, 0]) ** 3, [_A]),
    "softmax_cross_entropy_onehot": (
        lambda a: gk.F.softmax_cross_entropy(a, _ONEHOT) ** 3,
        [_A],
    ),
    "mse": (lambda a, b: gk.F.mse(a, b.reshape(1, 3) * np.ones((2, 1))) ** 3, [_A, _B]),
    "mae": (lambda a: gk.F.mae(a, np.zeros((2, 3))) ** 3, [_DISTINCT]),
    "linear": (lambda a, b: gk.F.linear(a.T, a, b[:3]) ** 3, [_A, _B]),
}


@pytest.mark.parametrize("name", sorted(EVERY_OP))
def test_every_op_is_twice_differentiable(name):
    f, arrays = EVERY_OP[name]
    inputs = [gk.Tensor(a.copy(), requires_grad=True) for a in arrays]
    for i in range(len(inputs)):
        assert gradcheck(derivative(f, wrt=i), inputs)


def test_softmax_cross_entropy_with_a_soft_target_is_twice_differentiable():
    logits = gk.Tensor(_A.copy(), requires_grad=True)
    raw = gk.Tensor(_R.normal(size=(2, 3)), requires_grad=True)
    f = lambda z, r: gk.F.softmax_cross_entropy(z, gk.F.softmax(r)) ** 3  # noqa: E731
    assert gradcheck(derivative(f, wrt=0), [logits, raw])
    assert gradcheck(derivative(f, wrt=1), [logits, raw])


def test_pow_with_tensor_exponent_second_derivatives():
    x = gk.Tensor([0.5, 1.5, 2.0], requires_grad=True)
    y = gk.Tensor([1.5, -0.5, 3.0], requires_grad=True)
    gx, gy = gk.grad((x**y).sum(), [x, y], create_graph=True)
    np.testing.assert_allclose(gx.data, y.data * x.data ** (y.data - 1))
    np.testing.assert_allclose(gy.data, x.data**y.data * np.log(x.data))
    (gyy,) = gk.grad(gy.sum(), y, retain_graph=True)
    np.testing.assert_allclose(gyy.data, x.data**y.data * np.log(x.data) ** 2)
    (gxy,) = gk.grad(gx.sum(), y)  # mixed partial
    np.testing.assert_allclose(gxy.data, x.data ** (y.data - 1) * (1 + y.data * np.log(x.data)))
    assert gradcheck(derivative(lambda a, b: a**b, wrt=1), [x, y])
    assert gradcheck(derivative(lambda a, b: a**b, wrt=0), [x, y])


def test_matmul_second_derivative():
    rng = np.random.default_rng(1)
    A = gk.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    W = gk.Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    V = rng.normal(size=(3, 2))
    (gW,) = gk.grad(((A @ W) ** 2).sum(), W, create_graph=True)
    np.testing.assert_allclose(gW.data, 2 * A.data.T @ A.data @ W.data)
    hvp, g_A = gk.grad((gW * V).sum(), [W, A])
    np.testing.assert_allclose(hvp.data, 2 * A.data.T @ A.data @ V)
    # d/dA <2 A^T A W, V> = 2 A (W V^T + V W^T)
    np.testing.assert_allclose(g_A.data, 2 * A.data @ (W.data @ V.T + V @ W.data.T))
    f = lambda a, w: (a @ w).tanh()  # noqa: E731
    assert gradcheck(derivative(f, wrt=1), [A, W])
    assert gradcheck(derivative(f, wrt=0), [A, W])


@settings(max_examples=15)
@given(gst.matmul_shapes(max_side=3), st.data())
def test_matmul_second_derivative_on_drawn_shapes(shapes, data):
    a = data.draw(gst.tensors(shape=shapes[0]))
    b = data.draw(gst.tensors(shape=shapes[1]))
    f = lambda u, v: (u @ v).sigmoid()  # noqa: E731
    assert gradcheck(derivative(f, wrt=0), [a, b])
    assert gradcheck(derivative(f, wrt=1), [a, b])


def test_softmax_cross_entropy_hessian_vector_product():
    rng = np.random.default_rng(2)
    logits = gk.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    labels = np.array([0, 3, 1])
    v = rng.normal(size=(3, 4))
    (g,) = gk.grad(gk.F.softmax_cross_entropy(logits, labels), logits, create_graph=True)
    p = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g.data, (p - np.eye(4)[labels]) / 3)
    (hv,) = gk.grad((g * v).sum(), logits)
    # Each row's Hessian is (diag(p) - p p^T) / B.
    expected = (p * v - p * (p * v).sum(axis=1, keepdims=True)) / 3
    np.testing.assert_allclose(hv.data, expected, atol=1e-12)
    f = lambda z: gk.F.softmax_cross_entropy(z, labels)  # noqa: E731
    assert gradcheck(derivative(f), [logits])
    onehot = np.eye(4)[labels]
    f = lambda z: gk.F.softmax_cross_entropy(z, onehot)  # noqa: E731
    assert gradcheck(derivative(f), [logits])


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))  # not symmetric: the Hessian of x^T A x is A + A^T
    b = rng.normal(size=4)
    x = gk.Tensor(rng.normal(size=4), requires_grad=True)
    v = rng.normal(size=4)
    f = x @ (A @ x) + b @ x
    (g,) = gk.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.data, (A + A.T) @ x.data + b)
    (hv,) = gk.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.data, (A + A.T) @ v)


def test_third_derivative_of_x_to_the_fourth():
    x = gk.Tensor([-1.5, 0.0, 0.5, 2.0], requires_grad=True)
    (d1,) = gk.grad((x**4).sum(), x, create_graph=True)
    (d2,) = gk.grad(d1.sum(), x, create_graph=True)
    (d3,) = gk.grad(d2.sum(), x, create_graph=True)
    np.testing.assert_allclose(d1.data, 4 * x.data**3)
    np.testing.assert_allclose(d2.data, 12 * x.data**2)
    np.testing.assert_allclose(d3.data, 24 * x.data)
    (d4,) = gk.grad(d3.sum(), x)
    np.testing.assert_allclose(d4.data, [24.0] * 4)


def test_gradient_of_the_gradient_norm():
    # Double backprop: d/dx ||grad f||^2 for f = sum(x^3) is 36 x^3.
    x = gk.Tensor([0.5, -1.0, 2.0], requires_grad=True)
    (g,) = gk.grad((x**3).sum(), x, create_graph=True)
    (g * g).sum().backward()
    np.testing.assert_allclose(x.grad.data, 36 * x.data**3)


def test_second_derivative_matches_numerical_differentiation_of_the_first():
    x0 = np.array([0.3, -0.7, 1.1])

    def first(a):
        t = gk.Tensor(a, requires_grad=True)
        (g,) = gk.grad((t.tanh() * t.exp()).sum(), t)
        return g.data

    x = gk.Tensor(x0.copy(), requires_grad=True)
    (g,) = gk.grad((x.tanh() * x.exp()).sum(), x, create_graph=True)
    (h,) = gk.grad(g.sum(), x)
    # The Hessian is diagonal: its diagonal is d(first_i)/dx_i.
    a = x0.copy()
    numeric = np.array(
        [numerical_gradient(lambda z, i=i: first(z)[i], a, eps=1e-5)[i] for i in range(3)]
    )
    np.testing.assert_allclose(h.data, numeric, rtol=1e-6)


# ----- properties --------------------------------------------------------------------------------


@settings(max_examples=30)
@given(gst.tensors(shape=gst.shapes(max_dims=2)), gst.values(-2, 2), gst.values(-2, 2))
def test_backward_is_linear(x, a, b):
    f = lambda t: (t.tanh() * t).sum()  # noqa: E731
    g = lambda t: (t.exp() + t * t).sum()  # noqa: E731
    (gf,) = gk.grad(f(x), x)
    (gg,) = gk.grad(g(x), x)
    (combined,) = gk.grad(a * f(x) + b * g(x), x)
    np.testing.assert_allclose(combined.data, a * gf.data + b * gg.data, rtol=1e-9, atol=1e-9)


@settings(max_examples=30)
@given(gst.tensors(shape=gst.shapes(max_dims=3)))
def test_two_backward_calls_accumulate_twice_the_grad(x):
    y = (x.sigmoid() * x * x).sum()
    y.backward(retain_graph=True)
    once = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * once)
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(once, s * (1 - s) * x.data**2 + 2 * s * x.data, atol=1e-12)


# ----- deep and wide graphs ----------------------------------------------------------------------


def test_a_chain_of_100_000_ops_backprops_without_recursion():
    x = gk.Tensor(1.5, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y + 1.0
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert y.item() == 50_001.5


def test_a_deep_chain_second_order():
    x = gk.Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(5_000):
        y = y * 1.0001
    (g,) = gk.grad(y * y, x, create_graph=True)
    (h,) = gk.grad(g, x)
    assert h.item() == pytest.approx(2 * 1.0001**10_000, rel=1e-9)


def test_a_wide_graph_of_10_000_branches():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    total = x * 0.0
    for i in range(10_000):
        total = total + x * float(i % 7)
    total.sum().backward()
    expected = sum(float(i % 7) for i in range(10_000))
    np.testing.assert_allclose(x.grad.data, [expected, expected])


def test_a_graph_where_one_node_feeds_10_000_consumers():
    x = gk.Tensor(np.arange(4.0), requires_grad=True)
    h = x.tanh()
    branches = [h[i % 4] * float(i) for i in range(10_000)]
    total = branches[0]
    for b in branches[1:]:
        total = total + b
    total.backward()
    weights = np.zeros(4)
    for i in range(10_000):
        weights[i % 4] += i
    np.testing.assert_allclose(x.grad.data, weights * (1 - np.tanh(x.data) ** 2))


# ----- no reference cycles: graphs are freed by reference counting alone -------------------------


@pytest.fixture
def no_gc():
    """Switch the cycle collector off, so only reference counting can free a graph."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


def test_graph_is_freed_when_the_output_is_dropped(no_gc):
    x = gk.Tensor(np.ones(3), requires_grad=True)
    h = x.tanh()
    y = (h * 2).sum()
    h_ref, h_op = weakref.ref(h), weakref.ref(h.grad_fn)
    y_op = weakref.ref(y.grad_fn)
    del h
    assert h_ref() is not None and h_op() is not None  # y's graph keeps them
    del y
    assert h_ref() is None
    assert h_op() is None
    assert y_op() is None
    assert x.grad_fn is None  # the leaf survives, untouched


def test_graph_is_freed_after_backward(no_gc):
    x = gk.Tensor(np.ones(3), requires_grad=True)
    w = gk.Tensor(np.full(3, 2.0), requires_grad=True)
    h = (x * w).sigmoid()
    y = (h @ w).exp()
    refs = [weakref.ref(h), weakref.ref(h.grad_fn), weakref.ref(y.grad_fn)]
    del h
    y.backward()
    assert x.grad is not None and w.grad is not None
    del y
    assert [r() for r in refs] == [None, None, None]
    # The gradients hold no graph.
    assert x.grad.grad_fn is None and w.grad.grad_fn is None


def test_higher_order_graph_is_freed_too(no_gc):
    x = gk.Tensor(np.ones(3), requires_grad=True)
    t = x.tanh()
    y = (t**2).sum()
    (g,) = gk.grad(y, x, create_graph=True)
    refs = [
        weakref.ref(t),
        weakref.ref(t.grad_fn),
        weakref.ref(y.grad_fn),
        weakref.ref(g),
        weakref.ref(g.grad_fn),
    ]
    del t, y
    assert refs[0]() is not None  # the derivative's graph uses tanh's output
    del g
    assert [r() for r in refs] == [None] * 5


def test_deep_chain_is_freed_by_refcounting(no_gc):
    x = gk.Tensor(1.0, requires_grad=True)
    first = x * 1.0
    ref = weakref.ref(first)
    y = first
    for _ in range(100_000):
        y = y + 1.0
    del first
    assert ref() is not None
    del y
    assert ref() is None
