"""embedding: rows of W by index, accumulated gradients, both modes, second order, errors."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.ops.embedding import Embedding
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst

F = gk.F


@st.composite
def embedding_case(draw):
    num, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    W = draw(gst.tensors(shape=(num, dim)))
    return draw(gst.embedding_indices(num)), W


@settings(max_examples=25, deadline=None)
@given(embedding_case())
def test_embedding_picks_rows_and_differentiates(case):
    indices, W = case
    y = F.embedding(indices, W)
    np.testing.assert_array_equal(y.data, W.data[indices])
    assert y.shape == (*indices.shape, W.shape[1])

    # squared, so that the second derivative is not zero
    def fn(W):
        return F.embedding(indices, W) ** 2

    assert gradcheck(fn, [W])
    assert_forward_mode(fn, [W])
    assert_second_order(fn, [W])


def test_repeated_indices_accumulate():
    W = gk.Tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    y = F.embedding([[1, 1], [3, 1]], W)
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(W.grad.data, [[0, 0], [3, 3], [0, 0], [1, 1]])
    assert isinstance(y.grad_fn, Embedding)


def test_indices_from_a_tensor_of_whole_numbers_and_float32_kept():
    W = gk.Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    y = F.embedding(gk.Tensor([2.0, 0.0]), W)
    assert y.dtype == np.float32
    y.sum().backward()
    assert W.grad.dtype == np.float32


@pytest.mark.parametrize("index", [5, -1])
def test_out_of_range_index_names_it_and_the_table_size(index):
    with pytest.raises(IndexError, match=rf"index {index} is out of range for a table of 5 rows"):
        F.embedding(np.array([0, index]), np.zeros((5, 2)))


def test_bad_indices_and_tables():
    with pytest.raises(TypeError, match="whole numbers"):
        F.embedding(np.array([0.5]), np.zeros((5, 2)))
    with pytest.raises(TypeError, match="must be integers"):
        F.embedding(np.array([True]), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"W of shape \(5,\) must be a \(num, dim\) table"):
        F.embedding([0], np.zeros(5))
