"""gk.func: Jacobians both ways, Hessians, hvp, compositions, argnums and has_aux."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.func import grad, grad_and_value, hessian, hvp, jacfwd, jacrev, jvp, vjp
from graphkit.testing import strategies as gst


def numerical_jacobian(f, x, eps=1e-6):
    """d f(x) / dx by central differences, of shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    out = f(gk.Tensor(x)).data
    jac = np.zeros(out.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        jac[(..., *index)] = (f(gk.Tensor(x + step)).data - f(gk.Tensor(x - step)).data) / (2 * eps)
    return jac


MAPS = {
    "tanh": lambda x: (x * 1.5 + 0.2).tanh(),
    "softmax": lambda x: gk.F.softmax(x),
    "broadcast and reduce": lambda x: (x.reshape(-1, 1) * x.reshape(1, -1)).sum(axis=0).exp(),
    "indexing with repeats": lambda x: x[np.array([0, 0, -1])] * x.sum(),
    "scalar": lambda x: (x.sigmoid() ** 2).mean(),
}


@pytest.mark.parametrize("name", sorted(MAPS))
@settings(max_examples=15, deadline=None)
@given(x=gst.tensors(shape=gst.shapes(1, 1, 2, 4), requires_grad=False))
def test_jacrev_equals_jacfwd_equals_finite_differences(name, x):
    f = MAPS[name]
    reverse, forward = jacrev(f)(x), jacfwd(f)(x)
    assert reverse.shape == f(x).shape + x.shape
    np.testing.assert_allclose(reverse.data, forward.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reverse.data, numerical_jacobian(f, x.data), rtol=1e-5, atol=1e-7)


def _rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _mlp_loss(x):
    h = (x.reshape(1, -1) @ gk.Tensor(np.linspace(-1, 1, 12).reshape(4, 3))).tanh()
    return (h @ gk.Tensor([[0.5], [-1.0], [2.0]])).sum() ** 2


@pytest.mark.parametrize("f", [_rosenbrock, _mlp_loss], ids=["rosenbrock", "mlp"])
@settings(max_examples=10, deadline=None)
@given(x=gst.tensors(shape=(4,), elements=gst.values(-1.5, 1.5), requires_grad=False))
def test_hessian_is_symmetric_and_agrees_with_every_route(f, x):
    H = hessian(f)(x)
    assert H.shape == (4, 4)
    assert not H.requires_grad
    np.testing.assert_allclose(H.data, H.data.T, rtol=1e-9, atol=1e-9)
    for route in (jacfwd(jacrev(f)), jacrev(jacrev(f)), jacfwd(jacfwd(f)), jacrev(jacfwd(f))):
        np.testing.assert_allclose(route(x).data, H.data, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(H.data, numerical_jacobian(grad(f), x.data), rtol=1e-4, atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(
    x=gst.tensors(shape=(5,), elements=gst.values(-1.5, 1.5), requires_grad=False),
    v=gst.tensors(shape=(5,), requires_grad=False),
)
def test_hvp_is_the_hessian_times_the_vector(x, v):
    value, product = hvp(_rosenbrock, (x,), (v,))
    np.testing.assert_allclose(value.data, _rosenbrock(x).data)
    np.testing.assert_allclose(product[0].data, hessian(_rosenbrock)(x).data @ v.data,
                               rtol=1e-9, atol=1e-8)
    bare_value, bare_product = hvp(_rosenbrock, x, v)
    assert bare_value.item() == value.item()
    np.testing.assert_allclose(bare_product.data, product[0].data)


def test_jvp_returns_the_value_and_the_directional_derivative():
    x = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 2.0, -1.0])
    value, tangent = jvp(lambda t: t.tanh() * t, (x,), (v,))
    np.testing.assert_allclose(value.data, np.tanh(x) * x)
    np.testing.assert_allclose(tangent.data, (np.tanh(x) + x * (1 - np.tanh(x) ** 2)) * v)
    assert isinstance(value, gk.Tensor) and isinstance(tangent, gk.Tensor)
    assert not value.requires_grad and not tangent.requires_grad


def test_jvp_keeps_no_graph_and_records_nothing():
    x = gk.Tensor([1.0, 2.0])
    captured = []

    def f(t):
        y = (t * t).exp()
        captured.append(y)
        return y.sum()

    jvp(f, (x,), (np.ones(2),))
    assert captured[0].grad_fn is None  # forward mode: no node recorded for backward


def test_jvp_with_several_primals_and_outputs():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    da, db = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    (s, p), (ds, dp) = jvp(lambda x, y: (x + y, x * y), (a, b), (da, db))
    np.testing.assert_allclose(s.data, a + b)
    np.testing.assert_allclose(p.data, a * b)
    np.testing.assert_allclose(ds.data, da + db)
    np.testing.assert_allclose(dp.data, da * b + a * db)


def test_outputs_independent_of_the_input_get_zero_tangents_and_jacobians():
    x = np.array([1.0, 2.0])
    _, tangent = jvp(lambda t: gk.Tensor([3.0, 4.0, 5.0]), (x,), (np.ones(2),))
    np.testing.assert_array_equal(tangent.data, np.zeros(3))
    for jac in (jacrev, jacfwd):
        np.testing.assert_array_equal(jac(lambda t: gk.Tensor([3.0]) + 0 * t.sum())(x).data,
                                      np.zeros((1, 2)))


def test_comparisons_and_argmax_like_outputs_carry_no_tangent():
    x = gk.Tensor([1.0, -2.0])
    with gk.forward.dual_level() as level:
        gk.forward.attach(x, level, np.ones(2))
        assert gk.forward.tangent_of(x > 0, level) is None
        assert gk.forward.tangent_of(x.detach(), level) is None
        assert gk.forward.tangent_of(x.exp(), level) is not None


def test_tangents_keep_float32_and_must_match_the_primal_shape():
    x = np.array([1.0, 2.0], dtype=np.float32)
    value, tangent = jvp(lambda t: t * 3.0, (x,), (np.ones(2),))
    assert value.dtype == np.float32 and tangent.dtype == np.float32
    with pytest.raises(ValueError, match=r"tangent of shape \(3,\) for a primal of shape \(2,\)"):
        jvp(lambda t: t, (x,), (np.ones(3),))
    with pytest.raises(ValueError, match="2 primals"):
        jvp(lambda a, b: a + b, (x, x), (np.ones(2),))


def test_inputs_may_be_tensors_arrays_or_numbers():
    for x in (gk.Tensor(3.0), np.float64(3.0), 3.0, np.array(3.0)):
        assert grad(lambda t: t**3)(x).item() == pytest.approx(27.0)
        assert jvp(lambda t: t**3, (x,), (1.0,))[1].item() == pytest.approx(27.0)
        assert hessian(lambda t: t**3)(x).item() == pytest.approx(18.0)


def test_compositions():
    cube = lambda t: (t**3).sum()  # noqa: E731
    x = gk.Tensor(2.0)
    assert grad(grad(cube))(x).item() == pytest.approx(12.0)
    assert grad(grad(grad(cube)))(x).item() == pytest.approx(6.0)
    # jvp of a grad: the directional second derivative
    _, second = jvp(grad(cube), (x,), (1.0,))
    assert second.item() == pytest.approx(12.0)
    # jvp of jvp: forward over forward
    def first(t):
        return jvp(cube, (t,), (1.0,))[1]

    assert jvp(first, (x,), (1.0,))[1].item() == pytest.approx(12.0)
    # grad of a jvp: reverse over forward
    assert grad(first)(x).item() == pytest.approx(12.0)


def test_transforms_differentiate_through_user_tensors_that_require_grad():
    w = gk.Tensor([1.0, 2.0], requires_grad=True)
    g = grad(lambda t: (t * t).sum())(w)  # 2 w, and still differentiable in w
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(w.grad.data, [2.0, 2.0])


def test_argnums_tuples_and_has_aux():
    f = lambda a, b: ((a * b).sum(), {"note": "aux"})  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    (ga, gb), aux = grad(f, argnums=(0, 1), has_aux=True)(a, b)
    np.testing.assert_allclose(ga.data, b)
    np.testing.assert_allclose(gb.data, a)
    assert aux == {"note": "aux"}
    g, (value, aux) = grad_and_value(f, argnums=1, has_aux=True)(a, b)
    np.testing.assert_allclose(g.data, a)
    assert value.item() == pytest.approx(11.0)
    ja, jb = jacrev(lambda a, b: a * b, argnums=(0, 1))(a, b)
    fa, fb = jacfwd(lambda a, b: a * b, argnums=(0, 1))(a, b)
    for jac_a, jac_b in ((ja, jb), (fa, fb)):
        np.testing.assert_allclose(jac_a.data, np.diag(b))
        np.testing.assert_allclose(jac_b.data, np.diag(a))
    np.testing.assert_allclose(jacfwd(lambda a, b: a * b, argnums=-1)(a, b).data, np.diag(a))
    with pytest.raises(ValueError, match="argument 2"):
        grad(lambda a, b: a.sum(), argnums=2)(a, b)


def test_grad_needs_a_scalar_output():
    with pytest.raises(RuntimeError, match=r"scalar.*shape \(2,\)"):
        grad(lambda t: t * 2)(np.ones(2))


def test_vjp_gives_one_gradient_per_primal_and_can_be_called_twice():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, vjp_fn = vjp(lambda x, y: x * y, a, b)
    np.testing.assert_allclose(out.data, a * b)
    for _ in range(2):
        ga, gb = vjp_fn(np.array([1.0, -1.0]))
        np.testing.assert_allclose(ga.data, [3.0, -4.0])
        np.testing.assert_allclose(gb.data, [1.0, -2.0])
    with pytest.raises(ValueError, match=r"cotangent of shape \(3,\)"):
        vjp_fn(np.ones(3))


def test_jacobian_shape_is_output_shape_plus_input_shape():
    x = np.ones((2, 3))
    f = lambda t: t.sum(axis=0).reshape(3, 1) * 2  # noqa: E731
    assert jacrev(f)(x).shape == (3, 1, 2, 3)
    assert jacfwd(f)(x).shape == (3, 1, 2, 3)
    assert jacrev(f)(np.ones((0, 3))).shape == (3, 1, 0, 3)
    assert jacfwd(f)(np.ones((0, 3))).shape == (3, 1, 0, 3)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 5))
