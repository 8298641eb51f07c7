"""Arithmetic ops: add sub mul div neg pow matmul linear, maximum minimum where.

Binary ops follow NumPy broadcasting; their backward may return gradients in the
broadcast shape, and the engine sums them back to each input's shape (``backend.sum_to``).
"""

from __future__ import annotations

from graphkit.backend import sum_to, xp
from graphkit.graph import Op
from graphkit.ops.elementwise import log
from graphkit.ops.tangents import total
from graphkit.tensor import array_of


class Add(Op):
    grad_reads = ((), ())
    __slots__ = ()

    def forward(self, a, b):
        return a + b

    def backward(self, gy, y, a, b):
        return gy, gy

    def jvp(self, dxs, y, a, b):
        return total(*dxs)


class Sub(Op):
    grad_reads = ((), ())
    __slots__ = ()

    def forward(self, a, b):
        return a - b

    def backward(self, gy, y, a, b):
        return gy, (-gy if self.needs_grad(1) else None)

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return total(da, None if db is None else -db)


class Mul(Op):
    grad_reads = ((1,), (0,))
    __slots__ = ()

    def forward(self, a, b):
        return a * b

    def backward(self, gy, y, a, b):
        return (gy * b if self.needs_grad(0) else None), (gy * a if self.needs_grad(1) else None)

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return total(None if da is None else da * b, None if db is None else a * db)


class Div(Op):
    __slots__ = ()

    def forward(self, a, b):
        return a / b

    def backward(self, gy, y, a, b):
        ga = gy / b
        return ga, (-ga * y if self.needs_grad(1) else None)

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return total(da, None if db is None else -y * db) / b


class Neg(Op):
    __slots__ = ()

    def forward(self, x):
        return -x

    def backward(self, gy, y, x):
        return -gy

    def jvp(self, dxs, y, x):
        return -dxs[0]


class Pow(Op):
    """``a ** b``, with PyTorch's derivatives where the formulas break down:
    d/da = b a^(b-1), and 0 wherever b = 0 (x ** 0 is constant, even at 0 and ±inf; with
    a Python number b = 0, exactly 0 whatever the incoming gradient, as PyTorch);
    d/db = a^b log a, and 0 where a = 0 and b >= 0 (where a^b is 0 or 1 and log a -inf)."""

    __slots__ = ()

    def forward(self, a, b):
        return a**b

    def backward(self, gy, y, a, b):
        ga = self._base_slope(gy, a, b) if self.needs_grad(0) else None
        gb = gy * self._exponent_slope(y, a, b) if self.needs_grad(1) else None
        return ga, gb

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return total(None if da is None else self._base_slope(da, a, b),
                     None if db is None else db * self._exponent_slope(y, a, b))

    @staticmethod
    def _base_slope(g, a, b):
        """g * d(a^b)/da: exactly 0 where b = 0, even at a = 0 (where a^(b-1) is inf)."""
        if isinstance(b, (int, float)):
            return xp.zeros_like(array_of(g)) if b == 0 else g * b * a ** (b - 1)
        pole = xp.logical_and(array_of(a) == 0, array_of(b) == 0)
        if not pole.any():
            # b = 0 elsewhere gives b a^(b-1) = 0 by itself, and keeps its derivative in b.
            return g * b * a ** (b - 1)
        # The pole's exponent -> 1, so that the discarded branch holds no inf whose NaN a
        # second derivative would carry through where()'s zero.
        return g * b * where(pole, 0, a ** (where(pole, 1, b) - 1))

    @staticmethod
    def _exponent_slope(y, a, b):
        """d(a^b)/db = a^b log a, 0 where a = 0 and b >= 0."""
        flat = xp.logical_and(array_of(a) == 0, array_of(b) >= 0)
        # log(1) = 0 there, and a^b is 0 or 1: the product is an exact 0 without where().
        return y * log(where(flat, 1, a) if flat.any() else a)


