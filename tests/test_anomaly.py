"""Anomaly mode (graphkit/anomaly.py): the op, the shapes and the user's line of the first NaN."""

import inspect
import warnings

import numpy as np
import pytest

import graphkit as gk
from graphkit import autograd, graph

HERE = __file__


def line() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_a_nan_in_forward_names_the_op_the_shapes_and_this_line():
    x = gk.Tensor([1.0, -1.0, 2.0], requires_grad=True)
    with gk.detect_anomaly(), pytest.raises(gk.AnomalyError) as caught:
        where = line(); x.log()  # noqa: E702
    err = caught.value
    assert isinstance(err, RuntimeError)
    assert err.op.name == "log" and err.input_index is None
    assert err.tensor.shape == (3,) and err.tensor.grad_fn is err.op
    message = str(err)
    assert message.startswith("log produced NaN (1 of 3)")
    assert "(shape (3,), float64)" in message and "shapes (3,)" in message
    assert f"{HERE}:{where}" in message


def test_an_op_fed_a_nan_is_not_blamed_for_it():
    bad = gk.Tensor([np.nan, 1.0], requires_grad=True)
    with gk.detect_anomaly():
        y = bad * 2  # the NaN came in: not this op's doing
    assert np.isnan(y.data[0])


def test_an_infinity_from_a_division_by_zero_is_caught_under_no_grad_too():
    a, b = gk.Tensor([1.0]), gk.Tensor([0.0])
    expected = pytest.raises(gk.AnomalyError, match=r"^div produced inf")
    with gk.detect_anomaly(), gk.no_grad(), expected:
        a / b


def test_sqrt_at_zero_fails_in_backward_at_the_line_that_called_sqrt():
    x = gk.Tensor([0.0, 4.0], requires_grad=True)
    with gk.detect_anomaly():
        where = line(); y = x.sqrt()  # noqa: E702
        with pytest.raises(gk.AnomalyError) as caught:
            y.sum().backward()
    err = caught.value
    assert err.op is y.grad_fn and err.tensor is y and err.input_index == 0
    message = str(err)
    assert message.startswith("sqrt's backward produced inf (1 of 2) in the gradient for its input")
    assert "from a finite gradient of its output (shape (2,))" in message
    assert f"{HERE}:{where}" in message


class Blowup(gk.Op):
    """A custom op with a broken backward: forward is finite, its gradient is NaN."""

    __slots__ = ()

    def forward(self, x):
        return x * 2

    def backward(self, gy, y, x):
        return gy * np.nan


def test_a_custom_op_with_a_broken_backward_is_caught():
    x = gk.Tensor([1.0, 2.0], requires_grad=True)
    with gk.detect_anomaly():
        where = line(); y = Blowup.apply(x) + 1  # noqa: E702
        with pytest.raises(gk.AnomalyError, match="blowup's backward produced NaN") as caught:
            y.sum().backward()
    assert caught.value.op.name == "blowup"
    assert f"{HERE}:{where}" in str(caught.value)


def test_a_nan_already_in_the_output_gradient_is_passed_along_unblamed():
    x = gk.Tensor([1.0], requires_grad=True)
    with gk.detect_anomaly():
        y = x * 3
        y.backward(np.array([np.nan]))
    assert np.isnan(x.grad.data[0])


def test_nothing_is_raised_and_nothing_installed_when_off():
    assert not gk.is_anomaly_enabled()
    x = gk.Tensor([-1.0, 0.0], requires_grad=True)
    y = x.log() + x.sqrt()
    y.sum().backward()
    assert np.isnan(x.grad.data[0])
    assert graph._taps == [] and autograd._observers == []
    assert getattr(y.grad_fn, "site", None) is None  # sites are recorded only when on


def test_set_detect_anomaly_switches_the_process_and_the_context_restores():
    try:
        gk.set_detect_anomaly(True)
        assert gk.is_anomaly_enabled()
        with gk.detect_anomaly():
            assert gk.is_anomaly_enabled()
        assert gk.is_anomaly_enabled()  # back to what it was: on
        with pytest.raises(gk.AnomalyError):
            gk.Tensor([-1.0]).log()
    finally:
        gk.set_detect_anomaly(False)
    assert not gk.is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @gk.detect_anomaly()
    def f(x):
        return x.log()

    with pytest.raises(gk.AnomalyError):
        f(gk.Tensor([-2.0]))
    assert not gk.is_anomaly_enabled()


def test_the_culprit_in_the_middle_of_a_100_layer_model():
    rng = np.random.default_rng(0)
    layers = [gk.nn.Linear(8, 8) for _ in range(100)]
    for layer in layers:
        layer.weight.data[...] = np.eye(8) + 0.01 * rng.standard_normal((8, 8))
        layer.bias.data[...] = 0.0

    def model(h):
        for i, layer in enumerate(layers):
            h = layer(h).tanh()
            if i == 50:
                h = (h - 2).log() if culprit else h  # log of a negative: the layer-50 NaN
        return h.sum()

    x = gk.Tensor(rng.standard_normal((4, 8)))
    culprit = False
    with gk.detect_anomaly():
        model(x).backward()  # finite all the way
    culprit = True
    with gk.detect_anomaly(), pytest.raises(gk.AnomalyError) as caught:
        model(x)
    assert caught.value.op.name == "log"
    source = inspect.getsource(test_the_culprit_in_the_middle_of_a_100_layer_model)
    offset = next(i for i, text in enumerate(source.splitlines()) if ".log()" in text)
    first = test_the_culprit_in_the_middle_of_a_100_layer_model.__code__.co_firstlineno
    assert str(caught.value).endswith(f"{HERE}:{first + offset}")


def test_a_graph_recorded_before_anomaly_mode_says_so():
    x = gk.Tensor([0.0], requires_grad=True)
    y = x.sqrt()
    with gk.detect_anomaly(), pytest.raises(gk.AnomalyError, match="recorded before anomaly"):
        y.sum().backward()
