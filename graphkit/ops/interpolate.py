"""Resizing images by a scale factor: nearest-neighbour and bilinear interpolation, as
PyTorch's ``interpolate`` computes them (bilinear with ``align_corners=False``).

Both are separable and linear in x: each output row is a weighted sum of at most two
input rows, and each output column likewise of input columns. A ``Resampling`` holds,
for one axis, the input index and the weight of each output position's source pixels
("taps"), computed once from the sizes by PyTorch's formulas. ``Interpolate`` gathers
along H and then W; ``InterpolateAdjoint``, its backward, adds each output value back
onto its source pixels, along W and then H, and has ``Interpolate`` as its own backward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphkit.backend import ndarray, xp
from graphkit.graph import Op

MODES = ("nearest", "bilinear")


@dataclass(frozen=True, eq=False)
class Resampling:
    """One axis resampled from ``in_size`` to ``out_size`` positions: output position o
    is the sum over ``taps`` of weight[o] * input[index[o]] (a weight of None is 1).

    Each tap's indices never decrease along the output, so the output positions that
    read one input pixel lie side by side: ``starts`` marks where each such run begins
    and ``targets`` is the pixel it reads, which lets the adjoint add a run with one
    ``add.reduceat``.
    """

    in_size: int
    out_size: int
    taps: tuple[tuple[ndarray, ndarray | None], ...]
    starts: tuple[ndarray, ...]
    targets: tuple[ndarray, ...]

    @classmethod
    def of(cls, in_size: int, taps: list[tuple[ndarray, ndarray | None]]) -> Resampling:
        starts = [xp.flatnonzero(xp.r_[True, index[1:] != index[:-1]]) for index, _ in taps]
        return cls(in_size, len(taps[0][0]), tuple(taps), tuple(starts),
                   tuple(index[s] for (index, _), s in zip(taps, starts)))

    def apply(self, x: ndarray, axis: int) -> ndarray:
        """x resampled along ``axis`` (of length ``in_size``) to ``out_size``; weighted
        taps come out in floats (of x's precision, float64 for integers)."""
        out = None
        real = np.result_type(x.dtype, 1.0)
        for index, weight in self.taps:
            term = xp.take(x, index, axis=axis)
            if weight is not None:
                term = term * _along(weight.astype(real, copy=False), axis, x.ndim)
            if out is None:
                out = term
            else:
                out += term
        assert out is not None  # a resampling has at least one tap
        return out

    def adjoint(self, g: ndarray, axis: int) -> ndarray:
        """The transpose of ``apply``: g (``out_size`` along ``axis``) -> ``in_size``."""
        shape = list(g.shape)
        shape[axis] = self.in_size
        real = np.result_type(g.dtype, 1.0)
        out = xp.zeros(shape, real)
        into = (slice(None),) * axis
        for (_, weight), starts, targets in zip(self.taps, self.starts, self.targets):
            share = g if weight is None else g * _along(weight.astype(real, copy=False),
                                                        axis, g.ndim)
            index: tuple[Any, ...] = (*into, targets)
            out[index] += xp.add.reduceat(share, starts, axis=axis)
        return out


def _along(weight: ndarray, axis: int, ndim: int) -> ndarray:
    """A 1-D weight shaped to broadcast along ``axis`` of an ``ndim``-D array."""
    return weight.reshape((-1,) + (1,) * (ndim - 1 - axis))


def nearest(in_size: int, out_size: int, scale: float) -> Resampling:
    """PyTorch's "nearest": source index floor(o / scale), computed in float32 as its
    kernel does, except that it copies when the size is kept and halves the index when it
    doubles."""
    positions = xp.arange(out_size)
    if out_size == in_size:
        index = positions
    elif out_size == 2 * in_size:
        index = positions >> 1
    else:
        ratio = np.float32(1.0 / scale)
        index = xp.floor(positions.astype(np.float32) * ratio).astype(xp.intp)
        index = xp.minimum(index, in_size - 1)
    return Resampling.of(in_size, [(index, None)])


def bilinear(in_size: int, out_size: int, scale: float, dtype: Any) -> Resampling:
    """PyTorch's linear interpolation with align_corners=False along one axis: output
    position o reads the input at (o + 0.5) / scale - 0.5 (clamped at 0), weighting its
    two neighbours by distance; computed in ``dtype`` (float32 for float32 images, as
    PyTorch's kernel). A kept size is a copy."""
    positions = xp.arange(out_size)
    if out_size == in_size:
        return Resampling.of(in_size, [(positions, None)])
    real = np.float32 if np.dtype(dtype) == np.float32 else np.float64
    ratio = real(1.0 / scale)
    centres = (positions + 0.5).astype(real)  # exact: whole numbers and halves
    source = xp.maximum(xp.multiply(centres, ratio) - real(0.5), real(0))
    lower = xp.minimum(xp.floor(source).astype(xp.intp), in_size - 1)
    upper = lower + (lower < in_size - 1)
    upper_weight = xp.clip(source - lower.astype(real), 0, 1)
    return Resampling.of(in_size, [(lower, 1 - upper_weight), (upper, upper_weight)])


class Interpolate(Op):
    """x (B, C, H, W) -> (B, C, OH, OW), each axis resampled as ``resampling`` (rows,
    columns) says; ``mode`` and ``scale_factor`` are for graph drawings."""

    __slots__ = ("mode", "resampling", "scale_factor")

    def __init__(self, resampling: tuple[Resampling, Resampling], mode: str,
                 scale_factor: tuple[float, float]):
        self.resampling = resampling
        self.mode = mode
        self.scale_factor = scale_factor

    def forward(self, x):
        rows, columns = self.resampling
        return columns.apply(rows.apply(x, axis=2), axis=3)

    def backward(self, gy, y, x):
        return InterpolateAdjoint.apply(gy, **self._arguments())

    def jvp(self, dxs, y, x):
        return Interpolate.apply(dxs[0], **self._arguments())

    def _arguments(self) -> dict[str, Any]:
        return {"resampling": self.resampling, "mode": self.mode,
                "scale_factor": self.scale_factor}

    def params(self) -> dict[str, Any]:
        """What graph drawings show: the mode and the scale, not the index tables."""
        return {"mode": self.mode, "scale_factor": self.scale_factor}


class InterpolateAdjoint(Interpolate):
    """g (B, C, OH, OW) -> (B, C, H, W): each value of g added, with its weight, onto the
    input pixels ``Interpolate`` read it from. The backward of ``Interpolate``, and its
    adjoint; the same arguments."""

    __slots__ = ()

    def forward(self, g):
        rows, columns = self.resampling
        return rows.adjoint(columns.adjoint(g, axis=3), axis=2)

    def backward(self, gy, y, g):
        return Interpolate.apply(gy, **self._arguments())

    def jvp(self, dxs, y, g):
        return InterpolateAdjoint.apply(dxs[0], **self._arguments())


def interpolate(x: Any, scale_factor: float | tuple[float, float], mode: str = "nearest") -> Any:
    """x (B, C, H, W) resized to (B, C, floor(H * scale), floor(W * scale)) by ``mode``:
    "nearest" or "bilinear" (align_corners=False), as PyTorch's ``interpolate`` with a
    ``scale_factor`` (a number, or one per axis as (h, w)), which may be below 1."""
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {MODES}, got {mode!r}")
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"interpolate: expected x of shape (B, C, H, W), got shape {shape}")
    scales = _scale_pair(scale_factor)
    sizes = tuple(math.floor(n * s) for n, s in zip(shape[2:], scales))
    if min(sizes) < 1:
        raise ValueError(
            f"interpolate: scale_factor {scale_factor} turns the images {shape[2:]} into "
            f"{sizes}, with no pixel left"
        )
    if mode == "nearest":
        tables = tuple(nearest(n, m, s) for n, m, s in zip(shape[2:], sizes, scales))
    else:
        tables = tuple(bilinear(n, m, s, x.dtype) for n, m, s in zip(shape[2:], sizes, scales))
    return Interpolate.apply(x, resampling=tables, mode=mode, scale_factor=scales)


def _scale_pair(scale_factor: Any) -> tuple[float, float]:
    values = (scale_factor, scale_factor) if np.ndim(scale_factor) == 0 else tuple(scale_factor)
    if len(values) != 2 or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(
            "interpolate: scale_factor must be a positive number or an (h, w) pair of them, "
            f"got {scale_factor!r}"
        )
    return float(values[0]), float(values[1])
