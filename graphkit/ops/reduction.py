"""Reductions over ``axis`` (None, an int or a tuple) with ``keepdims``: sum, mean, max, min,
prod, var, std, logsumexp; cumsum along one axis; argmax and argmin (not differentiable)."""

from __future__ import annotations

import math

from graphkit.backend import axes_of, xp
from graphkit.graph import Op
from graphkit.ops.arithmetic import where
from graphkit.ops.elementwise import exp
from graphkit.ops.shape import broadcast_to
from graphkit.tensor import Tensor, array_of


def _kept_shape(shape, axis):
    """``shape`` with the reduced axes kept as 1 (keepdims=True's result shape)."""
    axes = axes_of(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Op):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, y, x):
        return broadcast_to(gy.reshape(_kept_shape(x.shape, self.axis)), shape=x.shape)

    def jvp(self, dxs, y, x):
        return dxs[0].sum(axis=self.axis, keepdims=self.keepdims)


class Mean(Sum):
    __slots__ = ()

    def forward(self, x):
        return x.mean(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, y, x):
        # Not ``max(...)``: this module's ``max`` is the Max op. An empty x has an empty
        # gradient, so any count will do there.
        count = x.size // y.size if x.size else 1
        return super().backward(gy, y, x) / count

    def jvp(self, dxs, y, x):
        return dxs[0].mean(axis=self.axis, keepdims=self.keepdims)


class Max(Sum):
    """The maximum; tied maxima share the gradient equally (as ``torch.amax``)."""

    __slots__ = ()

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, y, x):
        return broadcast_to(gy.reshape(_kept_shape(x.shape, self.axis)), shape=x.shape) * (
            self._shares(y, x)
        )

    def jvp(self, dxs, y, x):
        return (dxs[0] * self._shares(y, x)).sum(axis=self.axis, keepdims=self.keepdims)

    def _shares(self, y, x):
        """Each element's share of the maximum of its slice: 1/k at a k-way tie, else 0."""
        is_max = array_of(x) == array_of(y).reshape(_kept_shape(x.shape, self.axis))
        share = is_max / is_max.sum(axis=axes_of(self.axis, x.ndim), keepdims=True)
        return share.astype(x.dtype)


class Min(Max):
    """The minimum; tied minima share the gradient equally (as ``torch.amin``)."""

    __slots__ = ()

    def forward(self, x):
        return x.min(axis=self.axis, keepdims=self.keepdims)


class Prod(Sum):
    """The product. Each element's derivative is the product of the others in its slice,
    formed without dividing by the element: exact where the slice holds zeros (one zero:
    the product of the rest at it and 0 elsewhere; two or more: 0 everywhere), and so are
    the second derivatives (which, through P / x where the slice has no zero, lose their
    precision where its elements differ some 1e16-fold in size, as PyTorch's)."""

    __slots__ = ()

    def forward(self, x):
        return x.prod(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, y, x):
        return super().backward(gy, y, x) * self._others(x)

    def jvp(self, dxs, y, x):
        return (dxs[0] * self._others(x)).sum(axis=self.axis, keepdims=self.keepdims)

    def _others(self, x):
        """The product of the other elements of each element's slice, in x's shape: exact in
        value, and in its own derivative (prod's second), also where the slice has zeros.

        With P the product of the slice's nonzero elements and Z the sum of its zeros (0,
        but its derivative marks where they are), it is, by the number k of zeros in the
        slice: P / x (k = 0); P at the zero and Z P / x elsewhere (k = 1); (Z - x) P at
        each zero and 0 elsewhere (k = 2); 0 (k > 2).
        """
        axes = axes_of(self.axis, x.ndim)
        zero = array_of(x) == 0
        nonzero = where(zero, 1, x)
        product = Prod.apply(nonzero, axis=axes, keepdims=True)
        if not zero.any():
            return product / nonzero
        count = zero.sum(axis=axes, keepdims=True)
        zeros = where(zero, x, 0).sum(axis=axes, keepdims=True)
        one = where(zero, product, zeros * product / nonzero)
        two = where(zero, (zeros - x) * product, 0)
        return where(count == 0, product / nonzero,
                     where(count == 1, one, where(count == 2, two, 0)))


