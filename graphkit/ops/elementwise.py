"""Elementwise ops: exp log sqrt abs relu sigmoid tanh step, the activations leaky_relu elu
gelu silu softplus, sin cos log1p expm1 square sign erf clip, and the dtype cast.

Kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, step' = sign' = 0 everywhere,
leaky_relu'(0) = negative_slope, elu'(0) = alpha, clip' = 1 at a bound itself.
"""

from __future__ import annotations

import math

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.buffers import kept_like
from graphkit.tensor import Tensor, array_of


class Pointwise:
    """The rules of an elementwise op of one input, from its derivative: ``slope(y, x)``,
    dy/dx at each element, written for arrays and Tensors alike, serves both modes (gy *
    slope in reverse, dx * slope in forward). A mixin, ``class Exp(Pointwise, Op)``, so that
    it is no op of its own in the registry."""

    __slots__ = ()

    def backward(self, gy, y, x):
        return gy * self.slope(y, x)

    def jvp(self, dxs, y, x):
        return dxs[0] * self.slope(y, x)

    def slope(self, y, x):
        raise NotImplementedError(f"{type(self).__name__} must define slope(self, y, x)")


class Exp(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        return xp.exp(x)

    def slope(self, y, x):
        return y


class Log(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.log(x)

    def backward(self, gy, y, x):
        return gy / x

    def jvp(self, dxs, y, x):
        return dxs[0] / x


class Sqrt(Op):
    __slots__ = ()

    def forward(self, x):
        return xp.sqrt(x)

    def backward(self, gy, y, x):
        return gy / (2 * y)

    def jvp(self, dxs, y, x):
        return dxs[0] / (2 * y)


class Abs(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        return xp.abs(x)

    def slope(self, y, x):
        return xp.sign(array_of(x))


class Relu(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        # Into a buffer kept across steps: a conv net's activations are its largest fresh
        # arrays, and a fresh one is faulted in from the system page by page at each step.
        # (Its mask and gradient in backward are better left to the allocator: freed
        # soon after they are made, their memory serves the next ones without faults,
        # where kept they would only add to the peak.)
        return xp.maximum(x, 0, out=kept_like(x))

    def slope(self, y, x):
        return array_of(x) > 0


class Sigmoid(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        if x.dtype.kind != "f":
            x = x.astype(xp.float64)  # -x of unsigned integers would wrap around
        # exp(-x) overflows to inf below x = -709 (-88 in float32), where 1 / (1 + inf)
        # = 0 is the right value, so the overflow is no news. This form keeps full relative
        # precision in both tails, and is faster than 0.5 * tanh(0.5 * x) + 0.5 patched in
        # the far tail (docs/benchmarks.md, "Measured choices in the code").
        with xp.errstate(over="ignore"):
            e = xp.asarray(xp.exp(-x))  # asarray: a 0-d input gives a NumPy scalar
        e += 1
        return xp.reciprocal(e, out=e)

    def slope(self, y, x):
        return y * (1 - y)


class Tanh(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        return xp.tanh(x)

    def slope(self, y, x):
        return 1 - y * y


class Step(Op):
    """The M-P neuron's activation: 1 where x > 0, else 0; its derivative is 0."""

    __slots__ = ()

    def forward(self, x):
        return (x > 0).astype(x.dtype)

    def backward(self, gy, y, x):
        return xp.zeros_like(array_of(x))

    def jvp(self, dxs, y, x):
        return None


class Cast(Op):
    """The same values in another dtype; the gradient is cast back."""

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy, y, x):
        return cast(gy, dtype=x.dtype)

    def jvp(self, dxs, y, x):
        return cast(dxs[0], dtype=self.dtype)


class LeakyRelu(Pointwise, Op):
    """x where x > 0, else negative_slope * x."""

    __slots__ = ("negative_slope",)

    def __init__(self, negative_slope=0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        return xp.where(x > 0, x, x * self.negative_slope)

    def slope(self, y, x):
        x = array_of(x)
        return xp.where(x > 0, 1, self.negative_slope).astype(x.dtype)


class Elu(Pointwise, Op):
    """x where x > 0, else alpha * (exp(x) - 1); the slope below 0 is y + alpha."""

    __slots__ = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, x):
        # expm1 of min(x, 0): no overflow warning from the branch where() discards.
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def slope(self, y, x):
        # Masks rather than where(): y is a Tensor under create_graph, and y + alpha is
        # finite wherever the mask drops it, so the product never makes inf * 0.
        positive = array_of(x) > 0
        return positive + ~positive * (y + self.alpha)


class Gelu(Pointwise, Op):
    """x Φ(x), Φ the standard normal CDF in its exact form 0.5 (1 + erf(x / √2)), as
    PyTorch's default; gelu' = Φ(x) + x φ(x)."""

    __slots__ = ()

    def forward(self, x):
        cdf = 0.5 * (1 + _erf(x * _SQRT_HALF))
        # Saved for the slope: erf costs some fifty array passes, x * Φ one.
        self.saved = cdf
        return x * cdf

    def slope(self, y, x):
        cdf = 0.5 * (1 + erf(x * _SQRT_HALF)) if isinstance(x, Tensor) else self.saved
        return cdf + x * exp(-0.5 * x * x) * _INV_SQRT_2PI


class Silu(Pointwise, Op):
    """x sigmoid(x); silu' = s (1 + x (1 - s)) with s = sigmoid(x)."""

    __slots__ = ()

    def forward(self, x):
        return x * sigmoid(x)

    def slope(self, y, x):
        s = sigmoid(x)
        return s * (1 + x * (1 - s))


class Softplus(Pointwise, Op):
    """log(1 + exp(x)), computed without overflow; softplus' = sigmoid."""

    __slots__ = ()

    def forward(self, x):
        return xp.logaddexp(0, x)

    def slope(self, y, x):
        return sigmoid(x)


class Sin(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        return xp.sin(x)

    def slope(self, y, x):
        return cos(x)


class Cos(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        return xp.cos(x)

    def slope(self, y, x):
        return -sin(x)


class Log1p(Op):
    """log(1 + x), accurate for small x."""

    __slots__ = ()

    def forward(self, x):
        return xp.log1p(x)

    def backward(self, gy, y, x):
        return gy / (1 + x)

    def jvp(self, dxs, y, x):
        return dxs[0] / (1 + x)


class Expm1(Pointwise, Op):
    """exp(x) - 1, accurate for small x."""

    __slots__ = ()

    def forward(self, x):
        return xp.expm1(x)

    def slope(self, y, x):
        return y + 1


class Square(Pointwise, Op):
    __slots__ = ()

    def forward(self, x):
        return x * x

    def slope(self, y, x):
        return 2 * x


class Sign(Step):
    """-1, 0 or 1 by the sign of x (NaN stays NaN); its derivative is 0."""

    __slots__ = ()

    def forward(self, x):
        return xp.sign(x)


class Erf(Pointwise, Op):
    """The error function, 2/√π ∫₀ˣ exp(-t²) dt, to double precision; erf' = 2/√π exp(-x²)."""

    __slots__ = ()

    def forward(self, x):
        return _erf(x)

    def slope(self, y, x):
        return exp(-x * x) * _TWO_OVER_SQRT_PI


class Clip(Pointwise, Op):
    """x limited to [min, max] (either may be None); the slope is 1 where min <= x <= max,
    bounds included, and 0 outside, as ``torch.clamp``."""

    __slots__ = ("max", "min")

    def __init__(self, min=None, max=None):
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and not isinstance(bound, (int, float, xp.generic)):
                raise TypeError(
                    f"clip: {name} must be a number or None, got {type(bound).__name__}; "
                    "for elementwise bounds use maximum(x, low) and minimum(x, high)"
                )
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        self.min = min
        self.max = max

    def forward(self, x):
        return xp.clip(x, self.min, self.max)

    def slope(self, y, x):
        x = array_of(x)
        inside = xp.ones(x.shape, dtype=bool)
        if self.min is not None:
            inside &= x >= self.min
        if self.max is not None:
            inside &= x <= self.max
        return inside


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

# W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969; his CALERF): erf on
# |x| <= 0.46875, exp(x²) erfc(x) on 0.46875 < x <= 4 and, in 1/x², beyond; within 5e-16 of
# math.erf. NumPy has no erf; this is as fast as scipy.special.erf, which graphkit would
# otherwise need as a dependency, and several times faster than math.erf element by element.
# Numerators from the highest power down; denominators likewise, after their leading 1.
_ERF_NUM = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
            3.77485237685302021e02, 3.20937758913846947e03)
_ERF_DEN = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
            2.84423683343917062e03)
_ERFC_NUM = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
             6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
             1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_ERFC_DEN = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
             1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
             3.43936767414372164e03, 1.23033935480374942e03)
_TAIL_NUM = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
             1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_TAIL_DEN = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
             6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 1 / math.sqrt(math.pi)


def _rational(z, numerator, denominator, out, scratch):
    """p(z) / q(z) into ``out`` by Horner's rule, q built in ``scratch`` (q is monic)."""
    p = xp.multiply(z, numerator[0], out=out)
    for c in numerator[1:-1]:
        p += c
        p *= z
    p += numerator[-1]
    q = xp.add(z, denominator[0], out=scratch)
    for d in denominator[1:]:
        q *= z
        q += d
    p /= q
    return p


def _erf(x):
    """erf of an array, elementwise, in x's floating dtype."""
    x = xp.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)
    if x.ndim == 0:  # NumPy makes scalars of 0-d results, which cannot be written in place
        return _erf(x.reshape(1)).reshape(())
    y = xp.abs(x)
    squares = x * x
    # Both ranges are computed on every element, then one is picked: masked indexing
    # would cost more than the arithmetic it saves. The far tail is rare enough to index.
    # Each range overflows or divides inf by inf on elements of the other: no news. Three
    # buffers serve every step, fresh arrays for each costing more than the arithmetic.
    near_zero, scratch, away = xp.empty_like(x), xp.empty_like(x), xp.empty_like(x)
    with xp.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _rational(squares, _ERF_NUM, _ERF_DEN, near_zero, scratch)
        near_zero *= x
        erfc_scaled = _rational(y, _ERFC_NUM, _ERFC_DEN, away, scratch)
        far = y > 4
        if far.any():
            y_far = y[far]
            z = 1 / (y_far * y_far)
            tail = _rational(z, _TAIL_NUM, _TAIL_DEN, xp.empty_like(z), xp.empty_like(z))
            erfc_scaled[far] = (_INV_SQRT_PI - z * tail) / y_far
        xp.negative(squares, out=scratch)
        erfc_scaled *= xp.exp(scratch, out=scratch)
    xp.subtract(1, erfc_scaled, out=away)
    xp.copysign(away, x, out=away)
    xp.copyto(away, near_zero, where=y <= 0.46875)
    return away


exp = Exp.apply
log = Log.apply
sqrt = Sqrt.apply
abs = Abs.apply
relu = Relu.apply
sigmoid = Sigmoid.apply
tanh = Tanh.apply
step = Step.apply
cast = Cast.apply
leaky_relu = LeakyRelu.apply
elu = Elu.apply
gelu = Gelu.apply
silu = Silu.apply
softplus = Softplus.apply
sin = Sin.apply
cos = Cos.apply
log1p = Log1p.apply
expm1 = Expm1.apply
square = Square.apply
sign = Sign.apply
erf = Erf.apply
clip = Clip.apply
