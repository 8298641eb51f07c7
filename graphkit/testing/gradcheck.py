"""Checking derivatives against central differences: gradcheck and gradgradcheck.

For every element x_j of every input that requires grad, ``fn`` runs at x_j + eps and
x_j - eps. Their central difference is column j of the numerical Jacobian; together with
``fn`` at the point itself they also give the two one-sided differences. Where those
disagree by more than the tolerance, the step is quartered, up to four times: a smooth
function's disagreement (the step times its curvature) shrinks with it, and a kink just
beyond the step leaves the smaller stencil, so the central difference of the first step
at which the two agree is used. Where they still disagree at eps / 256, ``fn`` has a kink
at x_j (relu or abs at 0, tied maxima, a sort that swaps two elements): the element is
reported as not differentiable rather than as a wrong gradient. So is one whose central
difference does not settle at a quarter of the step, checked before any derivative is
called wrong: a jump the same on both sides (sign at 0) fools the one-sided differences.

Reverse mode is checked with one backward pass, of a fixed random projection v·fn; forward
mode with one jvp along a fixed random tangent u. Each projection is compared within the
sum of the entries' own tolerances, so it fails only when some entry of the Jacobian does;
only then is the analytic Jacobian built row by row (column by column for forward mode) to
name that entry: the input, its element, the output element, and both derivatives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphkit.autograd import grad
from graphkit.forward import is_active as forward_mode_active
from graphkit.func import jvp
from graphkit.func.inputs import reverse_input
from graphkit.graph import enable_grad, is_grad_enabled, no_grad
from graphkit.ops.shape import identity
from graphkit.tensor import Tensor

__all__ = [
    "GradcheckError",
    "NotDifferentiableError",
    "gradcheck",
    "gradgradcheck",
    "numerical_gradient",
]


class GradcheckError(AssertionError):
    """A derivative disagrees with central differences (or another check failed).

    ``input_index`` is the position of the input whose derivative is wrong, where one is.
    """

    input_index: int | None = None


class NotDifferentiableError(GradcheckError):
    """``fn`` has a kink (or leaves its domain) within ``eps`` of the point checked, so
    there is no derivative there to compare."""


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-4):
    """df/dx by central differences: (f(x + eps) - f(x - eps)) / (2 eps), one element at a time.

    ``x`` is perturbed in place and restored; ``f(x)`` returns a float. Returns an array
    of ``x``'s shape.
    """
    grad_x = np.zeros_like(x, dtype=np.result_type(x.dtype, np.float64))
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x) and x.size:
        raise ValueError("numerical_gradient needs a contiguous array to perturb in place")
    for i in range(flat.size):
        original = flat[i]
        try:
            flat[i] = original + eps
            f_plus = float(f(x))
            flat[i] = original - eps
            f_minus = float(f(x))
        finally:  # x is the caller's array: restore it even when f raises
            flat[i] = original
        grad_x.reshape(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad_x


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    check_forward_ad: bool = False,
) -> bool:
    """Compare the derivatives of ``fn(*inputs)`` with central differences.

    Checks every input Tensor that requires grad; ``fn`` returns a Tensor of any shape (or
    a tuple of them). Reverse mode always, forward mode (``gk.func.jvp``) too with
    ``check_forward_ad``. An entry passes when ``|analytic - numerical| <= atol + rtol *
    |numerical|``. Returns True, or raises ``GradcheckError`` naming the input, its element,
    the output element and both derivatives; ``NotDifferentiableError`` (a GradcheckError)
    where an element sits on a kink. The inputs are left as they were. ``fn`` may use the
    inputs without taking them as arguments (a model's parameters) for reverse mode; forward
    mode carries its tangents on stand-ins passed as the arguments, so ``check_forward_ad``
    needs ``fn`` to compute from those. Use float64: float32 cannot resolve ``eps``-sized
    steps.
    """
    point = Point(fn, [inputs] if isinstance(inputs, Tensor) else list(inputs),
                   Tolerance(eps, atol, rtol), "gradcheck")
    point.check_differentiable()
    point.check_reverse()
    if check_forward_ad:
        point.check_forward()
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the second derivatives of ``fn(*inputs)`` with central differences.

    Checks the gradient ``vᵀJ`` of ``fn`` for a fixed random cotangent ``v`` (computed with
    ``create_graph=True``, as double backward does) against central differences of it, with
    respect to the inputs and to ``v``; messages and kinks as ``gradcheck``.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    point = reverse_derivative(Point(fn, inputs, Tolerance(eps, atol, rtol), "gradgradcheck"))
    point.check_differentiable()
    point.check_reverse()
    return True


#: How many times a step that straddles a kink (or meets high curvature) is quartered: a
#: smooth function then passes down to eps / 256, and relu's kink is found within that.
_SMALLER_STEPS = 4


@dataclass(frozen=True)
class Tolerance:
    eps: float
    atol: float
    rtol: float

    def bound(self, numerical: np.ndarray) -> np.ndarray:
        return self.atol + self.rtol * np.abs(numerical)

    def __str__(self) -> str:
        return f"eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}"


def plain(value: float) -> str:
    """A float as a plain number, to 7 significant digits: 3.0, not np.float64(3.00000000023)."""
    return repr(float(f"{value:.7g}"))


def _pair(analytic: float, numerical: float) -> tuple[str, str]:
    """Both values in as few digits (at least 7) as tell them apart."""
    for digits in range(7, 18):
        a, n = f"{analytic:.{digits}g}", f"{numerical:.{digits}g}"
        if a != n or analytic == numerical:
            break
    return repr(float(a)), repr(float(n))


def as_outputs(result: Any, what: str) -> tuple[Tensor, ...]:
    """``fn``'s result as a tuple of Tensors; TypeError (prefixed by ``what``) otherwise."""
    outputs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    for out in outputs:
        if not isinstance(out, Tensor):
            prefix = f"{what}: " if what else ""
            raise TypeError(f"{prefix}fn must return a Tensor (or a tuple of Tensors), "
                            f"got {type(out).__name__}")
    return outputs


def _flat(outputs: Sequence[Tensor]) -> np.ndarray:
    """Every output element in one float64 vector."""
    if not outputs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o.data, dtype=np.float64).reshape(-1) for o in outputs])


