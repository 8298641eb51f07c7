"""einsum: values against numpy.einsum over many subscript forms, gradients (diagonals,
traces and letters summed away in one operand included), second order, forward mode."""

import numpy as np
import pytest
from derivatives import assert_forward_mode, assert_second_order
from hypothesis import given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.ops.einsum import explicit_subscripts
from graphkit.testing import gradcheck
from graphkit.testing import strategies as gst


def _operands(data, shapes, dtype=np.float64):
    return [data.draw(gst.tensors(shape=shape, dtype=dtype)) for shape in shapes]


def _einsum(subscripts):
    return lambda *xs: gk.einsum(subscripts, *xs)


@settings(max_examples=60, deadline=None)
@given(gst.einsum_cases(), st.data())
def test_einsum_matches_numpy_and_its_gradients_check(case, data):
    subscripts, shapes = case
    xs = _operands(data, shapes)
    out = gk.einsum(subscripts, *xs)
    np.testing.assert_allclose(out.data, np.einsum(subscripts, *(x.data for x in xs)),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(_einsum(subscripts), xs)
    assert_forward_mode(_einsum(subscripts), xs)


@settings(max_examples=25, deadline=None)
@given(gst.einsum_cases(max_operands=2, max_side=2), st.data())
def test_einsum_second_order(case, data):
    subscripts, shapes = case
    assert_second_order(_einsum(subscripts), _operands(data, shapes))


@pytest.mark.parametrize(
    ("subscripts", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),  # matmul
        ("ij,jk", [(2, 3), (3, 4)]),  # implicit: the same
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),  # batched matmul
        ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)]),  # broadcast batches
        ("i,i->", [(3,), (3,)]),  # dot
        ("i,j->ij", [(2,), (3,)]),  # outer
        ("ii->i", [(3, 3)]),  # diagonal
        ("ii", [(3, 3)]),  # trace
        ("iji->j", [(2, 3, 2)]),  # a diagonal summed
        ("ij->", [(2, 3)]),  # sum
        ("ij->j", [(2, 3)]),  # summed away in its only operand
        ("ij,j->i", [(2, 3), (4, 3)[1:]]),
        ("ij,k->i", [(2, 3), (4,)]),  # j and k each summed in one operand only
        ("ba", [(2, 3)]),  # implicit: transposed to alphabetical order
        ("i...->...", [(3, 2, 2)]),
        ("...", [()]),
        ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 2)]),  # a chain of three
        ("ii,ij->j", [(2, 2), (2, 3)]),
        ("Ab,bA->A", [(2, 3), (3, 2)]),  # upper-case letters
        (" i j -> j i ", [(2, 3)]),  # spaces
    ],
)
def test_einsum_forms(subscripts, shapes):
    rng = np.random.default_rng(0)
    xs = [gk.Tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]
    out = gk.einsum(subscripts, *xs)
    np.testing.assert_allclose(out.data, np.einsum(subscripts, *(x.data for x in xs)))
    assert gradcheck(_einsum(subscripts), xs)
    assert_forward_mode(_einsum(subscripts), xs)
    assert_second_order(_einsum(subscripts), xs)


def test_the_gradient_of_a_diagonal_lands_on_the_diagonal():
    x = gk.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    gk.einsum("ii->i", x).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, np.diag([1.0, 2.0, 3.0]))
    x.zero_grad()
    gk.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad.data, np.eye(3))


def test_a_letter_summed_in_one_operand_spreads_its_gradient():
    a = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    b = gk.Tensor(np.arange(4.0), requires_grad=True)
    gk.einsum("ij,k->i", a, b).backward(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(a.grad.data, np.array([[6.0] * 3, [12.0] * 3]))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 3.0 * 3))


def test_broadcast_operand_gets_gradient_of_its_own_shape():
    a = gk.Tensor(np.ones((1, 3)), requires_grad=True)
    b = gk.Tensor(np.ones((4, 3)), requires_grad=True)
    gk.einsum("...i,...i->...", a, b).sum().backward()
    assert a.grad.shape == (1, 3)
    np.testing.assert_array_equal(a.grad.data, np.full((1, 3), 4.0))
    np.testing.assert_array_equal(b.grad.data, np.ones((4, 3)))


def test_one_operand_may_be_a_constant():
    w = gk.Tensor(np.ones((3, 2)), requires_grad=True)
    x = np.arange(6.0).reshape(2, 3)
    gk.einsum("ij,jk->ik", x, w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, x.sum(axis=0)[:, None] * np.ones((3, 2)))


@settings(max_examples=15, deadline=None)
@given(gst.einsum_cases(max_operands=2), st.data())
def test_einsum_keeps_float32(case, data):
    subscripts, shapes = case
    xs = _operands(data, shapes, dtype=np.float32)
    out = gk.einsum(subscripts, *xs)
    assert out.dtype == np.float32
    grads = gk.grad(out.sum(), xs)
    assert all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize(
    ("subscripts", "shapes", "explicit"),
    [
        ("ij,jk", [(2, 3), (3, 4)], "ij,jk->ik"),
        ("ba", [(2, 3)], "ba->ab"),
        ("ii", [(3, 3)], "ii->"),
        ("...ij,...jk", [(5, 2, 3), (3, 4)], "aij,jk->aik"),
        ("i...,...->...", [(2, 3, 4), (4,)], "iab,b->ab"),
    ],
)
def test_explicit_subscripts(subscripts, shapes, explicit):
    assert explicit_subscripts(subscripts, shapes) == explicit


@pytest.mark.parametrize(
    ("subscripts", "shapes", "message"),
    [
        ("ij,jk->ik", [(2, 3)], "2 operand terms but 1 operands"),
        ("ij->i", [(2, 3, 4)], "names 2 axes but its operand has shape"),
        ("ijk", [(2, 3)], "names 3 axes"),
        ("i->ii", [(2,)], "repeats 'i'"),
        ("i->j", [(2,)], "'j', which no operand term has"),
        ("i1", [(2, 3)], "'1' where only letters"),
        ("...i->i", [(2, 3)], "output has no '...'"),
        ("i->i->i", [(2,)], "more than one '->'"),
        ("ij,jk->ik", [(2, 3), (4, 2)], "einsum"),  # numpy's size mismatch, with the op named
    ],
)
def test_einsum_errors(subscripts, shapes, message):
    with pytest.raises(ValueError, match=message):
        gk.einsum(subscripts, *(np.ones(shape) for shape in shapes))


def test_einsum_error_without_operands_or_with_a_bad_subscript_type():
    with pytest.raises(ValueError, match="at least one operand"):
        gk.einsum("i")
    with pytest.raises(TypeError, match="must be a string"):
        gk.einsum(["i"], np.ones(2))
