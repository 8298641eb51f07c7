"""Reductions: sum, mean, max over ``axis`` (None, an int or a tuple) with ``keepdims``."""

from __future__ import annotations

from graphkit.backend import axes_of
from graphkit.graph import Op
from graphkit.ops.shape import broadcast_to
from graphkit.tensor import array_of


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


sum = Sum.apply
mean = Mean.apply
max = Max.apply
