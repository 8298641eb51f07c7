"""Softmax, log-softmax and the losses: softmax cross-entropy, mean squared and absolute error.

Each loss is one op: its backward is the short closed form ((softmax - target) / B for
cross-entropy) rather than the long chain of ops it would otherwise record.
"""

from __future__ import annotations

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.elementwise import exp
from graphkit.tensor import array_of


def _log_softmax(x, axis):
    """log(softmax(x)) on arrays, stable for logits of any size."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Op):
    __slots__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy, y, x):
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Op):
    __slots__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        return _log_softmax(x, self.axis)

    def backward(self, gy, y, x):
        return gy - exp(y) * gy.sum(axis=self.axis, keepdims=True)


class SoftmaxCrossEntropy(Op):
    """Mean over the batch of -log softmax(logits)[target].

    logits: (B, C). target: class indices (B,) of an integer dtype, or a distribution
    over classes (B, C) such as one-hot labels.
    """

    __slots__ = ()

    def forward(self, logits, target):
        logp = _log_softmax(logits, axis=-1)
        batch = logits.shape[0]
        if target.ndim == 1:
            picked = logp[xp.arange(batch), target]
            return -picked.sum() / batch
        return -(target * logp).sum() / batch

    def backward(self, gy, loss, logits, target):
        batch = logits.shape[0]
        target_array = array_of(target)
        if target_array.ndim == 1:
            onehot = xp.zeros(logits.shape, dtype=logits.dtype)
            onehot[xp.arange(batch), target_array] = 1
        else:
            onehot = target
        scale = gy / batch
        g_logits = (softmax(logits) - onehot) * scale
        g_target = -log_softmax(logits) * scale if self.needs_grad(1) else None
        return g_logits, g_target


class MeanSquaredError(Op):
    name = "mse"
    __slots__ = ()

    def forward(self, y, t):
        diff = y - t
        return (diff * diff).mean()

    def backward(self, gy, loss, y, t):
        g = (y - t) * (2 * gy / max(_broadcast_size(y, t), 1))
        return g, (-g if self.needs_grad(1) else None)


class MeanAbsoluteError(Op):
    name = "mae"
    __slots__ = ()

    def forward(self, y, t):
        return xp.abs(y - t).mean()

    def backward(self, gy, loss, y, t):
        sign = xp.sign(array_of(y) - array_of(t))
        g = sign * (gy / max(_broadcast_size(y, t), 1))
        return g, (-g if self.needs_grad(1) else None)


def _broadcast_size(a, b) -> int:
    return int(xp.prod(xp.broadcast_shapes(xp.shape(a), xp.shape(b))))


softmax = Softmax.apply
log_softmax = LogSoftmax.apply
softmax_cross_entropy = SoftmaxCrossEntropy.apply
mse = MeanSquaredError.apply
mae = MeanAbsoluteError.apply
