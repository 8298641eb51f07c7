"""The examples ``check_op`` runs on for every op of ``graphkit.ops``: one case per op.

Every op class in ``registered_ops("graphkit.ops")`` is either in ``CASES`` (a function
building the ``Case``: the function of the example to check and one strategy per argument)
or in ``NOT_DIFFERENTIABLE`` (why check_op does not apply). tests/testing/test_registry.py
runs check_op on every case and fails naming any op in neither, so a new op arrives with
its case: add one here with ``@case("op_name")``, drawing its inputs with
``gk.testing.strategies`` (away from its kinks, where it has any).

Ops that exist only as the derivative of another (col2im, scatter_add, the pooling and
interpolation adjoints) are checked as that derivative: ``pulled_back(primal)`` (the vjp
of the op they are the backward of) on examples ``adjoint_of`` draws, or
``pushed_forward(primal)`` (its jvp) on examples ``tangent_of`` draws, the cotangent or the
tangent being the input differentiated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphkit import functional as F
from graphkit import ops
from graphkit.backend import axes_of
from graphkit.func import jvp, vjp
from graphkit.graph import no_grad
from graphkit.tensor import Tensor
from graphkit.testing import strategies as gst

__all__ = [
    "CASES",
    "EXAMPLES_PER_OP",
    "NOT_DIFFERENTIABLE",
    "Case",
    "adjoint_of",
    "case",
    "pulled_back",
    "pushed_forward",
    "tangent_of",
]

#: Examples per op in the registry-wide test: the whole registry then takes well under a
#: minute on two cores (docs/benchmarks.md); each op's own tests draw more.
EXAMPLES_PER_OP = 20


@dataclass(frozen=True)
class Case:
    """``check_op(fn, *inputs, order=order, dtypes=dtypes)`` checks the op."""

    fn: Callable[..., Any]
    inputs: tuple[st.SearchStrategy[Any], ...]
    order: int = 2
    dtypes: tuple[str, ...] = ("float64", "float32")


#: Op name -> the function building its case.
CASES: dict[str, Callable[[], Case]] = {}

#: Op name -> why check_op does not check it. Every graphkit op has a derivative today, so
#: this is empty; argmax, argmin and the comparisons return integers and bools without
#: recording an op, so the registry never lists them.
NOT_DIFFERENTIABLE: dict[str, str] = {}


def case(*names: str) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    """Register the decorated function as the case builder of the ops ``names``."""

    def register(build: Callable[[], Case]) -> Callable[[], Case]:
        for name in names:
            if name in CASES:
                raise ValueError(f"op {name!r} already has a case")
            CASES[name] = build
        return build

    return register


# ----- helpers ----------------------------------------------------------------------------


def constant(x: Tensor) -> Tensor:
    """The same values, not differentiated: an input the check holds fixed."""
    return Tensor(x.data, requires_grad=False)


@st.composite
def adjoint_of(draw: Any, primal: Callable[[Any], Tensor], x: st.SearchStrategy[Tensor]):
    """``(x, g)``: a fixed x drawn from ``x``, and a cotangent g of ``primal(x)``'s shape
    (differentiated); the case's function is ``pulled_back(primal)``."""
    fixed = constant(draw(x))
    with no_grad():
        shape = primal(fixed).shape
    return fixed, draw(gst.tensors(shape=shape))


def pulled_back(primal: Callable[[Any], Tensor]) -> Callable[[tuple[Tensor, Tensor]], Tensor]:
    """(x, g) -> the gradient of g · primal at x: the backward of primal, applied to g."""
    return lambda xg: vjp(primal, xg[0])[1](xg[1])[0]


@st.composite
def tangent_of(draw: Any, x: st.SearchStrategy[Tensor]):
    """``(x, dx)``: a fixed x drawn from ``x``, and a tangent of its shape (differentiated);
    the case's function is ``pushed_forward(primal)``."""
    fixed = constant(draw(x))
    return fixed, draw(gst.tensors(shape=fixed.shape))


def pushed_forward(primal: Callable[[Any], Tensor]) -> Callable[[tuple[Tensor, Tensor]], Tensor]:
    """(x, dx) -> J(x) dx: the jvp rule of primal, applied to dx."""
    return lambda xt: jvp(primal, (xt[0],), (xt[1],))[1]


