"""Softmax, log-softmax and the losses: softmax cross-entropy, mean squared and absolute error.

Each loss is one op: its backward is the short closed form ((softmax - target) / B for
cross-entropy) rather than the long chain of ops it would otherwise record.
"""

from __future__ import annotations

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.elementwise import exp
from graphkit.ops.tangents import total
from graphkit.tensor import Tensor, array_of


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

    def jvp(self, dxs, y, x):
        dx = dxs[0]
        return y * (dx - (dx * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Op):
    __slots__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        return _log_softmax(x, self.axis)

    def backward(self, gy, y, x):
        return gy - exp(y) * gy.sum(axis=self.axis, keepdims=True)

    def jvp(self, dxs, y, x):
        dx = dxs[0]
        return dx - (exp(y) * dx).sum(axis=self.axis, keepdims=True)


class SoftmaxCrossEntropy(Op):
    """Mean over the batch of -log softmax(logits)[target].

    logits: (B, C). target: class indices (B,) of an integer dtype, or a distribution
    over classes (B, C) such as one-hot labels.
    """

    __slots__ = ()

    def forward(self, logits, target):
        # Reductions as ufunc calls: the .max(), .sum() and .mean() methods add a Python
        # wrapper each, about 1 us, which on a small network's step is no longer noise.
        shifted = logits - xp.maximum.reduce(logits, axis=-1, keepdims=True)
        exps = xp.exp(shifted)
        total = xp.add.reduce(exps, axis=-1, keepdims=True)
        logp = shifted - xp.log(total)
        # Backward needs softmax(logits); it costs one division here instead of a second
        # pass over the logits later (about 30 us of a 0.6 ms TwoLayerNet step).
        self.saved = exps / total
        if target.ndim == 1:
            picked = logp[xp.arange(len(logp)), target]
        else:
            picked = xp.add.reduce(target * logp, axis=-1)
        # dtype: NumPy 1.x would promote a float32 sum divided by a Python int to float64.
        return xp.divide(xp.add.reduce(picked), -len(picked), dtype=logits.dtype)

    def backward(self, gy, loss, logits, target):
        batch = logits.shape[0]
        scale = gy / batch
        index_target = array_of(target).ndim == 1
        if isinstance(logits, Tensor):
            # create_graph: rebuild the softmax as an op, so this gradient has a graph.
            probs = softmax(logits)
        elif index_target:
            # The same (softmax - onehot) * scale, without building the one-hot matrix.
            g_logits = self.saved * scale
            g_logits[xp.arange(batch), target] -= scale
            probs = None
        else:
            probs = self.saved
        if probs is not None:
            onehot = target
            if index_target:
                onehot = xp.zeros(logits.shape, dtype=logits.dtype)
                onehot[xp.arange(batch), array_of(target)] = 1
            g_logits = (probs - onehot) * scale
        g_target = -log_softmax(logits) * scale if self.needs_grad(1) else None
        return g_logits, g_target

    def jvp(self, dxs, loss, logits, target):
        d_logits, d_target = dxs
        batch = logits.shape[0]
        probs = softmax(logits) if isinstance(logits, Tensor) else self.saved
        d_loss = None
        if d_logits is not None:
            d_logp = d_logits - (probs * d_logits).sum(axis=-1, keepdims=True)
            if array_of(target).ndim == 1:
                d_loss = -d_logp[xp.arange(batch), array_of(target)].sum() / batch
            else:
                d_loss = -(target * d_logp).sum() / batch
        if d_target is not None:
            d_loss = total(d_loss, -(d_target * log_softmax(logits)).sum() / batch)
        return d_loss


class MeanSquaredError(Op):
    name = "mse"
    __slots__ = ()

    def forward(self, y, t):
        diff = y - t
        return (diff * diff).mean()

    def backward(self, gy, loss, y, t):
        g = (y - t) * (2 * gy / max(_broadcast_size(y, t), 1))
        return g, (-g if self.needs_grad(1) else None)

    def jvp(self, dxs, loss, y, t):
        dy, dt = dxs
        d_diff = total(dy, None if dt is None else -dt)
        return (2 * (y - t) * d_diff).sum() / max(_broadcast_size(y, t), 1)


class MeanAbsoluteError(Op):
    name = "mae"
    __slots__ = ()

    def forward(self, y, t):
        return xp.abs(y - t).mean()

    def backward(self, gy, loss, y, t):
        sign = xp.sign(array_of(y) - array_of(t))
        g = sign * (gy / max(_broadcast_size(y, t), 1))
        return g, (-g if self.needs_grad(1) else None)

    def jvp(self, dxs, loss, y, t):
        dy, dt = dxs
        d_diff = total(dy, None if dt is None else -dt)
        sign = xp.sign(array_of(y) - array_of(t))
        return (sign * d_diff).sum() / max(_broadcast_size(y, t), 1)


def _broadcast_size(a, b) -> int:
    return int(xp.prod(xp.broadcast_shapes(xp.shape(a), xp.shape(b))))


softmax = Softmax.apply
log_softmax = LogSoftmax.apply
softmax_cross_entropy = SoftmaxCrossEntropy.apply
mse = MeanSquaredError.apply
mae = MeanAbsoluteError.apply
