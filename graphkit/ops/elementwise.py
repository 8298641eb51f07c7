"""Elementwise ops: exp log sqrt abs relu sigmoid tanh step, and the dtype cast.

Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, step' = 0 everywhere.
"""

from __future__ import annotations

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.tensor import array_of


class Exp(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.exp(x)

    def backward(self, gy, y, x):
        return gy * y


class Log(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.log(x)

    def backward(self, gy, y, x):
        return gy / x


class Sqrt(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.sqrt(x)

    def backward(self, gy, y, x):
        return gy / (2 * y)


class Abs(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.abs(x)

    def backward(self, gy, y, x):
        return gy * xp.sign(array_of(x))


class Relu(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.maximum(x, 0)

    def backward(self, gy, y, x):
        return gy * (x > 0)


class Sigmoid(Op):
    __slots__ = ()

    def forward(self, x):
        # 1 / (1 + exp(-x)) overflows for x << 0. The tanh form is stable and three times
        # faster than a two-branch where() (11 vs 30 us on a (100, 50) batch), but loses
        # relative precision in the far negative tail, where e^x / (1 + e^x) is exact.
        y = xp.asarray(xp.tanh(0.5 * x))  # asarray: a 0-d input gives a NumPy scalar
        y += 1
        y *= 0.5
        tail = x < -10
        if tail.any():
            e = xp.exp(x[tail])
            y[tail] = e / (1 + e)
        return y

    def backward(self, gy, y, x):
        return gy * y * (1 - y)


class Tanh(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.tanh(x)

    def backward(self, gy, y, x):
        return gy * (1 - y * y)


class Step(Op):
    """The M-P neuron's activation: 1 where x > 0, else 0; its derivative is 0."""

    __slots__ = ()

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, gy, y, x):
        return xp.zeros_like(array_of(x))


class Cast(Op):
    """The same values in another dtype; the gradient is cast back."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy, y, x):
        return cast(gy, dtype=x.dtype)


exp = Exp.apply
log = Log.apply
sqrt = Sqrt.apply
abs = Abs.apply
relu = Relu.apply
sigmoid = Sigmoid.apply
tanh = Tanh.apply
step = Step.apply
cast = Cast.apply