@st.composite
def axes(draw: Any, ndim: int) -> Any:
    """An ``axis`` argument for an array of ``ndim`` axes: None, an int (negative too) or a
    tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                               unique=True)))


@st.composite
def broadcast_tensors(draw: Any, *elements: st.SearchStrategy[float]) -> tuple[Tensor, ...]:
    """One tensor per strategy of ``elements``, of shapes that broadcast together."""
    drawn_shapes = draw(gst.broadcastable_shapes(len(elements)))
    return tuple(draw(gst.tensors(shape=s, elements=e)) for s, e in zip(drawn_shapes, elements))


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


# ----- elementwise ------------------------------------------------------------------------

_UNARY = ("abs", "cos", "elu", "erf", "exp", "expm1", "gelu", "identity", "leaky_relu", "log",
          "log1p", "neg", "relu", "sigmoid", "sign", "silu", "sin", "softplus", "sqrt",
          "square", "step", "tanh")


def _unary(name: str) -> Case:
    return Case(getattr(ops, name), (gst.tensors(elements=gst.elements_for(name)),))


for _name in _UNARY:
    case(_name)(partial(_unary, _name))


@case("clip")
def _clip() -> Case:
    # elements_for("clip") keeps away from -1 and 1, the bounds used here.
    return Case(lambda x: F.clip(x, -1.0, 1.0), (gst.tensors(elements=gst.elements_for("clip")),))


@case("cast")
def _cast() -> Case:
    # A cast to the input's own dtype at each dtype: to another would not keep the dtype.
    return Case(lambda x: ops.cast(x, dtype=x.dtype), (gst.tensors(),))


@case("dropout")
def _dropout() -> Case:
    # A fresh generator of one seed per call: the same mask each time, as checks need.
    return Case(lambda x: F.dropout(x, 0.5, generator=np.random.default_rng(0)),
                (gst.tensors(),))


# ----- arithmetic -------------------------------------------------------------------------


def _binary(op: Callable[[Any, Any], Tensor]) -> Case:
    return Case(lambda ab: op(*ab), (broadcast_tensors(gst.values(), gst.values()),))


for _name in ("add", "sub", "mul"):
    case(_name)(partial(_binary, getattr(ops, _name)))


@case("div")
def _div() -> Case:
    return Case(lambda ab: ab[0] / ab[1],
                (broadcast_tensors(gst.values(), gst.away_from_zero()),))


@case("pow")
def _pow() -> Case:
    return Case(lambda ab: ab[0] ** ab[1],
                (broadcast_tensors(gst.positive(), gst.values(-2.0, 2.0)),))


@case("maximum")
def _maximum() -> Case:
    return Case(lambda ab: F.maximum(*ab), (gst.separated_pairs(),))


@case("minimum")
def _minimum() -> Case:
    return Case(lambda ab: F.minimum(*ab), (gst.separated_pairs(),))


@st.composite
def _where_arguments(draw: Any) -> tuple[np.ndarray, Tensor, Tensor]:
    c, a, b = draw(gst.broadcastable_shapes(3))
    return draw(gst.bool_masks(c)), draw(gst.tensors(shape=a)), draw(gst.tensors(shape=b))


@case("where")
def _where() -> Case:
    return Case(lambda cab: F.where(*cab), (_where_arguments(),))


@st.composite
def _matmul_arguments(draw: Any) -> tuple[Tensor, Tensor]:
    a, b = draw(gst.matmul_shapes())
    return draw(gst.tensors(shape=a)), draw(gst.tensors(shape=b))


@case("matmul")
def _matmul() -> Case:
    return Case(lambda ab: ab[0] @ ab[1], (_matmul_arguments(),))


@st.composite
def _linear_arguments(draw: Any) -> tuple[Tensor, Tensor, Tensor | None]:
    batch = draw(gst.shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return (draw(gst.tensors(shape=(*batch, n_in))), draw(gst.tensors(shape=(n_in, n_out))),
            draw(optional(gst.tensors(shape=(n_out,)))))


@case("linear")
def _linear() -> Case:
    return Case(lambda xwb: F.linear(*xwb), (_linear_arguments(),))


# ----- reductions -------------------------------------------------------------------------


@st.composite
def _reduced(draw: Any, x: Callable[[tuple[int, ...]], st.SearchStrategy[Tensor]] | None = None,
             min_dims: int = 0, at_least: int = 1) -> tuple[Tensor, Any, bool]:
    """``(x, axis, keepdims)``, each slice reduced holding at least ``at_least`` elements."""
    shape = draw(gst.shapes(min_dims=min_dims))
    axis = draw(axes(len(shape)))
    reduced = axes_of(axis, len(shape))
    if int(np.prod([shape[a] for a in reduced])) < at_least:
        grown = reduced[0] if reduced else None
        shape = tuple(n + at_least if k == grown else n for k, n in enumerate(shape)) if (
            grown is not None) else (at_least,)
        axis = axis if grown is not None else None
    tensor = gst.tensors(shape=shape) if x is None else x(shape)
    return draw(tensor), axis, draw(st.booleans())


def _reduction(op: Callable[..., Tensor], distinct: bool = False) -> Case:
    """Reducing with op over drawn axes; with ``distinct``, no ties (max, min)."""
    values = partial(gst.distinct_tensors) if distinct else None
    return Case(lambda xak: op(xak[0], axis=xak[1], keepdims=xak[2]),
                (_reduced(None if values is None else lambda shape: values(shape=shape)),))


for _name in ("sum", "mean", "logsumexp"):
    case(_name)(partial(_reduction, getattr(ops, _name)))


@case("prod")
def _prod() -> Case:
    # Exact zeros take prod's special paths. Elements some 1e16-fold apart in size lose the
    # second derivative's precision (through P / x, as PyTorch's), so none are near 0.
    elements = gst.away_from_zero() | st.just(0.0)
    return Case(lambda xak: ops.prod(xak[0], axis=xak[1], keepdims=xak[2]),
                (_reduced(lambda shape: gst.tensors(shape=shape, elements=elements)),))
for _name in ("max", "min"):
    case(_name)(partial(_reduction, getattr(ops, _name), distinct=True))


@st.composite
def _spread(draw: Any, ddof_max: int = 1) -> tuple[tuple[Tensor, Any, bool], int]:
    """Arguments of var and std: slices of at least two elements whose spread keeps std's
    square root away from 0, and a ddof below each slice's size."""
    ddof = draw(st.integers(0, ddof_max))
    x, axis, keepdims = draw(_reduced(min_dims=1, at_least=2))
    spread = draw(gst.standardizable_tensors(x.shape, axes=axes_of(axis, x.ndim)))
    return (spread, axis, keepdims), ddof


