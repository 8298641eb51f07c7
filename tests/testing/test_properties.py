"""gk.testing.check_op: each property caught on a planted bug, correct ops passing, kinks
rejected rather than failed, and Hypothesis's settings respected."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.backend import sum_to
from graphkit.graph import Op
from graphkit.ops.tangents import total
from graphkit.tensor import array_of
from graphkit.testing import GradcheckError, NotDifferentiableError, check_op, gradcheck
from graphkit.testing import strategies as gst

# Few examples, no database (a failure found by one test must not be replayed by another),
# the same examples on every run, and no explain phase (it replays a failure many times).
QUICK = settings(max_examples=30, database=None, derandomize=True, deadline=None,
                 phases=[Phase.generate, Phase.shrink])


class Sin(Op):
    """A correct op, its derivative another op, so that every order is differentiable."""

    __slots__ = ()

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy, y, x):
        return gy * Cos.apply(x)

    def jvp(self, dxs, y, x):
        return dxs[0] * Cos.apply(x)


class Cos(Op):
    __slots__ = ()

    def forward(self, x):
        return np.cos(x)

    def backward(self, gy, y, x):
        return -gy * Sin.apply(x)

    def jvp(self, dxs, y, x):
        return -dxs[0] * Sin.apply(x)


# ----- planted bugs, one per property -------------------------------------------------------


class WrongBackward(Sin):
    __slots__ = ()

    def backward(self, gy, y, x):
        return gy * gk.ops.sigmoid(x)  # cos, not sigmoid


class WrongJvp(Sin):
    __slots__ = ()

    def jvp(self, dxs, y, x):
        return dxs[0] * Sin.apply(x)  # cos, not sin


class DetachedBackward(Sin):
    """Right first derivatives; the backward reads x as an array, so its own derivative,
    the second derivative of sin, comes out 0."""

    __slots__ = ()

    def backward(self, gy, y, x):
        return gy * np.cos(array_of(x))


class MutatesInput(Sin):
    __slots__ = ()

    def forward(self, x):
        x *= 1.0  # writes to the caller's array, even if it writes the same values
        x += 1e-12
        return np.sin(x)


class Widens(Sin):
    __slots__ = ()

    def forward(self, x):
        return np.sin(x.astype(np.float64))  # float32 in, float64 out


class Nondeterministic(Sin):
    __slots__ = ()

    def forward(self, x):
        return np.sin(x) + np.random.default_rng().uniform(0, 1e-9)


class LowPrecision(Sin):
    """Right at float64; at float32 it computes in float16."""

    __slots__ = ()

    def forward(self, x):
        if x.dtype == np.float32:
            return np.sin(x.astype(np.float16)).astype(np.float32)
        return np.sin(x)


class BiasAdd(Op):
    """x + b whose backward averages the gradient over b's broadcast copies instead of
    summing them: right when b has x's shape, wrong when it broadcasts."""

    __slots__ = ()

    def forward(self, x, b):
        return x + b

    def backward(self, gy, y, x, b):
        summed = sum_to(gy, b.shape)
        return gy, summed * (summed.size / gy.size)

    def jvp(self, dxs, y, x, b):
        return total(*dxs)


class Raises(Sin):
    __slots__ = ()

    def forward(self, x):
        if x.ndim:
            raise ValueError("no arrays, please")
        return np.sin(x)


def pairs():
    """Tensors of shapes that broadcast together."""
    return gst.broadcastable_shapes(2).flatmap(
        lambda s: st.tuples(gst.tensors(shape=s[0]), gst.tensors(shape=s[1])))