class Var(Sum):
    """The variance, the mean squared deviation over N - ddof (N elements per slice);
    d/dx = 2 (x - mean) / (N - ddof)."""

    __slots__ = ("ddof",)

    def __init__(self, axis=None, keepdims=False, ddof=0):
        super().__init__(axis, keepdims)
        self.ddof = ddof

    def forward(self, x):
        return x.var(axis=self.axis, ddof=self.ddof, keepdims=self.keepdims)

    def backward(self, gy, y, x):
        return self._deviation_slope(super().backward(gy, y, x), x)

    def jvp(self, dxs, y, x):
        return self._deviation_slope(dxs[0], x).sum(axis=self.axis, keepdims=self.keepdims)

    def _deviation_slope(self, g, x):
        """g * 2 (x - mean) / (N - ddof), g in x's shape."""
        count = math.prod(x.shape[i] for i in axes_of(self.axis, x.ndim))
        # N <= ddof: the variance is NaN or inf (NumPy's, and PyTorch's), its slope NaN.
        scale = 2 / (count - self.ddof) if count > self.ddof else math.nan
        return g * (x - x.mean(axis=self.axis, keepdims=True)) * scale


class Std(Var):
    """The square root of ``Var``; its gradient is 0 on a slice whose deviation is 0
    (PyTorch's choice where the square root has none)."""

    __slots__ = ()

    def forward(self, x):
        return x.std(axis=self.axis, ddof=self.ddof, keepdims=self.keepdims)

    def backward(self, gy, y, x):
        return super().backward(self._var_grad(gy, y), y, x)

    def jvp(self, dxs, y, x):
        return self._var_grad(super().jvp(dxs, y, x), y)

    @staticmethod
    def _var_grad(g, y):
        """g / (2 std), 0 where std is 0: the chain rule from var to std."""
        flat = array_of(y) == 0
        if not flat.any():
            return g / (2 * y)
        return where(flat, 0, g / (2 * where(flat, 1, y)))


class LogSumExp(Sum):
    """log(sum(exp(x))), shifted by the maximum so that values of 1e4 neither overflow nor
    vanish; the gradient is softmax over the reduced axes."""

    name = "logsumexp"
    __slots__ = ()

    def forward(self, x):
        top = x.max(axis=self.axis, keepdims=True)
        # A slice of infinities (or all -inf) would make inf - inf: shift it by 0 instead.
        top = xp.where(xp.isfinite(top), top, 0)
        exps = xp.asarray(x - top)  # asarray: 0-d arithmetic gives a NumPy scalar
        xp.exp(exps, out=exps)
        total = exps.sum(axis=self.axis, keepdims=True)
        # Backward's softmax is exps / total: kept rather than recomputing the exponentials.
        self.saved = exps, total
        with xp.errstate(divide="ignore"):  # a slice of -inf sums to 0: its log is -inf
            out = xp.log(total)
        out += top
        return out if self.keepdims else out.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, gy, y, x):
        return self._times_softmax(gy.reshape(_kept_shape(x.shape, self.axis)), y, x)

    def jvp(self, dxs, y, x):
        return (dxs[0] * self._times_softmax(1, y, x)).sum(axis=self.axis, keepdims=self.keepdims)

    def _times_softmax(self, g, y, x):
        """g (broadcast against x) times the softmax of x over the reduced axes."""
        if isinstance(x, Tensor):
            return g * exp(x - y.reshape(_kept_shape(x.shape, self.axis)))
        exps, total = self.saved
        return exps * (g / total)  # one pass over x's size: g / total is per slice


class Cumsum(Op):
    """Running sums along ``axis`` (from the end when ``reverse``): the backward of one
    direction is the other, which keeps every order of derivative exact."""

    __slots__ = ("axis", "reverse")

    def __init__(self, axis, reverse=False):
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"cumsum: axis must be an int, got {axis!r}")
        self.axis = axis
        self.reverse = reverse

    def forward(self, x):
        if self.reverse:
            return xp.flip(xp.cumsum(xp.flip(x, self.axis), self.axis), self.axis)
        return xp.cumsum(x, self.axis)

    def backward(self, gy, y, x):
        return Cumsum.apply(gy, axis=self.axis, reverse=not self.reverse)

    def jvp(self, dxs, y, x):
        return Cumsum.apply(dxs[0], axis=self.axis, reverse=self.reverse)


def _reduced_shape(shape, axis):
    """``shape`` without the reduced axes (keepdims=False's result shape)."""
    axes = axes_of(axis, len(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def argmax(x, axis=None, keepdims=False):
    """The index of the (first) largest element, along ``axis`` or of the flattened x: an
    integer array, outside the graph."""
    return xp.argmax(array_of(x), axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """The index of the (first) smallest element, as ``argmax``."""
    return xp.argmin(array_of(x), axis=axis, keepdims=keepdims)


sum = Sum.apply
mean = Mean.apply
max = Max.apply
min = Min.apply
prod = Prod.apply
var = Var.apply
std = Std.apply
logsumexp = LogSumExp.apply
cumsum = Cumsum.apply