@case("var")
def _var() -> Case:
    return Case(lambda args: ops.var(args[0][0], axis=args[0][1], keepdims=args[0][2],
                                     ddof=args[1]), (_spread(),))


@case("std")
def _std() -> Case:
    return Case(lambda args: ops.std(args[0][0], axis=args[0][1], keepdims=args[0][2],
                                     ddof=args[1]), (_spread(),))


@st.composite
def _along_an_axis(draw: Any) -> tuple[Tensor, int]:
    x = draw(gst.tensors(shape=gst.shapes(min_dims=1)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@case("cumsum")
def _cumsum() -> Case:
    return Case(lambda xa: F.cumsum(*xa), (_along_an_axis(),))


@case("softmax")
def _softmax() -> Case:
    return Case(lambda xa: F.softmax(*xa), (_along_an_axis(),))


@case("log_softmax")
def _log_softmax() -> Case:
    return Case(lambda xa: F.log_softmax(*xa), (_along_an_axis(),))


# ----- losses -----------------------------------------------------------------------------


@st.composite
def _same_shape(draw: Any, a: st.SearchStrategy[float] | None = None,
                b: st.SearchStrategy[float] | None = None) -> tuple[Tensor, Tensor]:
    shape = draw(gst.shapes())
    return draw(gst.tensors(shape=shape, elements=a)), draw(gst.tensors(shape=shape, elements=b))


@st.composite
def _apart(draw: Any, difference: st.SearchStrategy[float]) -> tuple[Tensor, Tensor]:
    """``(y, t)`` of one shape with y - t drawn from ``difference``: away from a loss's kinks."""
    t, d = draw(_same_shape(b=difference))
    return Tensor(t.data + d.data, requires_grad=True), t


@case("mse")
def _mse() -> Case:
    return Case(lambda yt: F.mse(*yt), (_same_shape(),))


@case("mae")
def _mae() -> Case:
    return Case(lambda yt: F.mae(*yt), (_apart(gst.away_from_zero()),))


@case("huber_loss")
def _huber() -> Case:
    # Huber's second derivative jumps where |y - t| = delta (1 here).
    return Case(lambda yt: F.huber_loss(*yt), (_apart(gst.away_from(-1.0, 1.0)),))


@st.composite
def _classified(draw: Any, distributions: bool) -> tuple[Tensor, Any]:
    """``(scores (B, C), target)``: class labels (B,), or with ``distributions`` sometimes
    target distributions (B, C), differentiated too."""
    batch, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    scores = draw(gst.tensors(shape=(batch, classes)))
    if distributions and draw(st.booleans()):
        weights = draw(gst.tensors(shape=(batch, classes), elements=gst.positive()))
        return scores, Tensor(weights.data / weights.data.sum(axis=1, keepdims=True),
                              requires_grad=True)
    return scores, draw(gst.class_labels(batch, classes))


@case("softmax_cross_entropy")
def _softmax_cross_entropy() -> Case:
    return Case(lambda st_: F.softmax_cross_entropy(*st_), (_classified(distributions=True),))


@case("nll_loss")
def _nll_loss() -> Case:
    return Case(lambda st_: F.nll_loss(*st_), (_classified(distributions=False),))


@case("binary_cross_entropy")
def _binary_cross_entropy() -> Case:
    return Case(lambda pt: F.binary_cross_entropy(*pt),
                (_same_shape(gst.probabilities(), gst.values(0.0, 1.0)),))


@case("binary_cross_entropy_with_logits")
def _binary_cross_entropy_with_logits() -> Case:
    return Case(lambda zt: F.binary_cross_entropy_with_logits(*zt),
                (_same_shape(b=gst.values(0.0, 1.0)),))


# ----- shapes -----------------------------------------------------------------------------


@st.composite
def _reshaped(draw: Any) -> tuple[Tensor, tuple[int, ...]]:
    x = draw(gst.tensors())
    forms = [(-1,), x.shape[::-1], (*x.shape, 1), (1, *x.shape)]
    return x, draw(st.sampled_from(forms))


@case("reshape")
def _reshape() -> Case:
    return Case(lambda xs: ops.reshape(xs[0], shape=xs[1]), (_reshaped(),))


@st.composite
def _permuted(draw: Any) -> tuple[Tensor, Any]:
    x = draw(gst.tensors())
    return x, draw(st.none() | st.permutations(range(x.ndim)).map(tuple))


@case("transpose")
def _transpose() -> Case:
    return Case(lambda xp: ops.transpose(xp[0], axes=xp[1]), (_permuted(),))


@st.composite
def _broadcast_target(draw: Any) -> tuple[Tensor, tuple[int, ...]]:
    small, other = draw(gst.broadcastable_shapes(2))
    return draw(gst.tensors(shape=small)), np.broadcast_shapes(small, other)


@case("broadcast_to")
def _broadcast_to() -> Case:
    return Case(lambda xs: F.broadcast_to(*xs), (_broadcast_target(),))


@st.composite
def _indexed(draw: Any) -> tuple[Tensor, Any]:
    """``(x, index)``: basic indices (ints, slices, ..., None) or integer arrays, repeats
    included."""
    x = draw(gst.tensors(shape=gst.shapes(min_dims=1)))
    basic = hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True)
    integers = hnp.integer_array_indices(x.shape)
    return x, draw(basic | integers)


def _index(args: tuple) -> Callable[[Any], Tensor]:
    return lambda x: x[args[1]]


@st.composite
def _same_shapes(draw: Any) -> tuple[list[Tensor], int]:
    shape = draw(gst.shapes(max_dims=2))
    count = draw(st.integers(1, 3))
    return ([draw(gst.tensors(shape=shape)) for _ in range(count)],
            draw(st.integers(-len(shape) - 1, len(shape))))


@case("stack")
def _stack() -> Case:
    return Case(lambda xa: F.stack(*xa), (_same_shapes(),))


@st.composite
def _joinable(draw: Any) -> tuple[list[Tensor], int]:
    drawn_shapes, axis = draw(gst.concatenate_shapes())
    return [draw(gst.tensors(shape=s)) for s in drawn_shapes], axis


@case("concatenate")
def _concatenate() -> Case:
    return Case(lambda xa: F.concatenate(*xa), (_joinable(),))


@st.composite
def _padded(draw: Any) -> tuple[Tensor, Any, float]:
    x = draw(gst.tensors())
    return x, draw(gst.pad_widths(x.ndim)), draw(gst.values())


@case("pad")
def _pad() -> Case:
    return Case(lambda xpv: F.pad(*xpv), (_padded(),))


@st.composite
def _flipped(draw: Any) -> tuple[Tensor, Any]:
    x = draw(gst.tensors())
    return x, draw(axes(x.ndim))


@case("flip")
def _flip() -> Case:
    return Case(lambda xa: F.flip(*xa), (_flipped(),))


@case("tile")
def _tile() -> Case:
    return Case(lambda xr: F.tile(*xr), (st.tuples(gst.tensors(shape=gst.shapes(max_dims=2)),
                                                  gst.tile_reps()),))


# ----- windows: convolutions, pooling, interpolation -------------------------------------


@st.composite
def _convolved(draw: Any) -> tuple[Tensor, Tensor, Tensor | None, Any, Any]:
    x_shape, kernel, stride, pad = draw(gst.window_geometries())
    channels = draw(st.integers(1, 2))
    W = draw(gst.tensors(shape=(channels, x_shape[1], *kernel)))
    b = draw(optional(gst.tensors(shape=(channels,))))
    return draw(gst.tensors(shape=x_shape)), W, b, stride, pad


@case("conv2d")
def _conv2d() -> Case:
    return Case(lambda args: F.conv2d(*args), (_convolved(),))


@st.composite
def _transposed_convolved(draw: Any) -> tuple[Tensor, Tensor, Tensor | None, Any, Any]:
    x_shape, w_shape, stride, pad = draw(gst.conv_transpose_geometries())
    b = draw(optional(gst.tensors(shape=(w_shape[1],))))
    return draw(gst.tensors(shape=x_shape)), draw(gst.tensors(shape=w_shape)), b, stride, pad


@case("conv_transpose2d")
def _conv_transpose2d() -> Case:
    return Case(lambda args: F.conv_transpose2d(*args), (_transposed_convolved(),))


def _windows(pool: bool, distinct: bool = False) -> st.SearchStrategy[tuple]:
    """``(x, kernel, stride, pad)``; with ``distinct``, no two values of x tie."""

    def images(geometry: tuple) -> st.SearchStrategy[tuple]:
        shape, kernel, stride, pad = geometry
        x = gst.distinct_tensors(shape=shape) if distinct else gst.tensors(shape=shape)
        return st.tuples(x, st.just(kernel), st.just(stride), st.just(pad))

    return gst.window_geometries(pool=pool).flatmap(images)


def _max_pool(args: tuple) -> Callable[[Any], Tensor]:
    return lambda x: F.max_pool2d(x, *args[1:])


def _avg_pool(args: tuple) -> Callable[[Any], Tensor]:
    return lambda x: F.avg_pool2d(x, *args[1:])


def _im2col(args: tuple) -> Callable[[Any], Tensor]:
    return lambda x: ops.im2col(x, *args[1:])


def _interpolate(args: tuple) -> Callable[[Any], Tensor]:
    return lambda x: F.interpolate(x, *args[1:])


@st.composite
def _interpolated(draw: Any) -> tuple[Tensor, Any, str]:
    shape, scale, mode = draw(gst.interpolate_cases())
    return draw(gst.tensors(shape=shape)), scale, mode


def _primal_case(primal: Callable[[tuple], Callable[[Any], Tensor]],
                 examples: Callable[[], st.SearchStrategy[tuple]]) -> Case:
    """The case of ``primal(args)(x)`` on examples ``args`` = (x, the op's arguments...)."""
    return Case(lambda args: primal(args)(args[0]), (examples(),))


_PRIMALS: tuple = (
    # name, the op as a function of x given the example, the examples
    ("get_item", _index, _indexed),
    ("max_pool2d", _max_pool, partial(_windows, pool=True, distinct=True)),
    ("avg_pool2d", _avg_pool, partial(_windows, pool=True)),
    ("im2col", _im2col, partial(_windows, pool=False)),
    ("interpolate", _interpolate, _interpolated),
)
for _name, _primal, _examples in _PRIMALS:
    case(_name)(partial(_primal_case, _primal, _examples))


def _derivative_case(primal: Callable[[tuple], Callable[[Any], Tensor]],
                     examples: Callable[[], st.SearchStrategy[tuple]], adjoint: bool) -> Case:
    """The case of an op that is ``primal``'s backward (``adjoint``) or jvp rule."""

    def with_derivative(args: tuple) -> st.SearchStrategy[tuple]:
        x = st.just(args[0])
        drawn = adjoint_of(primal(args), x) if adjoint else tangent_of(x)
        return st.tuples(drawn, st.just(args))

    def fn(example: tuple) -> Tensor:
        derivative = pulled_back if adjoint else pushed_forward
        return derivative(primal(example[1]))(example[0])

    return Case(fn, (examples().flatmap(with_derivative),))


_DERIVATIVES: tuple = (
    # name, the primal op, its examples, whether the op is its backward (else its jvp)
    ("scatter_add", _index, _indexed, True),
    ("scatter_to_argmax", _max_pool, partial(_windows, pool=True), True),
    ("gather_at_argmax", _max_pool, partial(_windows, pool=True), False),
    ("spread_over_windows", _avg_pool, partial(_windows, pool=True), True),
    ("col2im", _im2col, partial(_windows, pool=False), True),
    ("interpolate_adjoint", _interpolate, _interpolated, True),
)
for _name, _primal, _examples, _adjoint in _DERIVATIVES:
    case(_name)(partial(_derivative_case, _primal, _examples, _adjoint))


# ----- normalisation, embedding, einsum ---------------------------------------------------


@st.composite
def _batch_normalized(draw: Any) -> tuple:
    shape = draw(gst.batch_norm_shapes())
    channels = shape[1]
    training = draw(st.booleans())
    # In training the statistics are of x itself, so x needs spread over each channel; the
    # running statistics would be updated in place, so none are passed there.
    x = draw(gst.standardizable_tensors(shape, axes=(0, *range(2, len(shape)))) if training
             else gst.tensors(shape=shape))
    mean = var = None
    if not training:
        mean = draw(hnp.arrays(np.float64, (channels,), elements=gst.values()))
        var = draw(hnp.arrays(np.float64, (channels,), elements=gst.positive(0.5, 2.0)))
    weight = draw(optional(gst.tensors(shape=(channels,))))
    bias = draw(optional(gst.tensors(shape=(channels,))))
    return x, mean, var, weight, bias, training


@case("batch_norm")
def _batch_norm() -> Case:
    return Case(lambda args: F.batch_norm(*args), (_batch_normalized(),))


@st.composite
def _layer_normalized(draw: Any) -> tuple:
    shape, normalized = draw(gst.layer_norm_shapes())
    axes_normalized = tuple(range(len(shape) - len(normalized), len(shape)))
    x = draw(gst.standardizable_tensors(shape, axes=axes_normalized))
    weight = draw(optional(gst.tensors(shape=normalized)))
    bias = draw(optional(gst.tensors(shape=normalized)))
    return x, normalized, weight, bias


@case("layer_norm")
def _layer_norm() -> Case:
    return Case(lambda args: F.layer_norm(*args), (_layer_normalized(),))


@st.composite
def _embedded(draw: Any) -> tuple[np.ndarray, Tensor]:
    num, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return draw(gst.embedding_indices(num)), draw(gst.tensors(shape=(num, dim)))


@case("embedding")
def _embedding() -> Case:
    return Case(lambda iw: F.embedding(*iw), (_embedded(),))


@st.composite
def _einsum_arguments(draw: Any) -> tuple[str, list[Tensor]]:
    subscripts, drawn_shapes = draw(gst.einsum_cases())
    return subscripts, [draw(gst.tensors(shape=s)) for s in drawn_shapes]


@case("einsum")
def _einsum() -> Case:
    return Case(lambda so: F.einsum(so[0], *so[1]), (_einsum_arguments(),))
