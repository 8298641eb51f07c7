"""The Tensor itself: construction and dtype rules, attributes, protocols, operators."""

import numpy as np
import pytest

import graphkit as gk
from graphkit.backend import AxisError

# ----- construction and dtype rules ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([1, 2, 3], np.float64),
        ([1.5, 2.5], np.float64),
        ([True, False], np.float64),
        (3, np.float64),
        (2.5, np.float64),
        (True, np.float64),
        (np.arange(3), np.float64),
        (np.arange(3, dtype=np.int32), np.float64),
        (np.array([True, False]), np.float64),
        (np.ones(3, dtype=np.float32), np.float32),
        (np.ones(3, dtype=np.float64), np.float64),
        (np.float32(2.0), np.float32),
    ],
)
def test_dtype_rules(data, dtype):
    assert gk.Tensor(data).dtype == dtype


def test_explicit_dtype_wins():
    assert gk.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert gk.Tensor(np.arange(3), dtype=np.int64).dtype == np.int64
    assert gk.Tensor(np.ones(2), dtype=gk.float32).dtype == np.float32


def test_floating_ndarray_is_wrapped_without_copy():
    a = np.ones(3)
    t = gk.Tensor(a)
    assert t.data is a or np.shares_memory(t.data, a)
    assert np.shares_memory(t.numpy(), a)


def test_tensor_from_tensor_keeps_values():
    t = gk.Tensor(gk.Tensor([1.0, 2.0]))
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


@pytest.mark.parametrize("bad", ["abc", object(), [1 + 2j], {"a": 1}])
def test_non_numeric_data_is_a_type_error(bad):
    with pytest.raises(TypeError):
        gk.Tensor(bad)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError):
        gk.Tensor(np.arange(3), dtype=np.int64, requires_grad=True)


def test_gk_tensor_is_the_constructor():
    t = gk.tensor([1, 2], requires_grad=True, name="w", dtype=np.float32)
    assert isinstance(t, gk.Tensor)
    assert t.requires_grad and t.name == "w" and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, [1, 2])


# ----- attributes and protocols ------------------------------------------------------------


def test_attributes():
    t = gk.Tensor(np.zeros((2, 3, 4)), requires_grad=True, name="x")
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.size == 24
    assert t.dtype == np.float64
    assert t.name == "x"
    assert t.grad is None and t.grad_fn is None
    assert t.requires_grad is True
    assert isinstance(t.data, np.ndarray)
    assert gk.Tensor(1.0).requires_grad is False


def test_numpy_shares_the_data():
    t = gk.Tensor([1.0, 2.0])
    assert t.numpy() is t.data


def test_item():
    assert gk.Tensor(3.5).item() == 3.5
    assert gk.Tensor([[7.0]]).item() == 7.0
    assert isinstance(gk.Tensor([2.0]).item(), float)
    with pytest.raises(ValueError):
        gk.Tensor([1.0, 2.0]).item()


def test_len():
    assert len(gk.Tensor(np.zeros((5, 2)))) == 5
    with pytest.raises(TypeError):
        len(gk.Tensor(1.0))


def test_array_protocol():
    t = gk.Tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, t.data)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copied = np.array(t, copy=True)
    assert not np.shares_memory(copied, t.data)
    # NumPy functions see the values.
    assert np.sum(t.data) == 10.0
    assert float(np.linalg.norm(np.asarray(t))) == pytest.approx(np.sqrt(30.0))


def test_float_and_int_conversion():
    assert float(gk.Tensor([2.5])) == 2.5
    assert int(gk.Tensor(3.0)) == 3


def test_detach():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None
    assert d.requires_grad is False
    assert np.shares_memory(d.data, y.data)
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    # Computing from the detached tensor records nothing.
    assert (d * 3).grad_fn is None


def test_zero_grad():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    x.zero_grad()
    assert x.grad is None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])


def test_repr_names_shape_dtype_and_grad_fn():
    x = gk.Tensor(np.ones((2, 3)), requires_grad=True, name="weights")
    text = repr(x)
    assert "shape=(2, 3)" in text
    assert "float64" in text
    assert "requires_grad=True" in text
    assert "weights" in text
    y = x.tanh()
    text = repr(y)
    assert "grad_fn=<tanh>" in text
    assert "shape=(2, 3)" in text
    assert "float32" in repr(gk.Tensor(np.ones(2, np.float32)))
    # Large tensors are summarised, not printed in full.
    assert len(repr(gk.Tensor(np.zeros(100_000)))) < 1000


def test_T_reverses_the_axes():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = gk.Tensor(a)
    assert t.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(t.T.data, a.T)
    assert gk.Tensor([1.0, 2.0]).T.shape == (2,)


def test_is_leaf():
    x = gk.Tensor(1.0, requires_grad=True)
    assert x.is_leaf
    assert not (x * 2).is_leaf


# ----- comparisons and hashing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "np_op"),
    [
        (lambda a, b: a == b, np.equal),
        (lambda a, b: a != b, np.not_equal),
        (lambda a, b: a < b, np.less),
        (lambda a, b: a <= b, np.less_equal),
        (lambda a, b: a > b, np.greater),
        (lambda a, b: a >= b, np.greater_equal),
    ],
)
@pytest.mark.parametrize("kind", ["tensor", "scalar", "ndarray"])
def test_comparisons_are_elementwise_bool_tensors_without_grad(op, np_op, kind):
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([4.0, 2.0, 1.0, 4.0])
    other = {"tensor": gk.Tensor(b, requires_grad=True), "scalar": 2.0, "ndarray": b}[kind]
    expected = np_op(a, b if kind != "scalar" else 2.0)
    result = op(gk.Tensor(a, requires_grad=True), other)
    assert isinstance(result, gk.Tensor)
    assert result.dtype == np.bool_
    assert result.requires_grad is False and result.grad_fn is None
    np.testing.assert_array_equal(result.data, expected)