@pytest.mark.parametrize(
    ("fn", "inputs", "prop", "dtype"),
    [
        (WrongBackward.apply, (gst.tensors(),), "reverse mode", "float64"),
        (WrongJvp.apply, (gst.tensors(),), "forward mode", "float64"),
        (DetachedBackward.apply, (gst.tensors(),), "second derivatives", "float64"),
        (MutatesInput.apply, (gst.tensors(),), "inputs unchanged", "float64"),
        (Widens.apply, (gst.tensors(),), "output dtype", "float32"),
        (lambda xb: BiasAdd.apply(*xb), (pairs(),), "broadcasting", "float64"),
        (Nondeterministic.apply, (gst.tensors(),), "same output twice", "float64"),
        (LowPrecision.apply, (gst.tensors(),), "float32 values", "float32"),
        (Raises.apply, (gst.tensors(),), "fn runs", "float64"),
    ],
    ids=["wrong-backward", "wrong-jvp", "detached-backward", "mutates-input",
         "float32-to-float64", "broadcast-not-summed", "nondeterministic", "float16-inside",
         "raises"],
)
def test_each_property_catches_its_planted_bug(fn, inputs, prop, dtype):
    with pytest.raises(GradcheckError) as info:
        check_op(fn, *inputs, settings=QUICK)
    message = str(info.value)
    assert message.startswith(f"check_op: property '{prop}' fails at {dtype}: "), message
    assert "\n  on the example (" in message


def test_the_failure_is_reported_on_the_smallest_example():
    with pytest.raises(GradcheckError) as info:
        check_op(WrongBackward.apply, gst.tensors(), settings=QUICK)
    message = str(info.value)
    # Shrunk to a scalar at 0, where sin' = 1 and sigmoid = 1/2.
    assert "on the example (Tensor(0., shape=(), dtype=float64" in message
    assert "analytic 0.5 vs numerical 1.0" in message


def test_the_broadcasting_failure_names_the_broadcast_input():
    with pytest.raises(GradcheckError) as info:
        check_op(lambda xb: BiasAdd.apply(*xb), pairs(), settings=QUICK)
    message = str(info.value)
    assert "input 1" in message and "summed back" in message


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (Sin.apply, (gst.tensors(),)),
        (gk.ops.tanh, (gst.tensors(),)),
        (lambda ab: ab[0] * ab[1], (pairs(),)),  # broadcasting, summed back right
        (lambda xs: gk.F.stack(xs, axis=-1), (st.lists(gst.tensors(shape=(2, 3)), min_size=1,
                                                         max_size=3),)),
        (lambda x, w: x @ w, (gst.tensors(shape=(2, 3)), gst.tensors(shape=(3,)))),
    ],
    ids=["sin", "tanh", "broadcast-mul", "stack-of-a-list", "matmul"],
)
def test_correct_ops_pass(fn, inputs):
    assert check_op(fn, *inputs, settings=QUICK) is None


def test_correct_ops_pass_with_the_defaults():
    check_op(Sin.apply, gst.tensors())


def test_order_sets_the_highest_derivative_checked():
    check_op(DetachedBackward.apply, gst.tensors(), order=1, settings=QUICK)
    check_op(Sin.apply, gst.tensors(), order=3, settings=QUICK)


def test_dtypes_sets_the_dtypes_checked():
    check_op(Widens.apply, gst.tensors(), dtypes=("float64",), settings=QUICK)
    with pytest.raises(GradcheckError, match="fails at float32"):
        check_op(Widens.apply, gst.tensors(), dtypes=(np.float32,), settings=QUICK)


# ----- kinks -------------------------------------------------------------------------------


def counting(strategy, drawn):
    """``strategy``, each value it draws appended to ``drawn``."""
    return strategy.map(lambda value: drawn.append(value) or value)


def ties(shape=None):
    """Tensors of small whole numbers: most hold ties, and Hypothesis draws 0 often."""
    shape = gst.shapes(min_dims=1) if shape is None else shape
    return gst.tensors(shape=shape, elements=st.integers(-2, 2).map(float))


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (gk.F.relu, (ties(),)),
        (lambda x: x.abs(), (ties(),)),
        (lambda x: x.max(), (ties(),)),
        (lambda x: gk.F.maximum(x[..., :1], x), (ties(),)),
        (lambda x: gk.F.max_pool2d(x, 2), (ties(shape=(1, 1, 2, 2)),)),
    ],
    ids=["relu", "abs", "max", "maximum", "max_pool"],
)
def test_an_example_on_a_kink_is_drawn_again_not_failed(fn, inputs):
    drawn = []
    check_op(fn, counting(st.tuples(*inputs), drawn).map(lambda example: example[0]),
             settings=QUICK)

    def on_a_kink(x):
        try:
            gradcheck(fn, [gk.Tensor(x.data, requires_grad=True)])
        except NotDifferentiableError:
            return True
        return False

    assert any(on_a_kink(example[0]) for example in drawn)  # some were, and were skipped


