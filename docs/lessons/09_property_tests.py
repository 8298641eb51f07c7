"""Lesson 9: write your own op (softplus) and test its gradient with Hypothesis.

Run it: python docs/lessons/09_property_tests.py
The test_* functions are ordinary pytest tests: copy them into tests/ to run them there.
"""


import numpy as np
from _lesson import FAST, IMAGES
from hypothesis import given, settings
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
from graphkit.graph import Op
from graphkit.testing import strategies as gst


# --8<-- [start:op]
class Softplus(Op):
    """softplus(x) = log(1 + exp(x)): a smooth ReLU."""

    __slots__ = ()

    def forward(self, x):
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), with no overflow for large x

    def backward(self, gy, y, x):
        # d/dx log(1 + e^x) = e^x / (1 + e^x) = sigmoid(x). gk.ops.sigmoid takes arrays
        # (first-order backprop) and Tensors (create_graph=True) alike.
        return gy * gk.ops.sigmoid(x)


softplus = Softplus.apply
# --8<-- [end:op]

# --8<-- [start:tests]
# Few examples in a quick run; no example database, so running leaves no files behind.
checks = settings(max_examples=25 if FAST else 300, deadline=None, database=None)


@checks
@given(gst.tensors(elements=gst.values(-20, 20)))
def test_softplus_gradient(x):
    assert gk.testing.gradcheck(softplus, [x])


@checks
@given(gst.tensors())
def test_softplus_second_derivative(x):
    # backward is built from ops, so the derivative is differentiable in turn. gradcheck
    # evaluates fn under no_grad for its central differences; enable_grad records anyway.
    def derivative(t):
        with gk.enable_grad():
            return gk.grad(softplus(t).sum(), t, create_graph=True)[0]

    assert gk.testing.gradcheck(derivative, [x])


@checks
@given(gst.tensors(elements=gst.values(-50, 50), requires_grad=False))
def test_softplus_properties(x):
    y, relu = softplus(x).numpy(), gk.F.relu(x).numpy()
    assert np.all(relu <= y) and np.all(y <= relu + np.log(2) + 1e-12)  # a smoothed ReLU
    assert np.allclose(y - softplus(-x).numpy(), x.numpy())  # softplus(x) - softplus(-x) = x
# --8<-- [end:tests]


# --8<-- [start:bug]
class BuggySoftplus(Softplus):
    """The same forward, with a typical slip in backward: sigmoid of the output."""

    def backward(self, gy, y, x):
        return gy * gk.ops.sigmoid(y)


@checks
@given(gst.tensors())
def test_buggy_softplus_gradient(x):
    assert gk.testing.gradcheck(BuggySoftplus.apply, [x])
# --8<-- [end:bug]


if __name__ == "__main__":
    # --8<-- [start:run]
    test_softplus_gradient()
    test_softplus_second_derivative()
    test_softplus_properties()
    print("softplus: gradient, second derivative and properties hold on every example")
    try:
        test_buggy_softplus_gradient()
    except gk.testing.GradcheckError as error:
        print(f"the buggy backward is caught:\n  {error}")
        print(*getattr(error, "__notes__", []), sep="\n")  # Hypothesis: the simplest failing input
    else:
        raise AssertionError("gradcheck missed the bug")
    # --8<-- [end:run]

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