def directions(shapes: Sequence[tuple[int, ...]], dtypes: Sequence[Any], seed: int):
    """Fixed random arrays with |entries| in [0.5, 1.5] and alternating signs: no entry of a
    projection is weighted by (nearly) zero, and no two by the same value."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape, dtype in zip(shapes, dtypes):
        size = int(np.prod(shape, dtype=np.int64))
        signs = np.where(np.arange(size) % 2, -1.0, 1.0)
        arrays.append((rng.uniform(0.5, 1.5, size) * signs).reshape(shape).astype(dtype))
    return arrays


class Point:
    """``fn`` at ``inputs``: its outputs, and its numerical Jacobian with respect to each
    input that requires grad (one column per input element, computed when first needed).

    ``input_labels`` and ``output_labels`` (one per output Tensor, or None for "output")
    name things in messages; ``what`` is the check's name.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        inputs: list[Any],
        tol: Tolerance,
        what: str,
        input_labels: Sequence[str] | None = None,
        output_labels: Sequence[str | None] | None = None,
    ) -> None:
        self.fn, self.inputs, self.tol, self.what = fn, inputs, tol, what
        self.prefix = f"{what}: " if what else ""
        self.checked = [
            i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad
        ]
        if not self.checked:
            raise ValueError(f"{what} needs at least one input Tensor with requires_grad=True")
        self.input_labels = list(input_labels) if input_labels else [
            f"input {i}" + (f" ({x.name})" if isinstance(x, Tensor) and x.name else "")
            for i, x in enumerate(inputs)
        ]
        with enable_grad():  # the analytic derivatives need the graph, whatever the caller's mode
            self.outputs = as_outputs(fn(*inputs), what)
        self.output_labels = list(output_labels) if output_labels else [None] * len(self.outputs)
        self.value = _flat(self.outputs)
        self._jacobians: dict[int, np.ndarray] = {}

    # ----- central differences ------------------------------------------------------------

    def _evaluate(self, moved: dict[int, np.ndarray]) -> np.ndarray:
        """fn's outputs (flat, float64) with input i's data replaced by ``moved[i]``.

        The input Tensors themselves take the moved data for the call, so that a function
        that uses them without taking them as arguments (a model's parameters) sees the
        move too; their arrays are swapped, never written to, and swapped back after.
        """
        kept = {i: self.inputs[i].data for i in moved}
        try:
            for i, data in moved.items():
                self.inputs[i].data = data
            # Outside fn's domain NumPy warns (sqrt of a negative); the checks see the NaN.
            with no_grad(), np.errstate(all="ignore"):
                return _flat(as_outputs(self.fn(*self.inputs), self.what))
        finally:
            for i, data in kept.items():
                self.inputs[i].data = data

    def _moved(self, i: int, flat_index: int, step: float) -> tuple[np.ndarray, float]:
        """fn's outputs with element ``flat_index`` of input ``i`` moved by ``step``, and the
        step as stored (rounded to the input's dtype)."""
        x = self.inputs[i]
        data = x.data.copy()
        moved_flat = data.reshape(-1)
        moved_flat[flat_index] += step
        actual = float(moved_flat[flat_index]) - float(x.data.reshape(-1)[flat_index])
        return self._evaluate({i: data}), actual

    def jacobian(self, i: int) -> np.ndarray:
        """The numerical Jacobian of every output element with respect to input ``i``,
        (outputs, input elements); NotDifferentiableError at a kink."""
        if i in self._jacobians:
            return self._jacobians[i]
        if not np.isfinite(self.value).all():
            r = int(np.flatnonzero(~np.isfinite(self.value))[0])
            raise NotDifferentiableError(
                f"{self.prefix}{self._output_text(r, always=True)} is {plain(self.value[r])} "
                "at this point, so fn is not differentiable there"
            )
        x = self.inputs[i]
        columns = np.zeros((self.value.size, x.size))
        for j in range(x.size):
            right, left, central = self._differences(i, j, self.tol.eps)
            rough = ~(np.abs(right - left) <= self.tol.bound(central))
            step = self.tol.eps
            # A smooth function's jump between the one-sided differences is the step times
            # its curvature, and a kink just beyond the step leaves the smaller stencils: take
            # the central difference at the first quarter-step where the jump is within
            # tolerance. At a kink it never is.
            for _ in range(_SMALLER_STEPS):
                if not rough.any():
                    break
                step /= 4
                right_s, left_s, central_s = self._differences(i, j, step)
                central = np.where(rough, central_s, central)
                rough &= ~(np.abs(right_s - left_s) <= self.tol.bound(central_s))
            if rough.any():
                self._not_differentiable(i, j, int(np.flatnonzero(rough)[0]), right, left)
            columns[:, j] = central
        self._jacobians[i] = columns
        return columns

    def _differences(self, i: int, j: int, eps: float):
        """(right, left, central) differences of every output element at element j of input i."""
        plus, up = self._moved(i, j, eps)
        minus, down = self._moved(i, j, -eps)
        if up <= 0 or down >= 0:
            raise ValueError(
                f"{self.prefix}eps={eps:g} vanishes at {self.input_labels[i]}'s element "
                f"{plain(float(self.inputs[i].data.reshape(-1)[j]))} in "
                f"{self.inputs[i].dtype}: use float64 inputs or a larger eps"
            )
        if not (np.isfinite(plus).all() and np.isfinite(minus).all()):
            r = int(np.flatnonzero(~(np.isfinite(plus) & np.isfinite(minus)))[0])
            raise NotDifferentiableError(
                f"{self.prefix}not differentiable at {self._input_text(i, j, value=True)}: "
                f"{self._output_text(r, always=True)} is not finite within eps={eps:g} of "
                "this point"
            )
        return (plus - self.value) / up, (self.value - minus) / -down, (plus - minus) / (up - down)

    def _not_differentiable(self, i: int, j: int, r: int, right, left) -> None:
        raise NotDifferentiableError(
            f"{self.prefix}not differentiable at {self._input_text(i, j, value=True)}: "
            f"the one-sided derivatives of {self._output_text(r, always=True)} disagree, "
            f"{plain(left[r])} from below and {plain(right[r])} from above ({self.tol}), "
            f"and still at eps / {4 ** _SMALLER_STEPS}. "
            "A kink (relu or abs at 0, tied maxima) has no derivative to check: move the "
            "input away from it"
        )

    def check_differentiable(self) -> None:
        """Raise NotDifferentiableError if any input element sits on a kink."""
        for i in self.checked:
            self.jacobian(i)

    # ----- analytic derivatives -----------------------------------------------------------

    def reverse(self, cotangents: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The gradient of sum(cotangent · output) with respect to each checked input."""
        used = [(o, c) for o, c in zip(self.outputs, cotangents) if o.requires_grad]
        found: Sequence[Tensor | None] = [None] * len(self.checked)
        if used:
            found = grad([o for o, _ in used], [self.inputs[i] for i in self.checked],
                         grad_outputs=[c for _, c in used], retain_graph=True, allow_unused=True)
        grads = []
        for i, g in zip(self.checked, found):
            x = self.inputs[i]
            if g is not None and g.shape != x.shape:
                raise GradcheckError(
                    f"{self.prefix}the gradient of {self.input_labels[i]} has shape {g.shape}, "
                    f"not the input's {x.shape}"
                )
            grads.append(np.zeros(x.shape) if g is None else np.asarray(g.data, np.float64))
        return grads

    def forward(self, tangents: Sequence[np.ndarray]) -> np.ndarray:
        """J·tangents by forward mode (gk.func.jvp), flat over every output element."""
        primals = tuple(self.inputs[i] for i in self.checked)
        with no_grad():
            _, out_tangents = jvp(self.with_checked, primals, tuple(tangents))
        return _flat(out_tangents)

    def with_checked(self, *xs: Tensor) -> tuple[Tensor, ...]:
        """fn's outputs with the checked inputs replaced by ``xs``."""
        moved = list(self.inputs)
        for i, x in zip(self.checked, xs):
            moved[i] = x
        return as_outputs(self.fn(*moved), self.what)

    def cotangents(self) -> list[np.ndarray]:
        return directions([o.shape for o in self.outputs], [o.dtype for o in self.outputs], 0)

    def tangents(self) -> list[np.ndarray]:
        xs = [self.inputs[i] for i in self.checked]
        return directions([x.shape for x in xs], [x.dtype for x in xs], 1)

    # ----- the checks ---------------------------------------------------------------------

    def check_reverse(self) -> None:
        """Reverse mode against the numerical Jacobian: one projected backward pass, then
        one backward per output element only if the projection disagrees."""
        v = self.cotangents()
        v_flat = _flat([Tensor._from_op(c, None) for c in v])
        projected = self.reverse(v)
        rows = None
        for k, i in enumerate(self.checked):
            numerical = self.jacobian(i)
            bound = np.abs(v_flat) @ self.tol.bound(numerical)
            if (np.abs(projected[k].reshape(-1) - v_flat @ numerical) <= bound).all():
                continue
            if rows is None:
                rows = self._reverse_rows()
            self._report("reverse mode", i, rows[k], numerical)

    def _reverse_rows(self) -> list[np.ndarray]:
        """The analytic Jacobian with respect to each checked input, one backward per row."""
        rows: list[list[np.ndarray]] = [[] for _ in self.checked]
        sizes = [o.size for o in self.outputs]
        for r in range(self.value.size):
            seed = np.zeros(self.value.size)
            seed[r] = 1
            parts = np.split(seed, np.cumsum(sizes)[:-1])
            cotangents = [p.reshape(o.shape).astype(o.dtype) for p, o in zip(parts, self.outputs)]
            for row, g in zip(rows, self.reverse(cotangents)):
                row.append(g.reshape(-1))
        return [np.array(row).reshape(self.value.size, -1) for row in rows]

    def check_forward(self) -> None:
        """Forward mode against the numerical Jacobian: one jvp along a random tangent, then
        one jvp per input element only if it disagrees."""
        u = self.tangents()
        numerical = [self.jacobian(i) for i in self.checked]
        expected = sum(n @ t.reshape(-1) for n, t in zip(numerical, u))
        bound = sum(self.tol.bound(n) @ np.abs(t.reshape(-1)) for n, t in zip(numerical, u))
        if (np.abs(self.forward(u) - expected) <= bound).all():
            return
        for k, i in enumerate(self.checked):
            columns = []
            for j in range(self.inputs[i].size):
                seeds = [np.zeros_like(t) for t in u]
                seeds[k].reshape(-1)[j] = 1
                columns.append(self.forward(seeds))
            analytic = np.array(columns).T.reshape(self.value.size, -1)
            self._report("forward mode", i, analytic, numerical[k])

    def check_quickly(self, forward: bool = True) -> None:
        """The same checks along one random direction u: fn at x ± eps·u (two evaluations,
        not two per input element) against w·(J u) by one backward pass and J u by one jvp.
        At any doubt (a disagreement, or one-sided differences that do), the full checks,
        which name the entry or the kink, or find nothing wrong."""
        u = self.tangents()
        eps = self.tol.eps
        plus = self._evaluate({i: x + eps * t for i, x, t in self._along(u)})
        minus = self._evaluate({i: x - eps * t for i, x, t in self._along(u)})
        central = (plus - minus) / (2 * eps)
        suspect = not (np.abs(plus - 2 * self.value + minus) / eps <= self.tol.bound(central)).all()
        w = self.cotangents()
        w_flat = _flat([Tensor._from_op(c, None) for c in w])
        reverse = sum(float(g.reshape(-1) @ t.reshape(-1)) for g, t in zip(self.reverse(w), u))
        expected = float(w_flat @ central)
        suspect = suspect or not abs(reverse - expected) <= self.tol.atol + self.tol.rtol * float(
            np.abs(w_flat) @ np.abs(central))
        if forward:
            suspect = suspect or not (np.abs(self.forward(u) - central)
                                      <= self.tol.bound(central)).all()
        if suspect or not np.isfinite(self.value).all():
            self.check_differentiable()
            self.check_reverse()
            if forward:
                self.check_forward()

    def _along(self, u: Sequence[np.ndarray]):
        return [(i, self.inputs[i].data, t) for i, t in zip(self.checked, u)]

    def _report(self, mode: str, i: int, analytic: np.ndarray, numerical: np.ndarray) -> None:
        """Raise GradcheckError for the first entry of input i's Jacobian that is off."""
        bad = ~(np.abs(analytic - numerical) <= self.tol.bound(numerical))
        if not bad.any():
            return
        # Input-major order: the first element of the input, then the first output element.
        j, r = (int(k) for k in np.argwhere(bad.T)[0])
        self._check_settled(i, j, numerical[:, j])
        a, n = _pair(analytic[r, j], numerical[r, j])
        columns_off = int(bad.any(axis=0).sum())
        error = GradcheckError(
            f"{self.prefix}{mode} disagrees with central differences at "
            f"{self._input_text(i, j)}{self._output_text(r)}: analytic {a} vs numerical {n} "
            f"({columns_off} of {numerical.shape[1]} elements off; {self.tol})"
        )
        error.input_index = i
        raise error

    def _check_settled(self, i: int, j: int, central: np.ndarray) -> None:
        """Before a derivative is called wrong: NotDifferentiableError if the central
        differences of column j change with the step. A jump that is the same on both sides
        (sign at 0) leaves the one-sided differences equal, but its central difference
        grows as 1 / step; a smooth function's settles."""
        _, _, smaller = self._differences(i, j, self.tol.eps / 4)
        unsettled = ~(np.abs(smaller - central) <= self.tol.bound(central))
        if unsettled.any():
            r = int(np.flatnonzero(unsettled)[0])
            raise NotDifferentiableError(
                f"{self.prefix}not differentiable at {self._input_text(i, j, value=True)}: "
                f"the central differences of {self._output_text(r, always=True)} do not "
                f"settle as the step shrinks, {plain(central[r])} and then "
                f"{plain(smaller[r])} at a quarter of it ({self.tol}): fn jumps there"
            )

    # ----- naming things ------------------------------------------------------------------

    def _input_text(self, i: int, j: int, value: bool = False) -> str:
        x = self.inputs[i]
        index = tuple(int(k) for k in np.unravel_index(j, x.shape))
        text = f"{self.input_labels[i]}, shape {x.shape}, index {index}"
        return text + f" (value {plain(float(x.data[index]))})" if value else text

    def _output_text(self, r: int, always: bool = False) -> str:
        """``, output element (1, 0)`` for element r of the flat outputs ("" for a scalar
        output unless ``always``)."""
        for k, out in enumerate(self.outputs):
            if r < out.size:
                label = self.output_labels[k] or (
                    f"output {k}" if len(self.outputs) > 1 else "output")
                index = tuple(int(n) for n in np.unravel_index(r, out.shape))
                if not always:
                    if out.size == 1:
                        return "" if len(self.outputs) == 1 else f", {label}"
                    return f", {label} element {index}"
                if out.size == 1 and label == "output":
                    return "the output"
                return label if out.size == 1 else f"{label} element {index}"
            r -= out.size
        raise IndexError(r)


def reverse_derivative(point: Point) -> Point:
    """The point at which to check ``point.fn``'s gradient: the function
    (checked inputs..., cotangents...) -> the gradient of sum(cotangent · fn) with respect
    to each checked input, recorded (create_graph) whenever a surrounding pass
    differentiates it: reverse mode, or forward mode carrying tangents through it."""
    count = len(point.checked)
    differentiable = [k for k, o in enumerate(point.outputs) if o.dtype.kind == "f"]

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        xs, vs = args[:count], args[count:]
        create_graph = is_grad_enabled() or forward_mode_active()
        with enable_grad():
            # The inputs themselves where they require grad, so that fn may use them without
            # taking them as arguments; forward mode's stand-ins become leaves of their own.
            leaves = [x if x.requires_grad else reverse_input(x) for x in xs]
            outputs = point.with_checked(*leaves)
            used = [(outputs[k], v) for k, v in zip(differentiable, vs) if outputs[k].requires_grad]
            found: Sequence[Tensor | None] = [None] * count
            if used:
                found = grad([o for o, _ in used], leaves, grad_outputs=[v for _, v in used],
                             create_graph=create_graph, retain_graph=True, allow_unused=True)
        # Add hands one gradient to both inputs; gk.func.jvp gives a Tensor that appears twice
        # in a function's outputs a tangent only the first time, so make each one distinct.
        seen: set[int] = set()
        distinct = []
        for x, g in zip(xs, found):
            g = Tensor(np.zeros(x.shape, dtype=x.dtype)) if g is None else g
            distinct.append(identity(g) if id(g) in seen else g)
            seen.add(id(g))
        return tuple(distinct)

    v = directions([point.outputs[k].shape for k in differentiable],
                   [point.outputs[k].dtype for k in differentiable], 2)
    args = [point.inputs[i] for i in point.checked] + [Tensor(c, requires_grad=True) for c in v]
    labels = [point.input_labels[i] for i in point.checked] + [
        "grad_outputs" if len(point.outputs) == 1 else f"grad_outputs[{k}]" for k in differentiable
    ]
    return Point(gradient, args, point.tol, point.what, labels,
                 [f"the gradient of {point.input_labels[i]}" for i in point.checked])


def forward_derivative(point: Point) -> Point:
    """The point at which to check ``point.fn``'s forward mode in turn: the function
    (checked inputs..., tangents...) -> J·tangents by ``gk.func.jvp``, differentiable (its
    jvp rules run on Tensors) whenever it is differentiated."""
    count = len(point.checked)

    def tangent(*args: Tensor) -> tuple[Tensor, ...]:
        return jvp(point.with_checked, tuple(args[:count]), tuple(args[count:]))[1]

    args = [point.inputs[i] for i in point.checked] + [
        Tensor(u, requires_grad=True) for u in point.tangents()
    ]
    labels = [point.input_labels[i] for i in point.checked] + [
        f"the tangent of {point.input_labels[i]}" for i in point.checked
    ]
    outputs = ["the tangent" if len(point.outputs) == 1 else f"the tangent of output {k}"
               for k in range(len(point.outputs))]
    return Point(tangent, args, point.tol, point.what, labels, outputs)