def test_an_op_that_is_always_on_a_kink_cannot_be_checked():
    zeros = gst.tensors(elements=st.just(0.0))
    with pytest.raises(GradcheckError, match="no example could be checked"):
        check_op(gk.F.relu, zeros, settings=QUICK)


# ----- inputs: structures, constants, dtypes -----------------------------------------------


def test_inputs_may_be_nested_and_hold_constants():
    seen = []

    def fn(args, scale):
        (x, table), labels = args
        seen.append((x.dtype, table.dtype, labels.dtype, type(scale)))
        return (x * gk.Tensor(table)).sum() * scale + gk.F.nll_loss(
            gk.F.log_softmax(x.reshape(1, -1)), labels)

    example = st.tuples(
        st.tuples(gst.tensors(shape=(3,)), st.just(np.ones(3))), st.just(np.array([1])))
    check_op(fn, example, st.just(2.0), settings=QUICK)
    integers = np.array([1]).dtype
    single, double = np.dtype(np.float32), np.dtype(np.float64)
    assert set(seen) == {(single, single, integers, float), (double, double, integers, float)}


def test_inputs_may_be_named_tuples():
    from collections import namedtuple

    Pair = namedtuple("Pair", ["x", "scale"])
    example = st.builds(Pair, gst.tensors(shape=(2,)), st.floats(0.5, 2.0))
    check_op(lambda pair: pair.x * pair.scale, example, settings=QUICK)


def test_a_case_with_nothing_to_differentiate_is_an_error():
    with pytest.raises(GradcheckError, match="requires_grad"):
        check_op(gk.ops.tanh, gst.tensors(requires_grad=False), settings=QUICK)


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"st\.just|just\(\)"):
        check_op(gk.ops.tanh, gk.Tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError):
        check_op(gk.ops.tanh)
    with pytest.raises(ValueError, match="order"):
        check_op(gk.ops.tanh, gst.tensors(), order=0)
    with pytest.raises(ValueError, match="floating"):
        check_op(gk.ops.tanh, gst.tensors(), dtypes=("int32",))


# ----- settings ----------------------------------------------------------------------------


def test_max_examples_is_the_number_of_examples():
    drawn = []
    check_op(Sin.apply, counting(gst.tensors(shape=(2,)), drawn), max_examples=12)
    assert len(drawn) == 12


def test_settings_replace_max_examples_and_the_rest():
    drawn = []
    check_op(Sin.apply, counting(gst.tensors(shape=(2,)), drawn), max_examples=50,
             settings=settings(QUICK, max_examples=7))
    assert len(drawn) == 7


def test_the_active_profile_applies():
    def run():
        drawn = []
        check_op(Sin.apply, counting(gst.tensors(shape=(2,)), drawn), max_examples=5)
        return [float(x.data[0]) for x in drawn]

    settings.register_profile("graphkit-check-op-test", derandomize=True, database=None)
    previous = settings.get_current_profile_name()
    settings.load_profile("graphkit-check-op-test")
    try:
        assert run() == run()  # derandomize: the same examples each time
    finally:
        settings.load_profile(previous)


@settings(max_examples=6, database=None, deadline=None)
@given(st.data())
def test_inside_a_given_test_it_checks_one_example_of_that_test(data):
    drawn = []
    check_op(Sin.apply, counting(gst.tensors(), drawn))
    assert len(drawn) == 1  # one example, drawn from this test's data; no search of its own


def test_inside_a_given_test_a_failure_fails_that_test():
    outer = []

    @settings(max_examples=20, database=None, deadline=None, phases=[Phase.generate])
    @given(st.data())
    def test(data):
        outer.append(1)
        check_op(WrongBackward.apply, gst.tensors())

    with pytest.raises(GradcheckError, match="property 'reverse mode'"):
        test()
    assert len(outer) >= 1


def test_inside_a_given_test_a_kink_rejects_that_tests_example():
    @settings(max_examples=10, database=None, deadline=None)
    @given(st.data())
    def test(data):
        check_op(gk.F.relu, ties())

    test()  # relu at 0 rejects the outer example; the others pass