class MatMul(Op):
    """``a @ b`` with NumPy's rules: 1-D operands are promoted, batch dims broadcast."""

    name = "matmul"
    grad_reads = ((1,), (0,))
    __slots__ = ()

    def forward(self, a, b):
        try:
            return xp.matmul(a, b)
        except ValueError:
            raise ValueError(_matmul_mismatch(a, b)) from None

    def backward(self, gy, y, a, b):
        if a.ndim == 2 and b.ndim == 2:
            ga = gy @ b.T if self.needs_grad(0) else None
            gb = a.T @ gy if self.needs_grad(1) else None
            return ga, gb
        if a.ndim == 1 and b.ndim == 1:
            return gy * b, gy * a
        # Promote 1-D operands to matrices, as forward did, then undo it on the way out.
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        batch = xp.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        gy2 = gy.reshape((*batch, a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if self.needs_grad(0):
            ga = sum_to(gy2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs_grad(1):
            gb = sum_to(a2.swapaxes(-1, -2) @ gy2, b2.shape).reshape(b.shape)
        return ga, gb

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        return total(None if da is None else da @ b, None if db is None else a @ db)


class Linear(Op):
    """x @ W + b with x (..., in), W (in, out), b (out,) or None -> (..., out).

    One op rather than matmul then add: a layer is one node in drawings, and the bias is
    added in place into the product, saving a pass and a temporary per layer.
    """

    grad_reads = ((1,), (0,), ())
    __slots__ = ()

    def forward(self, x, W, b):
        y = xp.matmul(x, W)
        if b is not None:
            y += b
        return y

    def backward(self, gy, y, x, W, b):
        gx = gy @ W.T if self.needs_grad(0) else None
        gW = gb = None
        if self.needs_grad(1):
            if x.ndim == 2:
                gW = x.T @ gy
            else:  # a batch of any rank: fold the leading axes into one
                gW = x.reshape(-1, x.shape[-1]).T @ gy.reshape(-1, gy.shape[-1])
        if self.needs_grad(2):
            gb = gy.sum(axis=tuple(range(gy.ndim - 1)))
        return gx, gW, gb

    def jvp(self, dxs, y, x, W, b):
        dx, dW, db = dxs
        return total(None if dx is None else dx @ W, None if dW is None else x @ dW, db)


class Maximum(Op):
    """The elementwise larger of a and b; at a tie each gets half the gradient (PyTorch)."""

    __slots__ = ()

    def forward(self, a, b):
        return xp.maximum(a, b)

    def backward(self, gy, y, a, b):
        share = self._share_of_a(y, a, b)
        return (gy * share if self.needs_grad(0) else None), (
            gy * (1 - share) if self.needs_grad(1) else None
        )

    def jvp(self, dxs, y, a, b):
        da, db = dxs
        share = self._share_of_a(y, a, b)
        return total(None if da is None else da * share, None if db is None else db * (1 - share))

    def _share_of_a(self, y, a, b):
        """1 where a wins, 0 where b does, 1/2 at a tie: in the broadcast shape, y's dtype."""
        a, b = array_of(a), array_of(b)
        return (self._wins(a, b) + 0.5 * (a == b)).astype(array_of(y).dtype)

    @staticmethod
    def _wins(a, b):
        return a > b


class Minimum(Maximum):
    """The elementwise smaller of a and b; at a tie each gets half the gradient (PyTorch)."""

    __slots__ = ()

    def forward(self, a, b):
        return xp.minimum(a, b)

    @staticmethod
    def _wins(a, b):
        return a < b


class Where(Op):
    """a where ``condition`` (a bool array, an input without gradient), else b; the gradient
    goes to the one chosen at each element, broadcast as NumPy's ``where``."""

    __slots__ = ()

    def forward(self, condition, a, b):
        return xp.where(condition, a, b)

    def backward(self, gy, y, condition, a, b):
        # where() rather than masks: a gradient of inf times a mask of 0 would be NaN.
        condition = array_of(condition)
        ga = where(condition, gy, 0) if self.needs_grad(1) else None
        gb = where(condition, 0, gy) if self.needs_grad(2) else None
        return None, ga, gb

    def jvp(self, dxs, y, condition, a, b):
        _, da, db = dxs
        if da is None and db is None:
            return None
        return where(array_of(condition), 0 if da is None else da, 0 if db is None else db)


def _matmul_mismatch(a, b) -> str:
    """What is wrong with the shapes of ``a @ b``, in words rather than gufunc signatures."""
    if xp.ndim(a) == 0 or xp.ndim(b) == 0:
        return "both operands need at least one dimension (use * for scalars)"
    inner_a, inner_b = a.shape[-1], b.shape[0 if b.ndim == 1 else -2]
    if inner_a != inner_b:
        axis = "only" if b.ndim == 1 else "second-to-last"
        return f"a's last axis has {inner_a} elements but b's {axis} axis has {inner_b}"
    return f"the batch axes {a.shape[:-2]} and {b.shape[:-2]} do not broadcast"


add = Add.apply
sub = Sub.apply
mul = Mul.apply
div = Div.apply
neg = Neg.apply
pow = Pow.apply
matmul = MatMul.apply
linear = Linear.apply
maximum = Maximum.apply
minimum = Minimum.apply
where = Where.apply