def test_reflected_comparison_with_ndarray_gives_a_tensor():
    result = np.array([1.0, 5.0]) < gk.Tensor([2.0, 2.0])
    assert isinstance(result, gk.Tensor)
    np.testing.assert_array_equal(result.data, [True, False])


def test_tensors_hash_by_identity():
    a = gk.Tensor([1.0, 2.0])
    b = gk.Tensor([1.0, 2.0])  # equal values, a different tensor
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    s = {a, b, a}
    assert len(s) == 2
    assert a in s
    assert gk.Tensor([1.0, 2.0]) not in s
    assert hash(a) == hash(a) and hash(a) != hash(b)


# ----- operators with Python numbers and ndarrays ---------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda t: t + 1, [2.0, 3.0]),
        (lambda t: 1 + t, [2.0, 3.0]),
        (lambda t: t - 1, [0.0, 1.0]),
        (lambda t: 1 - t, [0.0, -1.0]),
        (lambda t: t * 3, [3.0, 6.0]),
        (lambda t: 3 * t, [3.0, 6.0]),
        (lambda t: t / 2, [0.5, 1.0]),
        (lambda t: 2 / t, [2.0, 1.0]),
        (lambda t: t**2, [1.0, 4.0]),
        (lambda t: 2**t, [2.0, 4.0]),
        (lambda t: -t, [-1.0, -2.0]),
        (lambda t: +t, [1.0, 2.0]),
        (lambda t: np.array([1.0, 1.0]) + t, [2.0, 3.0]),
        (lambda t: np.array([1.0, 1.0]) - t, [0.0, -1.0]),
        (lambda t: np.array([2.0, 2.0]) * t, [2.0, 4.0]),
        (lambda t: np.array([2.0, 2.0]) / t, [2.0, 1.0]),
        (lambda t: np.array([3.0, 3.0]) ** t, [3.0, 9.0]),
        (lambda t: np.float64(2.0) * t, [2.0, 4.0]),
        (lambda t: t + np.array([1, 1]), [2.0, 3.0]),
        (lambda t: t + [1, 1], [2.0, 3.0]),  # noqa: RUF005 (t is a Tensor, not a list)
    ],
)
def test_operators_with_numbers_and_arrays(expr, expected):
    t = gk.Tensor([1.0, 2.0], requires_grad=True)
    out = expr(t)
    assert isinstance(out, gk.Tensor)
    np.testing.assert_allclose(out.data, expected)
    assert out.grad_fn is not None or out is t


def test_reflected_ndarray_ops_are_differentiable():
    t = gk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = np.array([2.0, 3.0, 4.0])
    out = (np.ones(3) + t) * w
    assert isinstance(out, gk.Tensor)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.data, w)

    m = gk.Tensor(np.eye(3), requires_grad=True)
    v = np.array([1.0, 2.0, 3.0])
    out = v @ m
    assert isinstance(out, gk.Tensor)
    out.sum().backward()
    np.testing.assert_allclose(m.grad.data, np.outer(v, np.ones(3)))


@pytest.mark.parametrize(
    "bad",
    [
        lambda t: t + "a",
        lambda t: "a" + t,
        lambda t: t * None,
        lambda t: None * t,
        lambda t: t - object(),
        lambda t: t @ "x",
        lambda t: t / {"a": 1},
        lambda t: t + np.array(["a", "b"]),
    ],
)
def test_wrong_operand_types_raise_type_error(bad):
    with pytest.raises(TypeError):
        bad(gk.Tensor([1.0, 2.0]))


# ----- float32 stays float32 -----------------------------------------------------------------


def test_float32_stays_float32_through_ops_and_its_grad_is_float32():
    x = gk.Tensor(np.linspace(0.1, 1.0, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    w = gk.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    steps = [
        x + 1,
        1 - x,
        x * 2.5,
        x / 3,
        x**2,
        2**x,
        -x,
        x @ w,
        x.sum(axis=0),
        x.mean(),
        x.max(axis=1),
        x.reshape(3, 2),
        x.T,
        x[0],
        x[np.array([0, 0])],
        x.exp(),
        x.log(),
        x.sqrt(),
        x.abs(),
        x.relu(),
        x.sigmoid(),
        x.tanh(),
        gk.F.softmax(x),
        gk.F.log_softmax(x),
        gk.F.step(x),
        gk.F.softmax_cross_entropy(x, [0, 2]),
        gk.F.mse(x, np.zeros((2, 3), np.float32)),
        gk.F.mae(x, np.zeros((2, 3), np.float32)),
    ]
    for y in steps:
        assert y.dtype == np.float32, y
    loss = sum(y.sum() for y in steps)
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    assert w.grad.dtype == np.float32


def test_integer_arrays_take_the_tensor_dtype_in_operators():
    x = gk.Tensor(np.ones(2, np.float32), requires_grad=True)
    y = x + np.array([1, 2])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [2.0, 3.0])


def test_grad_of_float64_leaf_through_float32_cast_is_float64():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# ----- errors named in the API ------------------------------------------------------------------


def test_bad_axis_is_numpy_axis_error():
    t = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    for f in (lambda: t.sum(axis=2), lambda: t.mean(axis=-3), lambda: t.max(axis=(0, 5))):
        with pytest.raises(AxisError):
            f()
    assert issubclass(AxisError, ValueError)


def test_out_of_range_index_is_index_error():
    t = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(IndexError):
        t[2]
    with pytest.raises(IndexError):
        t[:, -4]
    with pytest.raises(IndexError):
        t[np.array([0, 3])]
