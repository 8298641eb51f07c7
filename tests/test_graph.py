"""Recording the graph: grad mode (no_grad, enable_grad), the Op node, module scopes."""

import threading
import weakref

import numpy as np
import pytest

import graphkit as gk
from graphkit.graph import RELEASED, Op
from graphkit.ops import registered_ops
from graphkit.scope import current_scope, module_scope

# ----- grad mode ---------------------------------------------------------------------------


def test_grad_mode_is_on_by_default():
    assert gk.is_grad_enabled() is True


def test_no_grad_records_nothing():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        assert gk.is_grad_enabled() is False
        y = (x * 2).exp().sum()
        z = x @ x
    assert gk.is_grad_enabled() is True
    for t in (y, z):
        assert t.grad_fn is None
        assert t.requires_grad is False
    np.testing.assert_allclose(y.data, np.exp([2.0, 4.0]).sum())
    with pytest.raises(RuntimeError):
        y.backward()
    # Recording resumes after the block.
    assert (x * 2).grad_fn is not None


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), gk.no_grad():
        1 / 0  # noqa: B018
    assert gk.is_grad_enabled() is True


def test_no_grad_as_a_decorator():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)

    @gk.no_grad()
    def double(t):
        """Doubles."""
        assert gk.is_grad_enabled() is False
        return t * 2

    y = double(x)
    assert y.grad_fn is None and y.requires_grad is False
    assert gk.is_grad_enabled() is True
    assert double.__name__ == "double" and double.__doc__ == "Doubles."
    # The decorated function can be called again (a fresh context each time).
    assert double(x).grad_fn is None
    assert (x * 2).grad_fn is not None


def test_enable_grad_inside_no_grad():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        with gk.enable_grad():
            assert gk.is_grad_enabled() is True
            y = x * 3
        assert gk.is_grad_enabled() is False
        z = x * 3
    assert y.grad_fn is not None and y.requires_grad
    assert z.grad_fn is None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_enable_grad_as_a_decorator_inside_no_grad():
    @gk.enable_grad()
    def square(t):
        return t * t

    x = gk.Tensor(3.0, requires_grad=True)
    with gk.no_grad():
        y = square(x)
    assert y.grad_fn is not None


def test_nested_no_grad():
    with gk.no_grad():
        with gk.no_grad():
            assert not gk.is_grad_enabled()
        assert not gk.is_grad_enabled()
    assert gk.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with gk.no_grad():
        thread = threading.Thread(target=lambda: seen.append(gk.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not gk.is_grad_enabled()
    assert seen == [True]


def test_tensors_without_requires_grad_record_nothing():
    a = gk.Tensor([1.0, 2.0])
    b = gk.Tensor([3.0, 4.0])
    y = (a * b).sum()
    assert y.grad_fn is None and not y.requires_grad
    # One input that requires grad is enough to record.
    c = gk.Tensor([1.0, 1.0], requires_grad=True)
    assert (a * c).grad_fn is not None


# ----- the Op node ----------------------------------------------------------------------------


def test_recorded_op_holds_inputs_strongly_and_output_weakly():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    w = gk.Tensor([3.0, 4.0])
    y = x * w
    op = y.grad_fn
    assert isinstance(op, Op)
    assert op.name == "mul"
    assert op.inputs[0] is x and op.inputs[1] is w
    assert isinstance(op.output, weakref.ref)
    assert op.output() is y
    assert op.needs_grad(0) and not op.needs_grad(1)
    assert list(op.tensor_inputs()) == [x, w]
    assert op.scope is None


def test_constants_are_recorded_as_they_are():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    op = (x + 2.0).grad_fn
    assert op.inputs[1] == 2.0
    assert not op.needs_grad(1)
    assert list(op.tensor_inputs()) == [x]


def test_apply_on_arrays_only_computes():
    from graphkit import ops

    out = ops.exp(np.array([0.0, 1.0]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [1.0, np.e])
    out = ops.sum(np.ones((2, 3)), axis=1)
    np.testing.assert_array_equal(out, [3.0, 3.0])


def test_op_labels_and_params():
    x = gk.Tensor(np.ones((2, 3)), requires_grad=True)
    op = x.sum(axis=1, keepdims=True).grad_fn
    assert op.name == "sum"
    assert op.params() == {"axis": 1, "keepdims": True}
    assert op.label() == "sum axis=1 keepdims=True"
    assert "sum" in repr(op)
    assert x.exp().grad_fn.label() == "exp"
    assert "getitem" in x[0, 1:].grad_fn.label()


def test_ops_registry_names_every_core_op():
    expected = {
        "add",
        "sub",
        "mul",
        "div",
        "neg",
        "pow",
        "matmul",
        "exp",
        "log",
        "sqrt",
        "abs",
        "relu",
        "sigmoid",
        "tanh",
        "step",
        "cast",
        "sum",
        "mean",
        "max",
        "reshape",
        "transpose",
        "broadcast_to",
        "get_item",
        "scatter_add",
        "softmax",
        "log_softmax",
        "softmax_cross_entropy",
        "mse",
        "mae",
    }
    ops = registered_ops("graphkit.ops")
    missing = expected - set(ops)
    assert not missing, missing
    assert ops["tanh"] is type(gk.Tensor(1.0, requires_grad=True).tanh().grad_fn)


def test_a_new_op_subclass_registers_and_records():
    class TimesThree(Op):
        __slots__ = ()

        def forward(self, x):
            return 3 * x

        def backward(self, gy, y, x):
            return 3 * gy

    assert registered_ops()["times_three"] is TimesThree
    assert "times_three" not in registered_ops("graphkit")
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = TimesThree.apply(x)
    assert y.grad_fn.name == "times_three"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_backward_frees_saved_values():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    op = y.grad_fn
    op.saved = np.ones(2)
    y.sum().backward()
    assert op.saved is RELEASED
    assert repr(RELEASED) == "<released>"


def test_retain_graph_keeps_saved_values():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    op = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert op.saved is not RELEASED


# ----- module scopes ----------------------------------------------------------------------------


class _Module:
    pass


def test_module_scope_is_recorded_on_ops():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    model, features, conv = _Module(), _Module(), _Module()
    assert current_scope() is None
    with module_scope(model, "model") as outer:
        y = x * 2
        with module_scope(features, "features"):
            with module_scope(conv, "conv1") as inner:
                z = y.tanh()
                assert current_scope() is inner
            w = z + 1
        assert current_scope() is outer
    assert current_scope() is None
    v = w.sum()

    assert y.grad_fn.scope is outer
    assert outer.module is model and outer.parent is None and outer.path == "model"
    scope = z.grad_fn.scope
    assert scope is inner and scope.module is conv and scope.name == "conv1"
    assert scope.path == "features.conv1"
    assert scope.parent.path == "features"
    assert w.grad_fn.scope.module is features
    assert v.grad_fn.scope is None


def test_module_scope_is_reset_after_an_exception():
    with pytest.raises(KeyError), module_scope(_Module(), "m"):
        raise KeyError("boom")
    assert current_scope() is None
