"""Hypothesis strategies that draw shapes and well-conditioned tensors for gradient tests.

Central differences need inputs away from an op's kinks and poles: positive values for
``log`` and ``sqrt``, values away from 0 for ``relu``, ``abs`` and divisors, and no ties
for ``max``. ``elements_for(op)`` knows which op needs what::

    from hypothesis import given
    from graphkit.testing import gradcheck, strategies as gst

    @given(gst.tensors(elements=gst.elements_for("log")))
    def test_log(x):
        assert gradcheck(lambda t: t.log(), [x])
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphkit.tensor import Tensor

__all__ = [
    "attention_masks",
    "attention_shapes",
    "away_from",
    "away_from_zero",
    "batch_norm_shapes",
    "bool_masks",
    "broadcastable_shapes",
    "class_labels",
    "concatenate_shapes",
    "conv_transpose_geometries",
    "distinct_tensors",
    "einsum_cases",
    "elements_for",
    "embedding_indices",
    "interpolate_cases",
    "layer_norm_shapes",
    "matmul_shapes",
    "on_grid",
    "pad_widths",
    "positive",
    "probabilities",
    "separated_pairs",
    "shapes",
    "split_arguments",
    "standardizable_tensors",
    "take_along_axis_indices",
    "tensors",
    "tile_reps",
    "values",
    "window_geometries",
]


def values(min_value: float = -3.0, max_value: float = 3.0) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value], subnormals excluded (a CPU that flushes
    them to zero would turn a drawn value into another)."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False, width=64)


def positive(min_value: float = 0.1, max_value: float = 5.0) -> st.SearchStrategy[float]:
    """Floats bounded away from 0 from above: inputs for log, sqrt, pow's base."""
    return values(min_value, max_value)


def away_from_zero(gap: float = 0.1, bound: float = 3.0) -> st.SearchStrategy[float]:
    """Floats with |x| >= gap: inputs for relu, abs, step and divisors."""
    return values(gap, bound) | values(-bound, -gap)


def away_from(*points: float, gap: float = 0.1, bound: float = 3.0) -> st.SearchStrategy[float]:
    """Floats in [-bound, bound] at least ``gap`` from each of ``points``: inputs for clip
    away from its bounds, Huber differences away from ±delta."""
    return values(-bound, bound).filter(lambda v: all(abs(v - p) >= gap for p in points))


def probabilities(gap: float = 0.05) -> st.SearchStrategy[float]:
    """Floats in [gap, 1 - gap]: the predictions of binary_cross_entropy."""
    return values(gap, 1.0 - gap)


def on_grid(step: float = 0.2, offset: float = 0.0, bound: float = 3.0) -> st.SearchStrategy[float]:
    """Multiples of ``step`` plus ``offset`` in about [-bound, bound]: two grids offset by
    half a step never tie (maximum, minimum)."""
    count = int(bound / step)
    return st.integers(-count, count).map(lambda k: k * step + offset)


_ELEMENTS: dict[str, Callable[[], st.SearchStrategy[float]]] = {
    "log": positive,
    "sqrt": positive,
    "pow": positive,
    "div": away_from_zero,
    "relu": away_from_zero,
    "abs": away_from_zero,
    "step": away_from_zero,
    "mae": away_from_zero,
    "leaky_relu": away_from_zero,
    "elu": away_from_zero,
    "sign": away_from_zero,
    "log1p": partial(values, -0.9, 3.0),
    "clip": partial(away_from, -1.0, 1.0),  # for the bounds the tests use, -1 and 1
    "binary_cross_entropy": probabilities,
    # Zeros, but no tiny elements: prod's second derivatives go through P / x, which loses
    # all precision where one element is some 1e16 times smaller than another.
    "prod": lambda: away_from_zero() | st.just(0.0),
}


def elements_for(op: str) -> st.SearchStrategy[float]:
    """Element values that keep central differences accurate for ``op`` (by op name)."""
    return _ELEMENTS.get(op, values)()


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, scalars (``()``) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``num_shapes`` shapes that NumPy broadcasts together (size-1 and missing axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda drawn: drawn.input_shapes)


