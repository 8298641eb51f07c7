"""gk.Op, the public base of every op: users' ops in reverse and forward mode."""

import numpy as np
import pytest

import graphkit as gk
from graphkit.func import jacfwd, jacrev, jvp
from graphkit.tensor import array_of


class Cube(gk.Op):
    """x ** 3 with all three rules."""

    def forward(self, x):
        return x**3

    def backward(self, gy, y, x):
        return gy * 3 * x * x

    def jvp(self, dxs, y, x):
        return dxs[0] * 3 * x * x


class ForwardOnlySin(gk.Op):
    def forward(self, x):
        return np.sin(x)

    def jvp(self, dxs, y, x):
        return dxs[0] * np.cos(array_of(x))  # first order only: a constant factor


class ReverseOnlySin(gk.Op):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy, y, x):
        return gy * np.cos(x)


class Scaled(gk.Op):
    """An op with a parameter: factor * x."""

    def __init__(self, factor):
        self.factor = factor

    def forward(self, x):
        return self.factor * x

    def backward(self, gy, y, x):
        return self.factor * gy

    def jvp(self, dxs, y, x):
        return self.factor * dxs[0]


def test_a_user_op_works_in_both_modes_and_to_second_order():
    x = gk.Tensor([1.0, -2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0])
    np.testing.assert_allclose(jacfwd(Cube.apply)(x.data).data, np.diag([3.0, 12.0]))
    np.testing.assert_allclose(gk.func.hessian(lambda t: Cube.apply(t).sum())(x.data).data,
                               np.diag([6.0, -12.0]))
    assert Scaled.apply(x, factor=2.0).grad_fn.label() == "scaled"


def test_a_jvp_only_op_runs_forward_mode_and_names_itself_under_reverse_mode():
    x = np.array([0.5, 1.0])
    _, tangent = jvp(ForwardOnlySin.apply, (x,), (np.ones(2),))
    np.testing.assert_allclose(tangent.data, np.cos(x))
    t = gk.Tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="ForwardOnlySin defines no backward"):
        ForwardOnlySin.apply(t).sum().backward()
    with pytest.raises(RuntimeError, match="ForwardOnlySin defines no backward"):
        jacrev(ForwardOnlySin.apply)(x)


def test_a_backward_only_op_runs_reverse_mode_and_names_itself_under_forward_mode():
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(jacrev(ReverseOnlySin.apply)(x).data, np.diag(np.cos(x)))
    with pytest.raises(RuntimeError, match="ReverseOnlySin defines no jvp"):
        jvp(ReverseOnlySin.apply, (x,), (np.ones(2),))
    with pytest.raises(RuntimeError, match="ReverseOnlySin defines no jvp"):
        jacfwd(ReverseOnlySin.apply)(x)


def test_a_tangent_the_rule_leaves_in_a_broadcast_shape_is_widened_to_the_output():
    class AddRow(gk.Op):
        def forward(self, x, row):
            return x + row

        def jvp(self, dxs, y, x, row):
            return dxs[1]  # (3,), the output is (2, 3)

    _, tangent = jvp(lambda r: AddRow.apply(gk.Tensor(np.zeros((2, 3))), r), (np.ones(3),),
                     (np.arange(3.0),))
    np.testing.assert_array_equal(tangent.data, np.tile(np.arange(3.0), (2, 1)))

    class Wrong(gk.Op):
        def forward(self, x):
            return x

        def jvp(self, dxs, y, x):
            return np.ones(5)

    with pytest.raises(ValueError, match=r"wrong: jvp returned a tangent of shape \(5,\)"):
        jvp(Wrong.apply, (np.ones(2),), (np.ones(2),))
