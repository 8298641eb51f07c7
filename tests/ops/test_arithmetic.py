"""add sub mul div neg pow matmul linear maximum minimum where: forward values, gradients on
drawn shapes, forward mode, second derivatives, broadcasting, PyTorch's edge cases, errors."""

import operator

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit import ops
from graphkit.func import jvp
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

BINARY = {
    "add": (operator.add, np.add, "add"),
    "sub": (operator.sub, np.subtract, "sub"),
    "mul": (operator.mul, np.multiply, "mul"),
    "div": (operator.truediv, np.divide, "div"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25)
@given(shapes=gst.broadcastable_shapes(2), data=st.data())
def test_binary_ops_on_broadcast_shapes(name, shapes, data):
    op, np_op, elements = BINARY[name]
    a = data.draw(gst.tensors(shape=shapes[0]))
    b = data.draw(gst.tensors(shape=shapes[1], elements=gst.elements_for(elements)))
    out = op(a, b)
    np.testing.assert_allclose(out.data, np_op(a.data, b.data))
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    assert gradcheck(op, [a, b])
    assert_forward_mode(op, [a, b])
    assert_second_order(op, [a, b])
    # One input without a tangent: its term is left out, not a zero array.
    assert_forward_mode(op, [a, gk.Tensor(b.data)])
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


# ----- forward mode and second derivatives of the ops above --------------------------------------


@settings(max_examples=15)
@given(gst.tensors())
def test_neg_forward_mode_and_second_order(x):
    assert_forward_mode(lambda t: -t, [x])
    assert_second_order(lambda t: -t * t, [x])


@settings(max_examples=15)
@given(shapes=gst.broadcastable_shapes(2, max_dims=2), data=st.data())
def test_pow_forward_mode_and_second_order(shapes, data):
    a = data.draw(gst.tensors(shape=shapes[0], elements=gst.elements_for("pow")))
    b = data.draw(gst.tensors(shape=shapes[1], elements=gst.values(-2, 2)))
    assert_forward_mode(lambda x, y: x**y, [a, b])
    assert_second_order(lambda x, y: x**y, [a, b])
    for exponent in (2, -1.5, 0):
        assert_forward_mode(lambda x, e=exponent: x**e, [a])
        assert_second_order(lambda x, e=exponent: x**e, [a])
    assert_forward_mode(lambda y: 2.5**y, [b])
    assert_second_order(lambda y: 2.5**y, [b])


@settings(max_examples=15)
@given(shapes=gst.matmul_shapes(max_side=3), data=st.data())
def test_matmul_forward_mode_and_second_order(shapes, data):
    a = data.draw(gst.tensors(shape=shapes[0]))
    b = data.draw(gst.tensors(shape=shapes[1]))
    assert_forward_mode(lambda x, y: x @ y, [a, b])
    assert_second_order(lambda x, y: x @ y, [a, b])


@settings(max_examples=15)
@given(data=st.data())
def test_linear_forward_mode_and_second_order(data):
    batch = data.draw(st.sampled_from([(), (2,), (2, 3)]))
    n_in, n_out = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    x = data.draw(gst.tensors(shape=(*batch, n_in)))
    W = data.draw(gst.tensors(shape=(n_in, n_out)))
    b = data.draw(gst.tensors(shape=(n_out,)))
    assert gradcheck(gk.F.linear, [x, W, b])
    assert_forward_mode(gk.F.linear, [x, W, b])
    assert_second_order(gk.F.linear, [x, W, b])
    assert_forward_mode(lambda u, w: gk.F.linear(u, w), [x, W])


# ----- pow at its edges, as PyTorch --------------------------------------------------------------


@pytest.mark.parametrize(
    ("exponent", "grad_base", "grad_exponent"),
    # PyTorch: d/da = b a^(b-1), 0 where b == 0; d/db = a^b log a, 0 where a == 0 and b >= 0.
    [(0.0, 0.0, 0.0), (0.5, np.inf, 0.0), (1.0, 1.0, 0.0), (2.0, 0.0, 0.0),
     (-1.0, -np.inf, -np.inf)],
)
def test_pow_at_base_zero_follows_pytorch(exponent, grad_base, grad_exponent):
    a = gk.Tensor([0.0], requires_grad=True)
    b = gk.Tensor([exponent], requires_grad=True)
    with np.errstate(divide="ignore"):
        ga, gb = gk.grad((a**b).sum(), [a, b])
        (g_scalar,) = gk.grad((a**exponent).sum(), a)
    assert ga.data[0] == grad_base and gb.data[0] == grad_exponent
    assert g_scalar.data[0] == grad_base


def test_gradient_of_x_to_the_zero_is_zero_everywhere():
    x = gk.Tensor([-np.inf, -2.0, -0.0, 0.0, 3.0, np.inf], requires_grad=True)
    zero = gk.Tensor(np.zeros(6), requires_grad=True)
    np.testing.assert_array_equal((x**0).data, np.ones(6))
    # Even an infinite upstream gradient gives 0, not inf * 0.
    (g,) = gk.grad(x**0, x, grad_outputs=np.full(6, np.inf))
    np.testing.assert_array_equal(g.data, np.zeros(6))
    with np.errstate(divide="ignore", invalid="ignore"):
        gx, _ = gk.grad((x**zero).sum(), [x, zero])
    np.testing.assert_array_equal(gx.data, np.zeros(6))
    _, tangent = jvp(lambda t: t**0, (x,), (np.ones(6),))
    np.testing.assert_array_equal(tangent.data, np.zeros(6))


def test_pow_second_derivative_through_a_zero_exponent_is_finite():
    a = gk.Tensor([0.0, 2.0], requires_grad=True)
    b = gk.Tensor([0.0, 3.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (ga,) = gk.grad((a**b).sum(), a, create_graph=True)
        (gaa,) = gk.grad(ga.sum(), a)
    np.testing.assert_array_equal(ga.data, [0.0, 12.0])
    np.testing.assert_array_equal(gaa.data, [0.0, 12.0])


# ----- maximum and minimum -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "np_fn"), [("maximum", np.maximum), ("minimum", np.minimum)])
@settings(max_examples=25)
@given(pair=gst.separated_pairs())
def test_maximum_and_minimum(name, np_fn, pair):
    a, b = pair
    fn = getattr(gk.F, name)
    out = fn(a, b)
    np.testing.assert_array_equal(out.data, np_fn(a.data, b.data))
    assert gradcheck(fn, [a, b])
    assert_forward_mode(fn, [a, b])
    assert_second_order(fn, [a, b])
    ga, gb = gk.grad(out.sum(), [a, b])
    assert ga.shape == a.shape and gb.shape == b.shape


@pytest.mark.parametrize(("name", "np_fn"), [("maximum", np.maximum), ("minimum", np.minimum)])
def test_maximum_and_minimum_split_a_tie_in_half(name, np_fn):
    a = gk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = gk.Tensor(2.0, requires_grad=True)
    fn = getattr(gk.F, name)
    out = fn(a, b)
    np.testing.assert_array_equal(out.data, np_fn(a.data, 2.0))
    share_a = np.array([0.0, 0.5, 1.0] if name == "maximum" else [1.0, 0.5, 0.0])
    g = np.array([1.0, 4.0, 1.0])
    ga, gb = gk.grad(out, [a, b], grad_outputs=g)
    np.testing.assert_array_equal(ga.data, g * share_a)
    assert gb.item() == (g * (1 - share_a)).sum()
    _, tangent = jvp(fn, (a, b), (np.ones(3), np.array(3.0)))
    np.testing.assert_array_equal(tangent.data, share_a + 3 * (1 - share_a))


def test_maximum_with_numbers_arrays_and_float32():
    x = gk.Tensor(np.array([-1.0, 0.5], np.float32), requires_grad=True)
    y = gk.F.maximum(x, 0)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [0.0, 0.5])
    (g,) = gk.grad(y.sum(), x)
    assert g.dtype == np.float32
    assert gk.F.minimum([1.0, 5.0], np.array([2.0, 3.0])).data.tolist() == [1.0, 3.0]
    assert gk.F.maximum(1.0, 2.0).item() == 2.0


# ----- where -------------------------------------------------------------------------------------


@settings(max_examples=25)
@given(shapes=gst.broadcastable_shapes(3, max_dims=3), data=st.data())
def test_where(shapes, data):
    mask = data.draw(gst.bool_masks(shapes[0]))
    a = data.draw(gst.tensors(shape=shapes[1]))
    b = data.draw(gst.tensors(shape=shapes[2]))
    out = gk.F.where(mask, a, b)
    np.testing.assert_array_equal(out.data, np.where(mask, a.data, b.data))
    assert gradcheck(lambda x, y: gk.F.where(mask, x, y), [a, b])
    assert_forward_mode(lambda x, y: gk.F.where(mask, x * x, y), [a, b])
    assert_second_order(lambda x, y: gk.F.where(mask, x * x, y * x), [a, b])
    assert_forward_mode(lambda x: gk.F.where(mask, x, 0.0), [a])


def test_where_sends_each_gradient_to_the_chosen_operand():
    x = gk.Tensor([-2.0, -1.0, 1.0, 2.0], requires_grad=True)
    y = gk.F.where(x > 0, x * x, -3 * x)
    np.testing.assert_array_equal(y.data, [6.0, 3.0, 1.0, 4.0])
    (g,) = gk.grad(y.sum(), x)
    np.testing.assert_array_equal(g.data, [-3.0, -3.0, 2.0, 4.0])
    # An infinite gradient in the branch not taken stays out (no inf * 0).
    a = gk.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = gk.grad(gk.F.where(np.array([True, False]), a, 0.0), a,
                   grad_outputs=np.array([1.0, np.inf]))
    np.testing.assert_array_equal(g.data, [1.0, 0.0])


def test_where_keeps_float32_and_takes_numbers():
    x = gk.Tensor(np.array([-1.0, 2.0], np.float32), requires_grad=True)
    y = gk.F.where(x > 0, x, 0.0)
    assert y.dtype == np.float32
    (g,) = gk.grad(y.sum(), x)
    assert g.dtype == np.float32 and g.data.tolist() == [0.0, 1.0]
    assert gk.F.where([True, False], 1.0, 2.0).data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("condition", [np.array([1.0, 0.0]), gk.Tensor([1.0, 0.0]), [0, 1]])
def test_where_rejects_a_condition_that_is_not_bool(condition):
    with pytest.raises(TypeError, match="where: condition must be a bool array"):
        gk.F.where(condition, gk.Tensor([1.0, 2.0]), 0.0)


def test_where_names_itself_when_shapes_do_not_broadcast():
    with pytest.raises(ValueError, match="where") as info:
        gk.F.where(np.ones(3, bool), gk.Tensor(np.ones(2)), 0.0)
    assert "(3,)" in str(info.value) and "(2,)" in str(info.value)
