"""The write guard (graphkit/write_guard.py): no silently wrong gradient after a write.

Every test either sees an error at the write (or at backward) or the gradient of what was
actually computed: never a wrong gradient without an error.
"""

import gc

import numpy as np
import pytest

import graphkit as gk
from graphkit.write_guard import SavedArray, SavedArrayWriteError

DTYPES = [np.float64, np.float32]

# Each way of writing into a tensor's array, as user code does it.
WRITES = {
    "setitem": lambda t, v: t.data.__setitem__(0, v),
    "ellipsis": lambda t, v: t.data.__setitem__(Ellipsis, v),
    "iadd": lambda t, v: t.data.__iadd__(v),
    "copyto": lambda t, v: np.copyto(t.data, v),
    "ufunc out": lambda t, v: np.add(t.data, v, out=t.data),
    "fill": lambda t, v: t.data.fill(v),
    "view": lambda t, v: t.data.reshape(-1)[:1].__setitem__(slice(None), v),
}
# What [1, 2] becomes after each write of 5.
WRITTEN = {"setitem": [5, 2], "ellipsis": [5, 5], "iadd": [6, 7], "copyto": [5, 5],
           "ufunc out": [6, 7], "fill": [5, 5], "view": [5, 2]}


def square_sum(dtype):
    x = gk.Tensor(np.array([1.0, 2.0], dtype=dtype), requires_grad=True)
    return x, (x * x).sum()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", WRITES)
def test_a_write_between_forward_and_backward_raises_naming_tensor_and_op(form, dtype):
    x, y = square_sum(dtype)
    before = x.data.copy()
    with pytest.raises(SavedArrayWriteError) as caught:
        WRITES[form](x, 5.0)
    message = str(caught.value)
    assert "a tensor of shape (2,)" in message and "mul saved it for backward" in message
    assert "Call backward() first" in message and "copy" in message
    np.testing.assert_array_equal(x.data, before)  # nothing was written
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", WRITES)
def test_writes_after_backward_work(form, dtype):
    x, y = square_sum(dtype)
    y.backward()
    WRITES[form](x, 5.0)
    np.testing.assert_array_equal(x.data, WRITTEN[form])
    assert x.data.dtype == dtype and type(x.data) is np.ndarray


def test_the_issue_example_raises_instead_of_a_wrong_gradient():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(SavedArrayWriteError):
        x.data[0] = 5.0
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_a_named_tensor_is_named():
    w = gk.Tensor([1.0], requires_grad=True, name="fc1.weight")
    loss = (w * w).sum()
    with pytest.raises(SavedArrayWriteError, match=r"'fc1.weight' \(shape \(1,\), float64\)"):
        w.data += 1
    del loss


def test_an_interior_tensor_is_guarded_until_its_op_has_run_backward():
    x = gk.Tensor([0.5, 1.0], requires_grad=True)
    h = x.tanh()
    y = (h * h).sum()
    with pytest.raises(SavedArrayWriteError, match=r"the output of tanh .* tanh saved it"):
        h.data[0] = 0.0
    y.backward()
    t = np.tanh([0.5, 1.0])
    np.testing.assert_allclose(x.grad.data, 2 * t * (1 - t * t))
    h.data[0] = 0.0  # released: fine now


def test_a_write_through_the_array_the_tensor_wraps_fails_too():
    a = np.array([1.0, 2.0])
    x = gk.Tensor(a, requires_grad=True)  # shares a's memory
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 5.0
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    a[0] = 5.0  # writable again once the graph is done with it
    assert x.data[0] == 5.0


def test_the_array_behind_a_view_is_guarded_too():
    a = np.arange(6.0)
    x = gk.Tensor(a[2:4], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        a[2] = 100.0
    y.backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 6.0])
    a[2] = 100.0
    x.data[1] = 7.0
    assert a[3] == 7.0


def test_a_constant_array_handed_to_an_op_is_guarded():
    c = np.array([3.0, 4.0])
    x = gk.Tensor([1.0, 1.0], requires_grad=True)
    y = (x * c).sum()  # c enters as a plain array
    with pytest.raises(ValueError, match="read-only"):
        c[0] = 0.0
    y.backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])
    c[0] = 0.0


def test_a_constant_tensor_is_guarded():
    c = gk.Tensor([3.0, 4.0])
    x = gk.Tensor([1.0, 1.0], requires_grad=True)
    y = (x * c).sum()
    with pytest.raises(SavedArrayWriteError):
        c.data *= 2
    y.backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 4.0])


@pytest.mark.parametrize("form", WRITES)
def test_retain_graph_keeps_the_guard_until_the_graph_is_freed(form):
    x, y = square_sum(np.float64)
    y.backward(retain_graph=True)
    with pytest.raises(SavedArrayWriteError):
        WRITES[form](x, 5.0)
    y.backward()  # the second backward frees it, and agrees with the first
    np.testing.assert_allclose(x.grad.data, [4.0, 8.0])
    WRITES[form](x, 5.0)


