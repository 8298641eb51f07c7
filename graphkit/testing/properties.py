"""check_op: one Hypothesis test of everything an op must satisfy.

Each example Hypothesis draws is checked at every dtype asked for, property by property,
in this order (the names are those the errors give):

* ``fn runs``: fn(*example) returns a Tensor (or a tuple of them);
* ``inputs unchanged``: no array of the example is written to, by forward, backward or jvp;
* ``same output twice``: a second call gives the same output, bit for bit;
* ``output dtype``: floating outputs have the dtype the floating inputs promote to;
* at float64, against central differences (``gradcheck``'s machinery): ``reverse mode``;
  ``broadcasting`` where reverse mode is wrong for an input that broadcasts but right with
  that input repeated to the broadcast shape (its copies' gradients are not summed back);
  ``forward mode``; ``second derivatives`` (double backward, forward over reverse, reverse
  over forward; ``derivatives of order k`` beyond); ``writes the guard allows``: writing,
  between forward and backward, into every input array the write guard left writable (what
  no wanted gradient reads, ``Op.grad_reads``) leaves the gradients as they were;
* at another dtype, ``float32 values`` (say): the output, a gradient and a tangent agree
  with float64 on the same input values, since finite differences are too coarse there.

An example that sits on a kink (the one-sided differences disagree, as relu's at 0) is
rejected, and Hypothesis draws another.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, reject
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context, currently_in_test_context
from hypothesis.errors import Flaky, HypothesisException, Unsatisfiable

from graphkit.autograd import grad
from graphkit.graph import no_grad
from graphkit.tensor import Tensor
from graphkit.testing.gradcheck import (
    GradcheckError,
    NotDifferentiableError,
    Point,
    Tolerance,
    as_outputs,
    forward_derivative,
    plain,
    reverse_derivative,
)

__all__ = ["check_op"]

DEFAULT_TOLERANCE = Tolerance(eps=1e-6, atol=1e-5, rtol=1e-3)


def check_op(
    fn: Callable[..., Any],
    *input_strategies: st.SearchStrategy[Any],
    max_examples: int = 100,
    order: int = 2,
    dtypes: Sequence[Any] = ("float64", "float32"),
    settings: Settings | None = None,
) -> None:
    """Property-test ``fn`` on examples ``fn(*drawn)``, one value drawn from each strategy.

    Strategies draw Tensors (those with ``requires_grad=True`` are differentiated), arrays,
    numbers, or tuples and lists of them: inputs whose shapes depend on each other are drawn
    together by one strategy and unpacked by ``fn``. Floating inputs are cast to each of
    ``dtypes``. See the module docstring for the properties; ``order`` is the highest
    derivative checked. Returns None, or raises ``GradcheckError`` naming the property that
    failed, the dtype and the smallest failing example Hypothesis found. An example on a
    kink is rejected (``hypothesis.reject``), not failed.

    Settings. On its own, check_op runs its own Hypothesis search of ``max_examples``
    examples with no deadline, every other setting coming from the active profile
    (``settings.load_profile``: ``derandomize``, ``database``, ``phases``...). Pass
    ``settings=`` to run under those settings instead; their ``max_examples`` and
    ``deadline`` then replace check_op's. Inside your own ``@given`` test, check_op starts no
    search of its own: it draws one example from your test's data and checks it, so your
    ``@given`` and ``@settings`` decide the number of examples, the deadline, the database
    and the shrinking, and an example on a kink rejects your test's example::

        @settings(max_examples=500, deadline=None)
        @given(st.data())
        def test_softplus(data):
            check_op(softplus, gst.tensors())

    (A bare ``@settings`` on a test without ``@given`` does nothing in Hypothesis; use
    ``settings=`` there.)
    """
    for k, strategy in enumerate(input_strategies):
        if not isinstance(strategy, st.SearchStrategy):
            raise TypeError(
                f"check_op: argument {k + 1} must be a Hypothesis strategy, got "
                f"{type(strategy).__name__}; wrap a constant in hypothesis.strategies.just()"
            )
    if not input_strategies:
        raise TypeError("check_op needs one strategy per argument of fn")
    if order < 1:
        raise ValueError(f"check_op: order must be at least 1, got {order}")
    dtypes = tuple(np.dtype(d) for d in dtypes)
    if not dtypes or any(d.kind != "f" for d in dtypes):
        raise ValueError(f"check_op: dtypes must be floating dtypes, got {dtypes}")
    examples = st.tuples(*input_strategies)

    def check(drawn: tuple[Any, ...]) -> None:
        for dtype in dtypes:
            _Example(fn, drawn, dtype).check(order)

    if currently_in_test_context():
        check(current_build_context().data.draw(examples))
        return

    def check_op_example(drawn: tuple[Any, ...]) -> None:
        check(drawn)

    # One database entry per op and strategies, not one shared by every check_op call.
    check_op_example._hypothesis_internal_add_digest = _digest(  # type: ignore[attr-defined]
        fn, input_strategies, order, dtypes
    )
    if settings is None:
        # No explain phase: it replays the shrunk example hundreds of times more, for a
        # comment on which of its parts matter, and check_op's examples are slow.
        settings = Settings(max_examples=max_examples, deadline=None, phases=[
            p for p in Settings().phases if p is not Phase.explain
        ])
    # Examples on kinks are rejected, as many as it takes: Unsatisfiable if all of them are.
    settings = Settings(settings, report_multiple_bugs=False, suppress_health_check=[
        *settings.suppress_health_check, HealthCheck.too_slow, HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ])
    run = settings(given(examples)(check_op_example))
    try:
        run()
    except Unsatisfiable as error:
        raise GradcheckError(
            "check_op: no example could be checked: each sat on a kink of fn (or made it "
            "non-finite); draw inputs away from them (gk.testing.strategies.elements_for)"
        ) from error
    except Flaky as error:
        raise GradcheckError(
            f"check_op: a failure did not happen again on the same example: is fn "
            f"nondeterministic? {error}"
        ) from error


def _digest(fn: Any, strategies: Sequence[Any], order: int, dtypes: Sequence[Any]) -> bytes:
    """A key for fn and its strategies that stays the same from run to run: names and reprs
    without memory addresses, and what a lambda closes over (which op it applies)."""
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
    closure = [cell.cell_contents for cell in getattr(fn, "__closure__", None) or ()]
    text = f"{name} {fn!r} {closure!r} {strategies!r} {order} {dtypes}"
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)
    return hashlib.sha256(text.encode()).digest()


class _Slot:
    """Where the k-th leaf goes in the drawn structure."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _flatten(value: Any, leaves: list[Any]) -> Any:
    """``value`` with every leaf (anything but a tuple or list) replaced by a _Slot."""
    if isinstance(value, (tuple, list)):
        return _rebuilt(value, [_flatten(v, leaves) for v in value])
    leaves.append(value)
    return _Slot(len(leaves) - 1)


