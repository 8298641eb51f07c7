"""check_op on every op of graphkit.ops, on the examples gk.testing.op_cases draws for it.

A new op without a case, or with a rule check_op finds wrong, fails here, by name.
"""

import pytest
from hypothesis import Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from graphkit.ops import registered_ops
from graphkit.tensor import Tensor
from graphkit.testing import check_op
from graphkit.testing.op_cases import CASES, NOT_DIFFERENTIABLE

OPS = registered_ops("graphkit.ops")
# Ten examples an op keeps the whole registry within a minute on two cores; each op's own
# tests draw more.
EXAMPLES_PER_OP = 10
WHERE = "graphkit/testing/op_cases.py"


def test_every_op_has_a_case():
    missing = sorted(name for name in OPS if name not in CASES and name not in NOT_DIFFERENTIABLE)
    assert not missing, (
        f"ops without a check_op case: {', '.join(missing)}. Add one to {WHERE} with "
        "@case(name), drawing the op's inputs with gk.testing.strategies (or list the op in "
        "NOT_DIFFERENTIABLE there, saying why check_op does not apply)"
    )


def test_every_case_is_of_an_op():
    stale = sorted(set(CASES) - set(OPS)) + sorted(set(NOT_DIFFERENTIABLE) - set(OPS))
    assert not stale, f"cases in {WHERE} for ops that do not exist: {', '.join(stale)}"
    assert not set(CASES) & set(NOT_DIFFERENTIABLE)


def _ops_behind(outputs):
    """The names of the ops recorded behind ``outputs``, walking the graph iteratively."""
    stack = [o.grad_fn for o in outputs if isinstance(o, Tensor) and o.grad_fn is not None]
    seen, names = set(), set()
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        names.add(op.name)
        stack.extend(x.grad_fn for x in op.inputs if isinstance(x, Tensor) and x.grad_fn)
    return names


def _assert_applies(name, case):
    """The case exercises its op: fn records it on some example (F.pad of width 0, say,
    returns its input and records none)."""

    def applies(example):
        result = case.fn(*example)
        return name in _ops_behind(result if isinstance(result, (tuple, list)) else (result,))

    try:
        find(st.tuples(*case.inputs), applies,
             settings=settings(database=None, max_examples=50, phases=[Phase.generate]))
    except NoSuchExample:
        pytest.fail(f"the case of {name} in {WHERE} never applies the op {name}")


@pytest.mark.parametrize("name", sorted(OPS))
def test_check_op(name):
    if name in NOT_DIFFERENTIABLE:
        pytest.skip(f"{name}: {NOT_DIFFERENTIABLE[name]}")
    if name not in CASES:
        pytest.fail(f"op {name!r} has no check_op case: add one to {WHERE} with @case({name!r})")
    case = CASES[name]()
    _assert_applies(name, case)
    check_op(case.fn, *case.inputs, max_examples=EXAMPLES_PER_OP, order=case.order,
             dtypes=case.dtypes)