def test_a_retained_graph_that_is_dropped_lets_go():
    x, y = square_sum(np.float64)
    y.backward(retain_graph=True)
    del y
    gc.collect()
    x.data[0] = 5.0


def test_a_graph_dropped_without_backward_lets_go():
    x, y = square_sum(np.float32)
    del y
    x.data[0] = 5.0
    assert x.data[0] == 5.0


def test_writes_under_no_grad_work_when_no_graph_saved_the_array():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        y = x * 2
        x.data[0] = 5.0  # nothing was recorded
        y.data[0] = 0.0
    np.testing.assert_allclose(x.data, [5.0, 2.0])


def test_no_grad_does_not_open_a_saved_array():
    x, y = square_sum(np.float64)
    with gk.no_grad(), pytest.raises(SavedArrayWriteError):
        x.data -= 0.1 * x.data
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_two_graphs_hold_an_array_until_both_let_go():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    y1 = (x * x).sum()
    y2 = (x * x).sum() * 3
    y1.backward()
    with pytest.raises(SavedArrayWriteError, match="mul"):
        x.data[0] = 5.0
    y2.backward()
    x.data[0] = 5.0
    np.testing.assert_allclose(x.grad.data, [8.0, 16.0])


def test_a_detached_tensor_shares_the_guard():
    x, y = square_sum(np.float64)
    alias = x.detach()
    with pytest.raises(SavedArrayWriteError):
        alias.data[0] = 5.0
    y.backward()
    alias.data[0] = 5.0
    assert x.data[0] == 5.0


def test_giving_a_leaf_a_new_array_keeps_backward_right():
    x, y = square_sum(np.float64)
    x.data = np.array([10.0, 20.0])  # the graph keeps the array it computed with
    y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    x.data[0] = 1.0  # the new array was never saved


def test_giving_an_interior_tensor_a_new_array_is_refused_until_backward():
    x = gk.Tensor([1.0], requires_grad=True)
    h = x.exp()  # exp's backward reads its output
    y = h.sum()
    with pytest.raises(SavedArrayWriteError, match="exp's backward still reads it"):
        h.data = np.array([0.0])
    y.backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0]))
    h.data = np.array([0.0])


