"""Lesson 9: write your own op (softplus) and test everything about it with one check_op call.

Run it: python docs/lessons/09_property_tests.py
The test_* functions are ordinary pytest tests: copy them into tests/ to run them there.
"""

import textwrap

import numpy as np
from _lesson import FAST, IMAGES
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
from graphkit.ops.tangents import total
from graphkit.tensor import array_of
from graphkit.testing import GradcheckError, NotDifferentiableError, check_op, gradcheck
from graphkit.testing import strategies as gst


# --8<-- [start:op]
class Softplus(gk.Op):
    """softplus(x) = log(1 + exp(x)): a smooth ReLU."""

    __slots__ = ()

    def forward(self, x):
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), with no overflow for large x

    def backward(self, gy, y, x):
        # Reverse mode. d/dx log(1 + e^x) = e^x / (1 + e^x) = sigmoid(x). gk.ops.sigmoid
        # takes arrays (first-order backprop) and Tensors (create_graph=True) alike, so
        # this gradient can be differentiated again.
        return gy * gk.ops.sigmoid(x)

    def jvp(self, dxs, y, x):
        # Forward mode: the output's tangent is sigmoid(x) times the input's tangent.
        return dxs[0] * gk.ops.sigmoid(x)


softplus = Softplus.apply
# --8<-- [end:op]

# --8<-- [start:check]
# Few examples in a quick run; no example database (running leaves no files behind), the
# same examples every run, and no "explain" phase (its replays add nothing to the message).
checks = settings(max_examples=20 if FAST else 100, database=None, derandomize=True,
                  deadline=None, phases=[Phase.generate, Phase.shrink])


def test_softplus():
    # Reverse and forward mode against central differences, second derivatives, float32
    # against float64, inputs left alone, the same output twice: one call.
    check_op(softplus, gst.tensors(elements=gst.values(-20, 20)), settings=checks)


@checks
@given(gst.tensors(elements=gst.values(-50, 50), requires_grad=False))
def test_softplus_values(x):
    # check_op knows calculus; what the op computes is for you to state.
    y, relu = softplus(x).numpy(), gk.F.relu(x).numpy()
    assert np.all(relu <= y) and np.all(y <= relu + np.log(2) + 1e-12)  # a smoothed ReLU
    assert np.allclose(y - softplus(-x).numpy(), x.numpy())  # softplus(x) - softplus(-x) = x
# --8<-- [end:check]


# --8<-- [start:bugs]
class SigmoidOfTheOutput(Softplus):
    def backward(self, gy, y, x):
        return gy * gk.ops.sigmoid(y)  # y, the output, where x belongs


class ExpsRule(Softplus):
    def jvp(self, dxs, y, x):
        return dxs[0] * y  # exp's rule (its derivative is its output), copied


class BackwardInNumpy(Softplus):
    def backward(self, gy, y, x):
        # Right values, but NumPy on the bare array records nothing: the second
        # derivative, the derivative of this, comes out 0.
        return gy / (1 + np.exp(-array_of(x)))


class InPlace(Softplus):
    def forward(self, x):
        return np.logaddexp(0.0, x, out=x)  # saves an allocation: in the caller's array


class CastToFloat(Softplus):
    def forward(self, x):
        return np.logaddexp(0.0, x.astype(float))  # float is float64: float32 in, 64 out


class Jittered(Softplus):
    def forward(self, x):  # "noise for stability": each call a little different
        return np.logaddexp(0.0, x) + 1e-12 * np.random.standard_normal(np.shape(x))
# --8<-- [end:bugs]


# --8<-- [start:broadcast]
class ShiftedSoftplus(gk.Op):
    """softplus(x - b): x a batch (B, F), b a shift per feature (F,), broadcast over B."""

    __slots__ = ()

    def forward(self, x, b):
        return np.logaddexp(0.0, x - b)

    def backward(self, gy, y, x, b):
        g = gy * gk.ops.sigmoid(x - b)
        return g, -g  # -g has x's shape: the engine sums it over the batch, to b's shape

    def jvp(self, dxs, y, x, b):
        dx, db = dxs  # either may be None: no tangent
        return total(dx, None if db is None else -db) * gk.ops.sigmoid(x - b)