@st.composite
def matmul_shapes(draw: Any, max_batch_dims: int = 2, max_side: int = 4) -> tuple:
    """Shapes ``(a, b)`` that ``a @ b`` accepts: 1-D, 2-D and broadcast batches."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, 0, max_batch_dims, 3))
    a = (k,) if draw(st.booleans()) and not batch_a else (*batch_a, n, k)
    b = (k,) if draw(st.booleans()) and not batch_b else (*batch_b, k, m)
    return a, b


def _draw_shape(draw: Any, shape: Any) -> tuple[int, ...]:
    """``shape`` itself, or one drawn from it when it is a strategy (default: ``shapes()``)."""
    if shape is None:
        shape = shapes()
    return draw(shape) if isinstance(shape, st.SearchStrategy) else shape


@st.composite
def tensors(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    elements: st.SearchStrategy[float] | None = None,
    dtype: Any = np.float64,
    requires_grad: bool = True,
) -> Tensor:
    """A Tensor of the given (or a drawn) shape whose elements come from ``elements``."""
    shape = _draw_shape(draw, shape)
    elements = values() if elements is None else elements
    if np.dtype(dtype) != np.float64:
        # Round each draw to the dtype, so that a float32 array holds exactly what was drawn.
        elements = elements.map(lambda value: float(np.dtype(dtype).type(value)))
    data = draw(hnp.arrays(dtype, shape, elements=elements))
    return Tensor(data, requires_grad=requires_grad)


@st.composite
def distinct_tensors(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    gap: float = 0.01,
    requires_grad: bool = True,
) -> Tensor:
    """A Tensor whose elements differ pairwise by at least ``gap``: no ties for max."""
    shape = _draw_shape(draw, shape)
    size = int(np.prod(shape))
    steps = draw(st.permutations(range(size)))
    offset = draw(values(-1.0, 1.0))
    data = (np.asarray(steps, dtype=np.float64) * gap * 10 + offset).reshape(shape)
    return Tensor(data, requires_grad=requires_grad)


# ----- sliding windows (im2col, conv2d, conv_transpose2d, pooling) and interpolate -------
@st.composite
def window_geometries(
    draw: Any, max_kernel: int = 3, max_stride: int = 2, max_pad: int = 2, max_side: int = 5,
    pool: bool = False,
) -> tuple:
    """``(input_shape, kernel, stride, pad)`` of a window sweep over (B, C, H, W) inputs
    with at least one window, kernels, strides and pads often rectangular; with ``pool``
    the pad is at most half the kernel, as pooling requires."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    limits = [min(max_pad, k // 2) if pool else max_pad for k in kernel]
    pad = (draw(st.integers(0, limits[0])), draw(st.integers(0, limits[1])))
    h = draw(st.integers(max(1, kernel[0] - 2 * pad[0]), max(max_side, kernel[0])))
    w = draw(st.integers(max(1, kernel[1] - 2 * pad[1]), max(max_side, kernel[1])))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w), kernel, stride, pad