def test_a_locked_tensor_reads_as_its_array():
    x = gk.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    view = x.data
    assert isinstance(view, SavedArray) and not view.flags.writeable
    assert type(view + 1) is np.ndarray and type(np.abs(view)) is np.ndarray
    assert type(view.copy()) is np.ndarray and view.copy().flags.writeable
    assert view.sum() == 2.0 and float(view[2]) == 3.0 and view.max() == 3.0
    assert repr(view) == repr(np.array([1.0, -2.0, 3.0]))
    np.testing.assert_array_equal(np.concatenate([view, view]), [1, -2, 3, 1, -2, 3])
    assert type(np.zeros_like(view)) is np.ndarray
    copied = view.copy()
    copied[0] = 9.0  # a copy is the caller's own
    y.backward()
    assert type(x.data) is np.ndarray


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [
    lambda params: gk.optim.SGD(params, lr=0.1),
    lambda params: gk.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda params: gk.optim.Adam(params, lr=0.1),
], ids=["sgd", "sgd-momentum", "adam"])
def test_optimizers_step_after_backward_and_refuse_before(make, dtype):
    rng = np.random.default_rng(0)
    model = gk.nn.Sequential(gk.nn.Linear(3, 4, dtype=dtype), gk.nn.ReLU(),
                             gk.nn.Linear(4, 2, dtype=dtype))
    optimizer = make(list(model.parameters()))
    x = gk.Tensor(rng.standard_normal((5, 3)).astype(dtype))
    t = np.array([0, 1, 0, 1, 1])
    for _ in range(3):
        loss = gk.F.softmax_cross_entropy(model(x), t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loss = gk.F.softmax_cross_entropy(model(x), t)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(SavedArrayWriteError, match="linear saved it"):
        optimizer.step()  # the next graph saved the weights and has not run backward
    loss.backward()
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
        assert p.data.dtype == dtype


def test_load_state_dict_waits_for_backward_too_and_changes_nothing_meanwhile():
    model = gk.nn.Linear(2, 2)
    before = model.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    # The input requires grad, so its gradient reads the weight (not the bias).
    loss = model(gk.Tensor(np.ones((1, 2)), requires_grad=True)).sum()
    with pytest.raises(SavedArrayWriteError, match="linear saved it"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # the bias was not written either
    loss.backward()
    model.load_state_dict(state)


def test_what_no_wanted_gradient_reads_may_be_written_before_backward():
    # Linear's weight gradient reads the input, not the weight; the bias's reads neither.
    # With an input that needs no gradient, nothing backward reads is written here.
    model = gk.nn.Linear(2, 2)
    x = gk.Tensor([[1.0, 2.0]])
    loss = model(x).sum()
    model.weight.data += 1.0
    model.bias.data -= 1.0
    with pytest.raises(SavedArrayWriteError):
        x.data[0, 0] = 3.0  # the weight's gradient reads x
    loss.backward()
    np.testing.assert_allclose(model.weight.grad.data, [[1.0, 1.0], [2.0, 2.0]])
    np.testing.assert_allclose(model.bias.grad.data, [1.0, 1.0])


# Inputs for every op that declares Op.grad_reads: (arrays, keyword parameters).
_RNG = np.random.default_rng(0)
GRAD_READS_CASES = {
    "add": ([_RNG.standard_normal((3, 4)), _RNG.standard_normal(4)], {}),
    "sub": ([_RNG.standard_normal((3, 4)), _RNG.standard_normal(4)], {}),
    "mul": ([_RNG.standard_normal((3, 4)), _RNG.standard_normal(4)], {}),
    "matmul": ([_RNG.standard_normal((3, 4)), _RNG.standard_normal((4, 2))], {}),
    "linear": ([_RNG.standard_normal((3, 4)), _RNG.standard_normal((4, 2)),
                _RNG.standard_normal(2)], {}),
    "softmax_cross_entropy": ([_RNG.standard_normal((3, 4)), _RNG.dirichlet(np.ones(4), 3)],
                              {}),
    "conv2d": ([_RNG.standard_normal((2, 3, 5, 5)), _RNG.standard_normal((4, 3, 3, 3)),
                _RNG.standard_normal(4)], {"stride": (1, 1), "pad": (1, 1)}),
}


def _declared_ops():
    return {name: op for name, op in gk.ops.registered_ops().items()
            if op.grad_reads is not None}


def test_every_op_declaring_what_its_gradients_read_is_checked_below():
    assert set(_declared_ops()) == set(GRAD_READS_CASES)


def _gradient(op, arrays, params, wanted, create_graph, spoil):
    """The gradient for input ``wanted`` alone, with ``spoil`` (positions) overwritten
    between forward and backward; the positions it reads must refuse the write."""
    tensors = [gk.Tensor(a.copy(), requires_grad=(j == wanted)) for j, a in enumerate(arrays)]
    y = op.apply(*tensors, **params)
    weights = np.linspace(-1.0, 2.0, y.size).reshape(y.shape)
    out = (y * weights).sum()
    for j in spoil:
        if j in op.grad_reads[wanted]:
            with pytest.raises(SavedArrayWriteError):
                tensors[j].data[...] = 0.5
        else:
            tensors[j].data[...] = tensors[j].data * -3.0 + 0.25
    (g,) = gk.grad(out, tensors[wanted], create_graph=create_graph)
    return g.data


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(GRAD_READS_CASES))
def test_what_an_op_says_its_gradients_do_not_read_can_change_without_changing_them(
        name, create_graph):
    op = _declared_ops()[name]
    arrays, params = GRAD_READS_CASES[name]
    for wanted in range(len(arrays)):
        reference = _gradient(op, arrays, params, wanted, create_graph, spoil=())
        spoiled = _gradient(op, arrays, params, wanted, create_graph, spoil=range(len(arrays)))
        np.testing.assert_allclose(spoiled, reference, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: input {wanted}'s gradient")


def test_second_derivatives_keep_working_under_the_guard():
    x = gk.Tensor([0.3, -0.7], requires_grad=True)
    (g,) = gk.grad(x.tanh().sum(), x, create_graph=True)
    (h,) = gk.grad(g.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(h.data, -2 * t * (1 - t * t))
    del g
    x.data[0] = 1.0  # both graphs gone


def test_what_data_returns_while_locked_shares_the_array_as_it_does_unlocked():
    x, y = square_sum(np.float64)
    alias = gk.Tensor(x.data)
    other = gk.Tensor([0.0, 0.0])
    other.data = x.data
    y.backward()
    assert alias.data is x.data and other.data is x.data
    x.data[0] = 9.0
    assert alias.data[0] == 9.0


@pytest.mark.parametrize("index_op", ["getitem", "embedding"])
def test_a_write_into_the_indices_after_forward_does_not_move_the_gradient(index_op):
    index = np.array([0, 2, 2])
    W = gk.Tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    rows = W[index] if index_op == "getitem" else gk.F.embedding(index, W)
    loss = (rows * np.array([[1.0], [2.0], [3.0]])).sum()
    index[:] = 3  # the op kept its own copy of the indices
    loss.backward()
    np.testing.assert_array_equal(W.grad.data, [[1.0, 1.0], [0.0, 0.0], [5.0, 5.0], [0.0, 0.0]])
