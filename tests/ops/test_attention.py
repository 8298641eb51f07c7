"""scaled_dot_product_attention: values against NumPy, masks, both modes, second order."""

import warnings

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

F = gk.F


def np_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (weights / weights.sum(axis=-1, keepdims=True)) @ v


@st.composite
def attention_case(draw):
    q_shape, k_shape, v_shape = draw(gst.attention_shapes())
    q, k, v = (draw(gst.tensors(shape=s)) for s in (q_shape, k_shape, v_shape))
    mask = None
    if draw(st.booleans()):
        batch = np.broadcast_shapes(q_shape[:-2], k_shape[:-2])
        mask = draw(gst.attention_masks((*batch, q_shape[-2], k_shape[-2])))
    return q, k, v, mask


@settings(max_examples=20, deadline=None)
@given(attention_case())
def test_attention_matches_numpy_and_differentiates(case):
    q, k, v, mask = case
    out = F.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(out.data, np_attention(q.data, k.data, v.data, mask),
                               rtol=1e-10, atol=1e-12)

    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, mask)

    assert gradcheck(fn, [q, k, v])
    assert_forward_mode(fn, [q, k, v])
    assert_second_order(fn, [q, k, v])


def test_masked_keys_get_no_weight_and_no_gradient():
    rng = np.random.default_rng(0)
    q = gk.Tensor(rng.standard_normal((2, 3)))
    k = gk.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    v = gk.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    mask = np.array([True, False, True, False])  # broadcast over the queries
    out = F.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(out.data, np_attention(q.data, k.data[[0, 2]], v.data[[0, 2]]))
    out.sum().backward()
    np.testing.assert_array_equal(k.grad.data[[1, 3]], 0.0)
    np.testing.assert_array_equal(v.grad.data[[1, 3]], 0.0)


def test_a_fully_masked_row_is_nan_as_in_pytorch():
    rng = np.random.default_rng(1)
    q, k, v = (gk.Tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3), (4, 3), (4, 2)))
    mask = np.array([[True, True, False, False], [False] * 4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = F.scaled_dot_product_attention(q, k, v, mask)
    assert np.isfinite(out.data[0]).all()
    assert np.isnan(out.data[1]).all()


def test_float32_kept():
    q = gk.Tensor(np.ones((1, 2, 4), np.float32), requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q, np.ones((2, 2), bool))
    assert out.dtype == np.float32
    out.sum().backward()
    assert q.grad.dtype == np.float32


def test_bad_arguments():
    q = np.zeros((2, 3))
    with pytest.raises(TypeError, match="mask must be bool"):
        F.scaled_dot_product_attention(q, q, q, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"mask of shape \(3,\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, np.ones(3, bool))
    with pytest.raises(ValueError, match="must share the last axis d"):
        F.scaled_dot_product_attention(q, np.zeros((2, 4)), q)
    with pytest.raises(ValueError, match="at least two axes"):
        F.scaled_dot_product_attention(np.zeros(3), q, q)