@st.composite
def conv_transpose_geometries(
    draw: Any, max_kernel: int = 3, max_stride: int = 2, max_pad: int = 2, max_side: int = 4
) -> tuple:
    """``(x_shape, W_shape, stride, pad)`` for conv_transpose2d: x (B, C_in, H, W) and
    W (C_in, C_out, KH, KW) with an output of at least one pixel each way,
    (H - 1) * stride - 2 * pad + KH >= 1."""
    batch, c_in, c_out = (draw(st.integers(1, 2)) for _ in range(3))
    sides = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    pad = tuple(draw(st.integers(0, min(max_pad, ((n - 1) * s + k - 1) // 2)))
                for n, k, s in zip(sides, kernel, stride))
    return (batch, c_in, *sides), (c_in, c_out, *kernel), stride, pad


@st.composite
def interpolate_cases(draw: Any, max_side: int = 4) -> tuple:
    """``(shape, scale_factor, mode)`` for interpolate on (B, C, H, W): whole and
    fractional scale factors, below 1 too, one for both axes or an (h, w) pair, each
    leaving at least one pixel."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
             draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))

    def factor(side: int) -> st.SearchStrategy[float]:
        fractional = st.floats(1.0 / side + 0.01, 3.0, allow_nan=False, allow_infinity=False)
        return st.sampled_from([1, 2, 3, 0.5 if side >= 2 else 1.5]) | fractional

    if draw(st.booleans()):
        scale: Any = draw(factor(min(shape[2:])))
    else:
        scale = (draw(factor(shape[2])), draw(factor(shape[3])))
    return shape, scale, draw(st.sampled_from(["nearest", "bilinear"]))


# ----- arguments of maximum, minimum, where and the classification losses ---------------


@st.composite
def separated_pairs(
    draw: Any, shapes: st.SearchStrategy[tuple[tuple[int, ...], ...]] | None = None,
    gap: float = 0.1,
) -> tuple[Tensor, Tensor]:
    """Tensors ``(a, b)`` of broadcastable shapes whose elements differ by at least ``gap``
    wherever they meet: no ties for maximum and minimum."""
    shape_a, shape_b = draw(broadcastable_shapes(2) if shapes is None else shapes)
    a = draw(tensors(shape=shape_a, elements=on_grid(2 * gap)))
    b = draw(tensors(shape=shape_b, elements=on_grid(2 * gap, offset=gap)))
    return a, b


def bool_masks(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Bool arrays of ``shape``: conditions for where."""
    return hnp.arrays(np.bool_, shape)


def class_labels(batch: int, classes: int) -> st.SearchStrategy[np.ndarray]:
    """Integer class indices (batch,) in [0, classes): targets for nll_loss and
    softmax_cross_entropy."""
    return hnp.arrays(np.intp, (batch,), elements=st.integers(0, classes - 1))


# ----- arguments of the shape ops and einsum ----------------------------------------------


@st.composite
def concatenate_shapes(
    draw: Any, max_inputs: int = 3, max_dims: int = 3, max_side: int = 3
) -> tuple[tuple[tuple[int, ...], ...], int]:
    """``(shapes, axis)``: shapes that agree on every axis but ``axis`` (negative axes
    too), for ``concatenate``."""
    base = draw(shapes(min_dims=1, max_dims=max_dims, max_side=max_side))
    axis = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(1, max_inputs))
    lengths = draw(st.lists(st.integers(1, max_side), min_size=count, max_size=count))
    along = axis % len(base)
    return tuple((*base[:along], n, *base[along + 1:]) for n in lengths), axis


@st.composite
def split_arguments(
    draw: Any, max_dims: int = 3, max_side: int = 6
) -> tuple[tuple[int, ...], int | list[int], int]:
    """``(shape, sections_or_indices, axis)`` that ``split`` accepts: a number of sections
    that divides the axis, or indices in order (some past the end, as NumPy allows)."""
    shape = draw(shapes(min_dims=1, max_dims=max_dims, max_side=max_side))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    if draw(st.booleans()):
        sections = draw(st.sampled_from([k for k in range(1, length + 1) if length % k == 0]))
        return shape, sections, axis
    indices = draw(st.lists(st.integers(0, length + 1), max_size=3))
    return shape, sorted(indices), axis


def pad_widths(ndim: int, max_width: int = 2) -> st.SearchStrategy[Any]:
    """Every form of NumPy's ``pad_width`` for ``ndim`` axes: an int, a ``(before, after)``
    pair, a list of one pair, and one pair per axis."""
    width = st.integers(0, max_width)
    pair = st.tuples(width, width)
    forms = [width, pair, pair.map(lambda p: [p])]
    if ndim:  # NumPy refuses an empty pad_width
        forms.append(st.lists(pair, min_size=ndim, max_size=ndim).map(tuple))
    return st.one_of(forms)


def tile_reps(max_len: int = 3, max_rep: int = 3) -> st.SearchStrategy[Any]:
    """``reps`` for ``tile``: an int, or a tuple shorter, as long as or longer than x's rank."""
    rep = st.integers(1, max_rep)
    return rep | st.lists(rep, max_size=max_len).map(tuple)


@st.composite
def take_along_axis_indices(
    draw: Any, shape: tuple[int, ...], max_picks: int = 4
) -> tuple[np.ndarray, int]:
    """``(indices, axis)`` for ``take_along_axis`` on an x of ``shape`` (rank >= 1): any
    number of picks along ``axis``, repeats and negative indices included, and length-1
    axes elsewhere that broadcast."""
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    along = axis % len(shape)
    length = shape[along]
    index_shape = tuple(
        draw(st.integers(1, max_picks)) if k == along else draw(st.sampled_from([1, n]))
        for k, n in enumerate(shape)
    )
    indices = draw(hnp.arrays(np.intp, index_shape, elements=st.integers(-length, length - 1)))
    return indices, axis


@st.composite
def einsum_cases(
    draw: Any, max_operands: int = 3, max_letters: int = 3, max_side: int = 3
) -> tuple[str, tuple[tuple[int, ...], ...]]:
    """``(subscripts, shapes)`` that ``numpy.einsum`` accepts: one to ``max_operands``
    terms, repeated letters within a term (diagonals, traces), letters summed away in one
    operand only, upper-case letters, ``...`` with broadcast batch axes, and both the
    explicit (``->``) and the implicit form."""
    pool = "abcdB"
    size = {letter: draw(st.integers(1, max_side)) for letter in pool}
    count = draw(st.integers(1, max_operands))
    terms = [draw(st.lists(st.sampled_from(pool), max_size=max_letters)) for _ in range(count)]
    with_ellipsis = draw(st.booleans())
    batches = (draw(broadcastable_shapes(count, max_dims=2, max_side=max_side))
               if with_ellipsis else ((),) * count)
    texts, arrays = [], []
    for k, (term, batch) in enumerate(zip(terms, batches)):
        sides = tuple(size[letter] for letter in term)
        # An operand with batch axes needs '...'; the first one takes it so that some does.
        if with_ellipsis and (batch or k == 0 or draw(st.booleans())):
            at = draw(st.integers(0, len(term)))
            texts.append("".join(term[:at]) + "..." + "".join(term[at:]))
            arrays.append(sides[:at] + batch + sides[at:])
        else:
            texts.append("".join(term))
            arrays.append(sides)
    subscripts = ",".join(texts)
    if draw(st.booleans()):
        letters = sorted({letter for term in terms for letter in term})
        output = draw(st.lists(st.sampled_from(letters), unique=True) if letters else st.just([]))
        if with_ellipsis:
            output.insert(draw(st.integers(0, len(output))), "...")
        subscripts += "->" + "".join(output)
    return subscripts, tuple(arrays)


# ----- arguments of the normalisation, embedding and attention ops ------------------------


@st.composite
def batch_norm_shapes(draw: Any, max_side: int = 3) -> tuple[int, ...]:
    """Shapes batch_norm takes in training: (B, C), (B, C, L) or (B, C, H, W), with at
    least two values per channel."""
    ndim = draw(st.integers(2, 4))
    shape = tuple(draw(st.integers(1, max_side)) for _ in range(ndim))
    if shape[0] * int(np.prod(shape[2:])) < 2:
        shape = (shape[0] + 1, *shape[1:])
    return shape


@st.composite
def layer_norm_shapes(draw: Any, max_dims: int = 3, max_side: int = 4) -> tuple:
    """``(shape, normalized_shape)``: the last axes of ``shape``, at least two values."""
    shape = draw(shapes(min_dims=1, max_dims=max_dims, max_side=max_side))
    count = draw(st.integers(1, len(shape)))
    if int(np.prod(shape[-count:])) < 2:
        shape = (*shape[:-1], shape[-1] + 1)
    return shape, shape[-count:]


@st.composite
def standardizable_tensors(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    axes: tuple[int, ...],
    min_std: float = 0.5,
    requires_grad: bool = True,
) -> Tensor:
    """A Tensor whose every slice over ``axes`` has a standard deviation in [min_std, 2]
    and a mean in [-2, 2]: inputs for batch_norm and layer_norm, whose derivatives grow as
    1 / std, so that a flat slice would defeat central differences. Each slice needs at
    least two elements."""
    shape = _draw_shape(draw, shape)
    data = draw(hnp.arrays(np.float64, shape, elements=values()))
    axes = tuple(a % len(shape) for a in axes)
    ends = tuple(range(len(shape) - len(axes), len(shape)))
    rows = np.moveaxis(data, axes, ends)
    moved_shape = rows.shape
    rows = rows.reshape(-1, int(np.prod([shape[a] for a in axes])))
    centered = rows - rows.mean(axis=1, keepdims=True)
    std = centered.std(axis=1, keepdims=True)
    # A (nearly) flat slice, Hypothesis's favourite, is replaced by an even ramp.
    ramp = np.linspace(-1.0, 1.0, rows.shape[1])
    unit = np.where(std > 1e-3, centered / np.maximum(std, 1e-3), ramp / ramp.std())
    scale = draw(hnp.arrays(np.float64, (len(rows), 1), elements=values(min_std, 2.0)))
    offset = draw(hnp.arrays(np.float64, (len(rows), 1), elements=values(-2.0, 2.0)))
    standardized = (offset + scale * unit).reshape(moved_shape)
    standardized = np.ascontiguousarray(np.moveaxis(standardized, ends, axes))
    return Tensor(standardized, requires_grad=requires_grad)


@st.composite
def attention_shapes(draw: Any, max_batch_dims: int = 2, max_side: int = 3) -> tuple:
    """``(q, k, v)`` shapes (..., L, d), (..., S, d), (..., S, dv) with broadcast batches."""
    length, keys, depth, value_depth = (draw(st.integers(1, max_side)) for _ in range(4))
    batch_q, batch_kv = draw(broadcastable_shapes(2, 0, max_batch_dims, max_side))
    return (*batch_q, length, depth), (*batch_kv, keys, depth), (*batch_kv, keys, value_depth)


@st.composite
def attention_masks(draw: Any, scores_shape: tuple[int, ...]) -> np.ndarray:
    """A bool mask of ``scores_shape`` (..., L, S) that lets every query attend to some key."""
    mask = draw(hnp.arrays(np.bool_, scores_shape))
    keys = draw(hnp.arrays(np.intp, scores_shape[:-1],
                           elements=st.integers(0, scores_shape[-1] - 1)))
    np.put_along_axis(mask, keys[..., None], True, axis=-1)
    return mask


def embedding_indices(num: int, max_dims: int = 2, max_side: int = 4) -> Any:
    """Integer index arrays into a table of ``num`` rows, of any shape (repeats included)."""
    return hnp.arrays(np.intp, shapes(min_dims=0, max_dims=max_dims, max_side=max_side),
                      elements=st.integers(0, num - 1))