def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose(n):
    A = np.arange(n * n, dtype=np.float64).reshape(n, n) / 7
    H = hessian(lambda x: x @ (gk.Tensor(A) @ x))(np.ones(n))
    np.testing.assert_allclose(H.data, A + A.T, atol=1e-12)


def test_results_stay_differentiable_in_the_parameters_a_function_closes_over():
    w = gk.Tensor([0.5, -1.0, 2.0], requires_grad=True)
    x = np.array([1.0, 2.0, 3.0])
    # A gradient penalty: the gradient in x, differentiated in w.
    g = grad(lambda t: ((t * w).sum()) ** 2)(x)  # 2 (x.w) w
    assert g.requires_grad
    (g * g).sum().backward()  # 4 (x.w)^2 |w|^2
    s = float(x @ w.data)
    expected = 8 * s * (w.data @ w.data) * x + 8 * s * s * w.data
    np.testing.assert_allclose(w.grad.data, expected)
    # reverse over a forward-mode result: d/dw of J(x) v with J = diag(w)
    v = np.array([1.0, 0.0, 2.0])
    gw = grad(lambda u: jvp(lambda t: t * u, (x,), (v,))[1].sum())(w.data)
    np.testing.assert_allclose(gw.data, v)
    w.grad = None
    jvp(lambda t: t * w, (x,), (v,))[1].sum().backward()
    np.testing.assert_allclose(w.grad.data, v)
    # a Hessian that depends on the parameters, differentiated in them
    H = hessian(lambda t: (t * t * w).sum())(x)  # diag(2 w)
    assert H.requires_grad
    w.grad = None
    H.sum().backward()
    np.testing.assert_allclose(w.grad.data, [2.0, 2.0, 2.0])


def test_an_output_returned_twice_gets_its_tangent_twice():
    (a, b), (da, db) = jvp(lambda t: (t * 2,) * 2, (np.ones(2),), (np.array([1.0, 3.0]),))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(da.data, [2.0, 6.0])
    np.testing.assert_array_equal(db.data, [2.0, 6.0])
