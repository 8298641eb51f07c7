"""gk.testing.strategies: the Hypothesis strategies draw what they promise."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

# For find(): look hard for an example, and do not let the example database decide.
SEARCH = settings(max_examples=2000, database=None)


def test_strategies_is_reachable_from_gk_testing():
    assert gk.testing.strategies is gst
    for name in gst.__all__:
        assert hasattr(gst, name), name


@given(gst.values())
def test_values_default_bounds(v):
    assert isinstance(v, float) and np.isfinite(v)
    assert -3.0 <= v <= 3.0


@given(gst.values(-0.5, 0.25))
def test_values_custom_bounds(v):
    assert -0.5 <= v <= 0.25


@given(gst.positive())
def test_positive(v):
    assert 0.1 <= v <= 5.0


@given(gst.positive(1.0, 2.0))
def test_positive_custom_bounds(v):
    assert 1.0 <= v <= 2.0


@given(gst.away_from_zero())
def test_away_from_zero(v):
    assert 0.1 <= abs(v) <= 3.0


@given(gst.away_from_zero(gap=0.5, bound=1.0))
def test_away_from_zero_custom(v):
    assert 0.5 <= abs(v) <= 1.0


@pytest.mark.parametrize("condition", [lambda v: v < 0, lambda v: v > 0])
def test_away_from_zero_draws_both_signs(condition):
    assert condition(find(gst.away_from_zero(), condition, settings=SEARCH))


@pytest.mark.parametrize(
    ("op", "check"),
    [
        ("log", lambda v: v > 0),
        ("sqrt", lambda v: v > 0),
        ("pow", lambda v: v > 0),
        ("div", lambda v: abs(v) >= 0.1),
        ("relu", lambda v: abs(v) >= 0.1),
        ("abs", lambda v: abs(v) >= 0.1),
        ("step", lambda v: abs(v) >= 0.1),
        ("mae", lambda v: abs(v) >= 0.1),
        ("tanh", lambda v: -3 <= v <= 3),
        ("no_such_op", lambda v: -3 <= v <= 3),
    ],
)
def test_elements_for(op, check):
    @given(gst.elements_for(op))
    def run(v):
        assert np.isfinite(v) and check(v)

    run()


@given(gst.shapes())
def test_shapes_defaults(shape):
    assert isinstance(shape, tuple)
    assert 0 <= len(shape) <= 3
    assert all(1 <= n <= 4 for n in shape)


@given(gst.shapes(min_dims=2, max_dims=4, min_side=2, max_side=3))
def test_shapes_bounds(shape):
    assert 2 <= len(shape) <= 4
    assert all(2 <= n <= 3 for n in shape)


@given(gst.broadcastable_shapes())
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 2
    np.broadcast_shapes(*shapes)  # raises if they do not broadcast
    for shape in shapes:
        assert len(shape) <= 3 and all(0 < n <= 4 for n in shape)


@given(gst.broadcastable_shapes(num_shapes=3, min_dims=1, max_dims=2, max_side=2))
def test_broadcastable_shapes_three(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)
    assert all(1 <= len(s) <= 2 for s in shapes)


def test_broadcastable_shapes_really_broadcast_sometimes():
    a, b = find(
        gst.broadcastable_shapes(),
        lambda s: 1 in s[0] and len(s[0]) < len(s[1]) and s[1][-1] > 1,
        settings=SEARCH,
    )
    assert np.broadcast_shapes(a, b) != a


@given(gst.matmul_shapes())
def test_matmul_shapes_are_accepted_by_matmul(shapes):
    a, b = shapes
    assert len(a) >= 1 and len(b) >= 1
    assert a[-1] == b[0 if len(b) == 1 else -2]  # the contracted sides agree
    np.matmul(np.zeros(a), np.zeros(b))  # raises if the batch dims do not broadcast


@pytest.mark.parametrize(
    "kind",
    [
        lambda a, b: len(a) == 1 and len(b) == 1,  # vector . vector
        lambda a, b: len(a) == 1 and len(b) == 2,
        lambda a, b: len(a) == 2 and len(b) == 1,
        lambda a, b: len(a) == 2 and len(b) == 2,
        lambda a, b: len(a) == 4 and len(b) == 3,  # batches of different ranks
        lambda a, b: len(a) == 3 and len(b) == 3 and a[0] != b[0],  # a broadcast batch
    ],
)
def test_matmul_shapes_cover_vectors_matrices_and_batches(kind):
    a, b = find(gst.matmul_shapes(), lambda s: kind(*s), settings=SEARCH)
    np.matmul(np.zeros(a), np.zeros(b))


@given(gst.tensors())
def test_tensors_defaults(t):
    assert isinstance(t, gk.Tensor)
    assert t.dtype == np.float64
    assert t.requires_grad is True
    assert t.ndim <= 3
    assert np.isfinite(t.data).all() and (np.abs(t.data) <= 3).all()


@given(gst.tensors(shape=(2, 3), elements=gst.positive(), requires_grad=False))
def test_tensors_with_a_fixed_shape_and_elements(t):
    assert t.shape == (2, 3)
    assert (t.data >= 0.1).all()
    assert t.requires_grad is False


@given(gst.tensors(shape=gst.shapes(min_dims=2, max_dims=2)))
def test_tensors_with_a_shape_strategy(t):
    assert t.ndim == 2


@given(gst.tensors(dtype=np.float32))
def test_tensors_in_float32(t):
    assert t.dtype == np.float32


@given(gst.tensors(shape=(), elements=gst.values(-1, 1)))
def test_tensors_scalar_shape(t):
    assert t.shape == ()
    assert -1 <= t.item() <= 1


@given(gst.distinct_tensors())
def test_distinct_tensors_have_no_ties(t):
    values = np.sort(t.data.reshape(-1))
    assert t.requires_grad is True
    if values.size > 1:
        assert np.diff(values).min() >= 0.01


@given(gst.distinct_tensors(shape=(3, 4), gap=0.5, requires_grad=False))
def test_distinct_tensors_with_shape_and_gap(t):
    assert t.shape == (3, 4)
    assert t.requires_grad is False
    assert np.diff(np.sort(t.data.reshape(-1))).min() >= 0.5


@settings(max_examples=20)
@given(gst.distinct_tensors(shape=gst.shapes(min_dims=1)))
def test_distinct_tensors_make_max_checkable(t):
    assert gradcheck(lambda x: x.max(), [t])


@settings(max_examples=20)
@given(st.data())
def test_the_docstring_example(data):
    x = data.draw(gst.tensors(elements=gst.elements_for("log")))
    assert gradcheck(lambda t: t.log(), [x])