class AveragedShift(ShiftedSoftplus):
    def backward(self, gy, y, x, b):
        g = gy * gk.ops.sigmoid(x - b)
        # b is used once per row, and its gradient is the sum over the rows: not the mean.
        return g, -g.mean(axis=0) if g.ndim > b.ndim else -g


@st.composite
def batch_and_shift(draw):
    features = draw(st.integers(1, 3))
    x = draw(gst.tensors(shape=(draw(st.integers(1, 4)), features)))
    return x, draw(gst.tensors(shape=(features,)))


def test_shifted_softplus():
    check_op(lambda xb: ShiftedSoftplus.apply(*xb), batch_and_shift(), settings=checks)
# --8<-- [end:broadcast]


# --8<-- [start:planted]
x_values = gst.tensors(elements=gst.values(-20, 20))
PLANTED = [  # (the op with a slip, its inputs, the property that must catch it)
    (SigmoidOfTheOutput.apply, x_values, "reverse mode"),
    (ExpsRule.apply, x_values, "forward mode"),
    (BackwardInNumpy.apply, x_values, "second derivatives"),
    (InPlace.apply, x_values, "inputs unchanged"),
    (CastToFloat.apply, x_values, "output dtype"),
    (Jittered.apply, x_values, "same output twice"),
    (lambda xb: AveragedShift.apply(*xb), batch_and_shift(), "broadcasting"),
]
# --8<-- [end:planted]


def wrapped(text: str) -> str:
    return textwrap.fill(text, width=96, initial_indent="  ", subsequent_indent="    ")


if __name__ == "__main__":
    # --8<-- [start:run]
    test_softplus()
    test_shifted_softplus()
    test_softplus_values()
    print(f"softplus and softplus(x - b) pass every property on {checks.max_examples} examples")
    for op, inputs, expected in PLANTED:
        try:
            check_op(op, inputs, settings=checks)
        except GradcheckError as error:
            found, example = str(error).split("\n  on the example ")
            assert found.startswith(f"check_op: property '{expected}' fails"), found
            print(wrapped(found))
            print(wrapped(f"on the example {example}"))
        else:
            raise AssertionError(f"check_op missed the slip that {expected} should catch")
    # --8<-- [end:run]

    # --8<-- [start:gradcheck]
    # One point, by hand: t[2] * t[2].detach() has derivative 2 t[2] = 3, backprop says 1.5.
    t = gk.Tensor([0.7, -0.4, 1.5], requires_grad=True)
    try:
        gradcheck(lambda t: (t[0:2] ** 2).sum() + t[2] * t[2].detach(), [t])
    except GradcheckError as error:
        assert "index (2,): analytic 1.5 vs numerical 3.0" in str(error)
        print(wrapped(str(error)))
    # At a kink there is no derivative to check, and gradcheck says so.
    try:
        gradcheck(gk.F.relu, [gk.Tensor([-1.0, 0.0, 2.0], requires_grad=True)])
    except NotDifferentiableError as error:
        print(wrapped(str(error)))
    # check_op draws another example instead: relu passes on inputs full of zeros.
    check_op(gk.F.relu, gst.tensors(elements=st.integers(-2, 2).map(float)), settings=checks)
    # --8<-- [end:gradcheck]

    x = gk.Tensor(np.linspace(-5, 5, 501), requires_grad=True)
    y = softplus(x)
    y.sum().backward()
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    left, right = figure.subplots(1, 2, sharex=True)
    left.plot(x.numpy(), y.numpy(), label="softplus")
    left.plot(x.numpy(), gk.F.relu(x).numpy(), "--", label="ReLU")
    right.plot(x.numpy(), x.grad.numpy(), label="softplus' (backprop) = sigmoid")
    right.plot(x.numpy(), (x.numpy() > 0).astype(float), "--", label="ReLU'")
    left.set(title="softplus$(x) = \\log(1 + e^x)$", xlabel="$x$")
    right.set(title="its derivative, by the new op's backward", xlabel="$x$")
    for axes, corner in ((left, "upper left"), (right, "lower right")):
        axes.grid(alpha=0.3)
        axes.legend(loc=corner)
    figure.savefig(IMAGES / "09_softplus.png", dpi=100)
    print(f"wrote {IMAGES / '09_softplus.png'}")
