"""The top-level constructors: values, shapes in both spellings, dtypes, requires_grad, the RNG;
and the top-level join functions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import strategies as gst


@settings(max_examples=20, deadline=None)
@given(gst.shapes(max_dims=3))
def test_zeros_ones_take_a_shape_as_ints_or_one_tuple(shape):
    for make, fill in ((gk.zeros, 0.0), (gk.ones, 1.0)):
        for t in (make(*shape), make(shape), make(list(shape))):
            assert isinstance(t, gk.Tensor)
            assert t.shape == shape
            assert t.dtype == np.float64
            assert not t.requires_grad and t.is_leaf
            np.testing.assert_array_equal(t.data, np.full(shape, fill))


@pytest.mark.parametrize(
    ("tensor", "expected"),
    [
        (lambda **kw: gk.zeros(2, 3, **kw), np.zeros((2, 3))),
        (lambda **kw: gk.ones((2,), **kw), np.ones(2)),
        (lambda **kw: gk.full((2, 2), 7.5, **kw), np.full((2, 2), 7.5)),
        (lambda **kw: gk.full(3, -1.0, **kw), np.full(3, -1.0)),
        (lambda **kw: gk.arange(5, **kw), np.arange(5.0)),
        (lambda **kw: gk.arange(1, 2, 0.25, **kw), np.arange(1, 2, 0.25)),
        (lambda **kw: gk.arange(5, 0, -2, **kw), np.array([5.0, 3.0, 1.0])),
        (lambda **kw: gk.arange(10, step=3, **kw), np.array([0.0, 3.0, 6.0, 9.0])),
        (lambda **kw: gk.eye(3, **kw), np.eye(3)),
        (lambda **kw: gk.eye(2, 3, **kw), np.eye(2, 3)),
    ],
)
def test_values_dtypes_and_requires_grad(tensor, expected):
    t = tensor()
    np.testing.assert_array_equal(t.data, expected)
    assert t.dtype == np.float64 and not t.requires_grad
    assert tensor(dtype=np.float32).dtype == np.float32
    assert tensor(dtype="float32").dtype == np.float32
    leaf = tensor(requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf
    (leaf * leaf).sum().backward()
    np.testing.assert_array_equal(leaf.grad.data, 2 * expected)


def test_like_constructors_follow_the_argument():
    t32 = gk.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for make, fill in ((gk.zeros_like, 0.0), (gk.ones_like, 1.0)):
        out = make(t32)
        assert out.shape == (2, 3) and out.dtype == np.float32 and not out.requires_grad
        np.testing.assert_array_equal(out.data, np.full((2, 3), fill))
        assert make(np.arange(4)).dtype == np.float64  # integers become float64
        assert make([[1.0, 2.0]]).shape == (1, 2)
        assert make(t32, dtype=np.float64).dtype == np.float64
        assert make(t32, requires_grad=True).requires_grad
    assert gk.zeros_like(t32).data is not t32.data


def test_random_constructors_draw_from_numpys_global_rng():
    gk.manual_seed(0)
    normal = gk.randn(2, 3)
    uniform = gk.rand((4,))
    np.random.seed(0)
    np.testing.assert_array_equal(normal.data, np.random.standard_normal((2, 3)))
    np.testing.assert_array_equal(uniform.data, np.random.random_sample(4))
    assert normal.dtype == uniform.dtype == np.float64
    assert gk.randn(3, dtype=np.float32).dtype == np.float32
    assert gk.rand(3, requires_grad=True).requires_grad
    many = gk.rand(1000).data
    assert many.min() >= 0.0 and many.max() < 1.0
    assert gk.randn().shape == ()


def test_constructor_errors():
    with pytest.raises(TypeError, match=r"zeros: a shape is non-negative ints"):
        gk.zeros(2.5)
    with pytest.raises(TypeError, match="ones: a shape"):
        gk.ones((2, -1))
    with pytest.raises(TypeError, match="full: a shape"):
        gk.full("ab", 1.0)
    with pytest.raises(ValueError, match="step must not be 0"):
        gk.arange(0, 3, 0)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        gk.zeros(2, dtype=np.int64, requires_grad=True)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.data())
def test_top_level_joins_and_einsum_are_gk_F_s(count, data):
    xs = [data.draw(gst.tensors(shape=(2, 3))) for _ in range(count)]
    assert gk.stack is gk.F.stack and gk.einsum is gk.F.einsum and gk.where is gk.F.where
    assert gk.cat is gk.F.cat is gk.F.concatenate and gk.concatenate is gk.F.concatenate
    np.testing.assert_array_equal(gk.stack(xs, axis=1).data, np.stack([x.data for x in xs], 1))
    np.testing.assert_array_equal(gk.cat(xs).data, np.concatenate([x.data for x in xs]))


def test_top_level_where():
    a = gk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = gk.where(np.array([True, False, True]), a, 0.0)
    np.testing.assert_array_equal(out.data, [1.0, 0.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 1.0])