def _fill(template: Any, leaves: Sequence[Any]) -> Any:
    if isinstance(template, _Slot):
        return leaves[template.index]
    return _rebuilt(template, [_fill(t, leaves) for t in template])


def _rebuilt(like: tuple | list, items: list[Any]) -> Any:
    """``items`` in a sequence of ``like``'s type (a named tuple takes them one by one)."""
    return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)


def _cast(leaf: Any, dtype: np.dtype) -> Any:
    """A fresh copy of ``leaf``, floating arrays in ``dtype``: no graph, tangent or
    gradient carries over from one check to the next."""
    if isinstance(leaf, Tensor):
        data = leaf.data.astype(dtype) if leaf.dtype.kind == "f" else leaf.data.copy()
        return Tensor(data, requires_grad=leaf.requires_grad, name=leaf.name)
    if isinstance(leaf, np.ndarray):
        return leaf.astype(dtype) if leaf.dtype.kind == "f" else leaf.copy()
    return leaf


def _arrays(leaves: Sequence[Any]) -> list[tuple[int, np.ndarray]]:
    return [(k, leaf.data if isinstance(leaf, Tensor) else leaf) for k, leaf in enumerate(leaves)
            if isinstance(leaf, (Tensor, np.ndarray))]


def _close(actual: np.ndarray, expected: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Where ``actual`` (computed in ``dtype``) is within a thousand rounding errors of
    ``dtype`` of ``expected``, relative to the largest value too (cancellation loses digits
    in the small ones): 1.2e-4 in float32, which a computation in float16 misses."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    tol = 1e3 * np.finfo(dtype).eps
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    close = np.abs(actual - expected) <= tol * (scale + np.abs(expected))
    # A value beyond the dtype's range (exp(100) in float32) overflows there, rightly.
    return close | (np.abs(expected) > np.finfo(dtype).max) | (actual == expected)


class _Example:
    """One drawn example at one dtype: fresh inputs, and the checks run on them."""

    def __init__(self, fn: Callable[..., Any], drawn: tuple[Any, ...], dtype: np.dtype) -> None:
        self.fn, self.dtype = fn, dtype
        leaves: list[Any] = []
        self.template = _flatten(drawn, leaves)
        self.leaves = [_cast(leaf, dtype) for leaf in leaves]
        self.before = [(k, a.copy()) for k, a in _arrays(self.leaves)]
        self.differentiable = [k for k, x in enumerate(self.leaves)
                               if isinstance(x, Tensor) and x.requires_grad]

    def call(self, *leaves: Any) -> Any:
        return self.fn(*_fill(self.template, leaves))

    def check(self, order: int) -> None:
        leaves = self.leaves
        with self.property("fn runs"):
            outputs = as_outputs(self.call(*leaves), "")
        self.check_unchanged()
        with self.property("same output twice"), no_grad():
            again = as_outputs(self.call(*leaves), "")
            for k, (first, second) in enumerate(zip(outputs, again)):
                if first.shape != second.shape or not np.array_equal(
                    first.data, second.data, equal_nan=True
                ):
                    how = (f"by up to {plain(float(np.max(np.abs(first.data - second.data))))}"
                           if first.shape == second.shape
                           else f"in shape, {first.shape} and {second.shape}")
                    raise GradcheckError(
                        f"output {k} differs between two calls on the same inputs, {how}: "
                        "fn is not deterministic"
                    )
        self.check_dtypes(outputs)
        if not self.differentiable:
            raise GradcheckError("check_op: no input of the example requires grad: draw the "
                                 "inputs to differentiate with requires_grad=True")
        if self.dtype == np.float64:
            self.check_derivatives(order)
            with self.property("writes the guard allows"):
                self.check_writes()
        else:
            with self.property(f"{self.dtype} values"):
                self.check_values(outputs)
        self.check_unchanged()

    @contextmanager
    def property(
        self, name: str, explain: Callable[[GradcheckError], str | None] | None = None
    ) -> Iterator[None]:
        """Report a failure inside the block as property ``name`` failing on this example;
        reject the example when it sits on a kink. ``explain(error)``, when it says why,
        makes the failure one of broadcasting instead."""
        try:
            yield
        except NotDifferentiableError:
            reject()
        except HypothesisException:  # reject() or assume() inside fn, Hypothesis's own
            raise
        except Exception as error:
            detail = str(error) if isinstance(error, GradcheckError) else (
                f"{type(error).__name__}: {error}")
            why = explain(error) if explain and isinstance(error, GradcheckError) else None
            if why:
                name, detail = "broadcasting", f"{detail}; {why}"
            raise GradcheckError(
                f"check_op: property '{name}' fails at {self.dtype}: {detail}\n"
                f"  on the example {self.describe()}"
            ) from (None if isinstance(error, GradcheckError) else error)

    def describe(self) -> str:
        text = repr(_fill(self.template, self.original()))
        return text if len(text) < 4000 else text[:4000] + " ..."

    def original(self) -> list[Any]:
        """The leaves as drawn: the arrays as they were before any call."""
        restored = list(self.leaves)
        for k, array in self.before:
            leaf = self.leaves[k]
            restored[k] = Tensor(array, requires_grad=leaf.requires_grad, name=leaf.name) if (
                isinstance(leaf, Tensor)) else array
        return restored

    def check_unchanged(self) -> None:
        with self.property("inputs unchanged"):
            for (k, before), (_, now) in zip(self.before, _arrays(self.leaves)):
                if now.shape != before.shape or now.dtype != before.dtype or not np.array_equal(
                    now, before, equal_nan=True
                ):
                    raise GradcheckError(
                        f"fn wrote to its input {k} (shape {before.shape}): an op must never "
                        "change its inputs; compute into a new array"
                    )

    def check_dtypes(self, outputs: Sequence[Tensor]) -> None:
        floating = [a.dtype for _, a in _arrays(self.leaves) if a.dtype.kind == "f"]
        if not floating:
            return
        expected = np.result_type(*floating)
        with self.property("output dtype"):
            for k, out in enumerate(outputs):
                if out.dtype.kind == "f" and out.dtype != expected:
                    raise GradcheckError(
                        f"output {k} is {out.dtype} for {expected} inputs: an op's output "
                        "takes its inputs' dtype"
                    )

    def broadcasting(self, error: GradcheckError) -> str | None:
        """Why reverse mode's ``error`` is a failure of broadcasting, or None where it is not
        one: it concerns an input that broadcasts against the others, and with that input
        repeated to the broadcast shape (where fn gives the same output, as it does when it
        broadcasts like NumPy) reverse mode is right."""
        leaves, k = self.leaves, error.input_index
        try:
            full = np.broadcast_shapes(*(leaves[i].shape for i in self.differentiable))
        except ValueError:
            return None
        if k is None or leaves[k].shape == full:
            return None
        repeated = list(leaves)
        repeated[k] = Tensor(np.broadcast_to(leaves[k].data, full).copy(), requires_grad=True)
        try:
            point = Point(self.call, repeated, DEFAULT_TOLERANCE, "")
            original = as_outputs(self.call(*leaves), "")
            if not all(r.shape == o.shape and _close(r.data, o.data, self.dtype).all()
                       for r, o in zip(point.outputs, original)):
                return None
            point.check_differentiable()
            point.check_reverse()
        except Exception:
            return None
        return (f"with input {k} (shape {leaves[k].shape}) repeated to the broadcast shape "
                f"{full} the gradients are right, so the gradients of its copies are not "
                "summed back to its shape")

    def check_derivatives(self, order: int) -> None:
        """Reverse and forward mode against central differences, then derivatives of the
        derivatives up to ``order``."""
        point = Point(self.call, list(self.leaves), DEFAULT_TOLERANCE, "")
        with self.property("reverse mode", explain=self.broadcasting):
            point.check_differentiable()
            point.check_reverse()
        with self.property("forward mode"):
            point.check_forward()
        for k in range(2, order + 1):
            name = "second derivatives" if k == 2 else f"derivatives of order {k}"
            with self.property(name):
                over_forward = forward_derivative(point)
                point = reverse_derivative(point)
                point.check_quickly()
                over_forward.check_quickly(forward=False)

    def fresh(self) -> list[Any]:
        """The leaves again, on copies of their arrays."""
        return [Tensor(x.data.copy(), requires_grad=x.requires_grad) if isinstance(x, Tensor)
                else x.copy() if isinstance(x, np.ndarray) else x for x in self.leaves]

    def gradients(self, spoil: bool) -> list[np.ndarray]:
        """The gradients of a fixed weighting of the outputs, on fresh inputs; with
        ``spoil``, every input array still writable after forward is overwritten first."""
        leaves = self.fresh()
        outputs = as_outputs(self.call(*leaves), "")
        total = sum((out * np.linspace(-1.0, 2.0, out.size).reshape(out.shape)).sum()
                    for out in outputs if out.requires_grad)
        if spoil:
            for _, array in _arrays(leaves):
                if array.flags.writeable:
                    array[...] = array * -3 + 0.25 if array.dtype.kind == "f" else np.roll(
                        array.copy(), 1)
        if not isinstance(total, Tensor):
            return []
        found = grad(total, [leaves[k] for k in self.differentiable], allow_unused=True)
        return [np.zeros(0) if g is None else g.data for g in found]

    def check_writes(self) -> None:
        for k, spoiled, kept in zip(self.differentiable, self.gradients(spoil=True),
                                    self.gradients(spoil=False)):
            if spoiled.shape != kept.shape or not np.allclose(spoiled, kept, rtol=1e-12,
                                                              atol=1e-12, equal_nan=True):
                raise GradcheckError(
                    f"the gradient of input {k} changed when input arrays the write guard "
                    "left writable were written to between forward and backward: an op "
                    "reads in backward an input its grad_reads says it does not"
                )

    def check_values(self, outputs: Sequence[Tensor]) -> None:
        """At a dtype other than float64: the output, a gradient and a tangent against
        float64 on the same input values (cast up exactly)."""
        wide = [_cast(x, np.dtype(np.float64)) for x in self.leaves]
        low = Point(self.call, list(self.leaves), DEFAULT_TOLERANCE, "")
        high = Point(self.call, wide, DEFAULT_TOLERANCE, "")
        for k, (out, ref) in enumerate(zip(outputs, high.outputs)):
            self._compare(f"output {k}", out.data, ref.data)
        cotangents = high.cotangents()
        for k, g, g_ref in zip(self.differentiable, low.reverse(
                [c.astype(o.dtype) for c, o in zip(cotangents, low.outputs)]),
                high.reverse(cotangents)):
            self._compare(f"the gradient of input {k}", g, g_ref)
        tangents = high.tangents()
        self._compare("the tangent of the output",
                      low.forward([t.astype(self.dtype) for t in tangents]),
                      high.forward(tangents))

    def _compare(self, what: str, actual: np.ndarray, expected: np.ndarray) -> None:
        off = ~_close(actual, expected, self.dtype)
        if off.any():
            index = tuple(int(i) for i in np.argwhere(off)[0]) if np.ndim(off) else ()
            raise GradcheckError(
                f"{what} is {float(np.asarray(actual)[index])!r} at index {index} in "
                f"{self.dtype}, but {float(np.asarray(expected)[index])!r} in float64 on the "
                "same input values"
            )
