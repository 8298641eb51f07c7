"""add sub mul div neg pow matmul: forward values, gradchecks on drawn shapes, broadcasting,
errors."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit import ops
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

BINARY = {
    "add": (operator.add, np.add, "add"),
    "sub": (operator.sub, np.subtract, "sub"),
    "mul": (operator.mul, np.multiply, "mul"),
    "div": (operator.truediv, np.divide, "div"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=30)
@given(shapes=gst.broadcastable_shapes(2), data=st.data())
def test_binary_ops_on_broadcast_shapes(name, shapes, data):
    op, np_op, elements = BINARY[name]
    a = data.draw(gst.tensors(shape=shapes[0]))
    b = data.draw(gst.tensors(shape=shapes[1], elements=gst.elements_for(elements)))
    out = op(a, b)
    np.testing.assert_allclose(out.data, np_op(a.data, b.data))
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    assert gradcheck(op, [a, b])
    # Gradients come back in each input's own shape.
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a.shape
    assert b.grad.shape == b.shape


@settings(max_examples=30)
@given(shapes=gst.broadcastable_shapes(2), data=st.data())
def test_broadcast_grads_are_summed_back(shapes, data):
    a = data.draw(gst.tensors(shape=shapes[0]))
    b = data.draw(gst.tensors(shape=shapes[1]))
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    g = data.draw(gst.tensors(shape=out_shape, requires_grad=False)).data
    (a * b).backward(g)

    def summed_to(full, shape):
        lead = full.ndim - len(shape)
        full = full.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
        return full.sum(axis=axes, keepdims=True)

    np.testing.assert_allclose(
        a.grad.data, summed_to(g * np.broadcast_to(b.data, out_shape), a.shape), atol=1e-12
    )
    np.testing.assert_allclose(
        b.grad.data, summed_to(g * np.broadcast_to(a.data, out_shape), b.shape), atol=1e-12
    )


def test_broadcast_reduce_back_by_hand():
    a = gk.Tensor(np.ones((3, 1)), requires_grad=True)
    b = gk.Tensor(np.arange(4.0), requires_grad=True)
    s = gk.Tensor(2.0, requires_grad=True)
    ((a + b) * s).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[8.0], [8.0], [8.0]])
    np.testing.assert_array_equal(b.grad.data, [6.0, 6.0, 6.0, 6.0])
    assert s.grad.shape == ()
    assert s.grad.item() == (3 * (1 + np.arange(4.0))).sum()


@settings(max_examples=20)
@given(gst.tensors())
def test_neg(x):
    np.testing.assert_array_equal((-x).data, -x.data)
    np.testing.assert_array_equal(ops.neg(x).data, -x.data)
    assert gradcheck(lambda t: -t, [x])


@pytest.mark.parametrize(
    ("expr", "grad_a", "grad_b"),
    [
        (lambda a, b: a + b, lambda a, b: 1, lambda a, b: 1),
        (lambda a, b: a - b, lambda a, b: 1, lambda a, b: -1),
        (lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
        (lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: -a / b**2),
        (lambda a, b: a**b, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a)),
    ],
)
def test_closed_form_gradients(expr, grad_a, grad_b):
    a0, b0 = np.array([0.5, 1.5, 2.5]), np.array([2.0, -1.0, 0.5])
    a = gk.Tensor(a0, requires_grad=True)
    b = gk.Tensor(b0, requires_grad=True)
    expr(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.data, grad_a(a0, b0) * np.ones(3))
    np.testing.assert_allclose(b.grad.data, grad_b(a0, b0) * np.ones(3))


# ----- pow ----------------------------------------------------------------------------------------


@settings(max_examples=30)
@given(shapes=gst.broadcastable_shapes(2, max_dims=2), data=st.data())
def test_pow_with_tensor_exponent(shapes, data):
    a = data.draw(gst.tensors(shape=shapes[0], elements=gst.elements_for("pow")))
    b = data.draw(gst.tensors(shape=shapes[1], elements=gst.values(-2, 2)))
    np.testing.assert_allclose((a**b).data, a.data**b.data)
    assert gradcheck(lambda x, y: x**y, [a, b])


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, -1.5, 2.0, 1])
@settings(max_examples=15)
@given(x=gst.tensors(elements=gst.elements_for("pow")))
def test_pow_with_scalar_exponent(exponent, x):
    np.testing.assert_allclose((x**exponent).data, x.data**exponent)
    assert gradcheck(lambda t: t**exponent, [x])
    (x**exponent).backward(np.ones(x.shape))
    np.testing.assert_allclose(x.grad.data, exponent * x.data ** (exponent - 1))


@pytest.mark.parametrize("base", [2, 0.5, 3.0, np.e])
@settings(max_examples=15)
@given(x=gst.tensors())
def test_reflected_pow(base, x):
    out = base**x
    assert isinstance(out, gk.Tensor)
    np.testing.assert_allclose(out.data, base**x.data)
    assert gradcheck(lambda t: base**t, [x])


def test_pow_kinks_and_zero_exponent():
    x = gk.Tensor([0.0, 1.0, -2.0], requires_grad=True)
    (x**2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, -4.0])  # d(x**2)/dx at 0 is 0
    x.zero_grad()
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    assert not np.isnan(x.grad.data).any()
    np.testing.assert_array_equal((x**0).data, [1.0, 1.0, 1.0])
    x.zero_grad()
    (x**1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


def test_pow_exponent_grad_at_zero_base_is_zero():
    a = gk.Tensor([0.0, 2.0], requires_grad=True)
    b = gk.Tensor([2.0, 3.0], requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad.data, [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(a.grad.data, [0.0, 12.0])


# ----- matmul ------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(shapes=gst.matmul_shapes(), data=st.data())
def test_matmul_on_drawn_shapes(shapes, data):
    a = data.draw(gst.tensors(shape=shapes[0]))
    b = data.draw(gst.tensors(shape=shapes[1]))
    out = a @ b
    np.testing.assert_allclose(out.data, np.matmul(a.data, b.data), atol=1e-12)
    assert gradcheck(lambda x, y: x @ y, [a, b])
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((3,), (3,)),
        ((3,), (3, 2)),
        ((4, 3), (3,)),
        ((4, 3), (3, 2)),
        ((2, 4, 3), (3, 2)),
        ((3,), (5, 3, 2)),
        ((2, 1, 4, 3), (5, 3, 2)),
        ((5, 4, 3), (3,)),
        ((1, 4, 3), (2, 3, 2)),
    ],
)
def test_matmul_shapes_by_hand(sa, sb):
    rng = np.random.default_rng(sum(sa) + 7 * sum(sb))
    a = gk.Tensor(rng.normal(size=sa), requires_grad=True)
    b = gk.Tensor(rng.normal(size=sb), requires_grad=True)
    np.testing.assert_allclose((a @ b).data, np.matmul(a.data, b.data))
    assert gradcheck(lambda x, y: x @ y, [a, b])


def test_matmul_2d_closed_form():
    rng = np.random.default_rng(0)
    A = gk.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    B = gk.Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    G = rng.normal(size=(4, 2))
    (A @ B).backward(G)
    np.testing.assert_allclose(A.grad.data, G @ B.data.T)
    np.testing.assert_allclose(B.grad.data, A.data.T @ G)


def test_matmul_with_a_constant_operand():
    W = gk.Tensor(np.ones((3, 2)), requires_grad=True)
    x = np.arange(6.0).reshape(2, 3)
    (x @ W).sum().backward()
    np.testing.assert_allclose(W.grad.data, x.T @ np.ones((2, 2)))
    W.zero_grad()
    (gk.Tensor(x) @ W).sum().backward()
    np.testing.assert_allclose(W.grad.data, x.T @ np.ones((2, 2)))


# ----- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "name", "shapes"),
    [
        (lambda a, b: a + b, "add", ("(2, 3)", "(4,)")),
        (lambda a, b: a - b, "sub", ("(2, 3)", "(4,)")),
        (lambda a, b: a * b, "mul", ("(2, 3)", "(4,)")),
        (lambda a, b: a / b, "div", ("(2, 3)", "(4,)")),
        (lambda a, b: a**b, "pow", ("(2, 3)", "(4,)")),
    ],
)
def test_broadcast_mismatch_names_the_op_and_both_shapes(expr, name, shapes):
    a = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    b = gk.Tensor(np.ones(4), requires_grad=True)
    with pytest.raises(ValueError) as info:
        expr(a, b)
    message = str(info.value)
    assert name in message
    for shape in shapes:
        assert shape in message


@pytest.mark.parametrize(
    ("sa", "sb"), [((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (3, 3, 2)), ((2, 3), (2,))]
)
def test_matmul_mismatch_names_the_op_and_both_shapes(sa, sb):
    a = gk.Tensor(np.ones(sa), requires_grad=True)
    b = gk.Tensor(np.ones(sb))
    with pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert "matmul" in message
    assert str(sa) in message and str(sb) in message


def test_matmul_of_scalars_is_an_error():
    with pytest.raises(ValueError, match="matmul"):
        gk.Tensor(2.0) @ gk.Tensor(3.0)


@pytest.mark.parametrize("bad", ["s", None, object(), {"k": 1}, np.array(["a"])])
@pytest.mark.parametrize(
    "op",
    [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.matmul],
)
def test_wrong_operand_types(op, bad):
    t = gk.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        op(t, bad)
    with pytest.raises(TypeError):
        op(bad, t)


@pytest.mark.parametrize(
    ("a", "b", "words"),
    [((2, 3), (2, 3), "last axis has 3"), ((3,), (2,), "only axis has 2"),
     ((2, 2, 3), (3, 3, 5), "batch axes")],
)
def test_matmul_mismatch_says_which_axes_disagree(a, b, words):
    with pytest.raises(ValueError, match=words) as caught:
        gk.Tensor(np.ones(a)) @ gk.Tensor(np.ones(b))
    assert str(a) in str(caught.value) and str(b) in str(caught.value)
