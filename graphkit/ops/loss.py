"""Softmax, log-softmax and the losses: softmax cross-entropy, negative log-likelihood,
binary cross-entropy (of probabilities and of logits), mean squared and absolute error, Huber.

Each loss is one op: its backward is the short closed form ((softmax - target) / B for
cross-entropy) rather than the long chain of ops it would otherwise record. Every loss is
the mean (PyTorch's default reduction).
"""

from __future__ import annotations

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.elementwise import clip, exp, log, log1p, sigmoid
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

    # Under create_graph, the logits' gradient rebuilds the softmax from the logits.
    grad_reads = ((0, 1), (0,))
    __slots__ = ()

    def forward(self, logits, target):
        # Reductions as ufunc calls: the .max(), .sum() and .mean() methods add a Python
        # wrapper each, which on a small network's step is no longer noise.
        shifted = logits - xp.maximum.reduce(logits, axis=-1, keepdims=True)
        exps = xp.exp(shifted)
        total = xp.add.reduce(exps, axis=-1, keepdims=True)
        logp = shifted - xp.log(total)
        # Backward needs softmax(logits); it costs one division here instead of a second
        # pass over the logits later, a measurable share of a small network's step.
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


class NllLoss(Op):
    """Mean over the batch of -log_probs[i, target[i]]: log_probs (B, C), target (B,) of
    class indices."""

    __slots__ = ()

    def forward(self, log_probs, target):
        picked = log_probs[xp.arange(len(log_probs)), target]
        return xp.divide(xp.add.reduce(picked), -len(picked), dtype=log_probs.dtype)

    def backward(self, gy, loss, log_probs, target):
        batch = log_probs.shape[0]
        picks = xp.zeros(log_probs.shape, dtype=log_probs.dtype)
        picks[xp.arange(batch), array_of(target)] = 1
        return picks * (-gy / batch), None

    def jvp(self, dxs, loss, log_probs, target):
        d_log_probs = dxs[0]
        batch = log_probs.shape[0]
        return -d_log_probs[xp.arange(batch), array_of(target)].sum() / batch


class BinaryCrossEntropy(Op):
    """mean(-(t log p + (1 - t) log(1 - p))), each log clamped at -100 as PyTorch's, so that
    p = 0 or 1 gives a finite loss; d/dp = (p - t) / max(p (1 - p), 1e-12) / N."""

    __slots__ = ()

    def forward(self, p, t):
        log_p, log_q = _clamped_logs(p)
        return -(t * log_p + (1 - t) * log_q).mean()

    def backward(self, gy, loss, p, t):
        n = max(_broadcast_size(p, t), 1)
        gp = gy * self._p_slope(p, t) / n
        gt = None
        if self.needs_grad(1):
            log_p, log_q = _clamped_logs(p)
            gt = gy * (log_q - log_p) / n
        return gp, gt

    def jvp(self, dxs, loss, p, t):
        dp, dt = dxs
        terms = None if dp is None else dp * self._p_slope(p, t)
        if dt is not None:
            log_p, log_q = _clamped_logs(p)
            terms = total(terms, dt * (log_q - log_p))
        return terms.sum() / max(_broadcast_size(p, t), 1)

    @staticmethod
    def _p_slope(p, t):
        return (p - t) / clip(p * (1 - p), min=1e-12)


def _clamped_logs(p):
    """log p and log(1 - p), each at least -100 (arrays or Tensors)."""
    with xp.errstate(divide="ignore"):
        return clip(log(p), min=-100), clip(log1p(-p), min=-100)


class BinaryCrossEntropyWithLogits(Op):
    """binary_cross_entropy(sigmoid(z), t) computed from the logits z without overflow, as
    mean(softplus(z) - t z); d/dz = (sigmoid(z) - t) / N, d/dt = -z / N."""

    __slots__ = ()

    def forward(self, z, t):
        return (xp.logaddexp(0, z) - t * z).mean()

    def backward(self, gy, loss, z, t):
        scale = gy / max(_broadcast_size(z, t), 1)
        return (sigmoid(z) - t) * scale, (-z * scale if self.needs_grad(1) else None)

    def jvp(self, dxs, loss, z, t):
        dz, dt = dxs
        return total(None if dz is None else dz * (sigmoid(z) - t),
                     None if dt is None else -dt * z).sum() / max(_broadcast_size(z, t), 1)


class HuberLoss(Op):
    """mean of 0.5 d² where |d| < delta, else delta (|d| - delta / 2), d = y - t:
    squared near 0, absolute far out; its gradient is d clipped to [-delta, delta] over N."""

    __slots__ = ("delta",)

    def __init__(self, delta=1.0):
        self.delta = delta

    def forward(self, y, t):
        diff = y - t
        size = xp.abs(diff)
        near = size < self.delta
        return xp.where(near, 0.5 * diff * diff, self.delta * (size - 0.5 * self.delta)).mean()

    def backward(self, gy, loss, y, t):
        g = self._slope(y, t) * (gy / max(_broadcast_size(y, t), 1))
        return g, (-g if self.needs_grad(1) else None)

    def jvp(self, dxs, loss, y, t):
        dy, dt = dxs
        d_diff = total(dy, None if dt is None else -dt)
        return (self._slope(y, t) * d_diff).sum() / max(_broadcast_size(y, t), 1)

    def _slope(self, y, t):
        return clip(y - t, min=-self.delta, max=self.delta)


def _broadcast_size(a, b) -> int:
    return int(xp.prod(xp.broadcast_shapes(xp.shape(a), xp.shape(b))))


softmax = Softmax.apply
log_softmax = LogSoftmax.apply
softmax_cross_entropy = SoftmaxCrossEntropy.apply
mse = MeanSquaredError.apply
mae = MeanAbsoluteError.apply
nll_loss = NllLoss.apply
binary_cross_entropy = BinaryCrossEntropy.apply
binary_cross_entropy_with_logits = BinaryCrossEntropyWithLogits.apply
huber_loss = HuberLoss.apply
