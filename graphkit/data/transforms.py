"""Batch transforms for image data: normalisation and random augmentation.

Calling convention: a transform is a callable that takes a batch ``x`` and returns a new
batch of the same shape, never modifying ``x``. It comes in two kinds:

- ``transform(x)``, as in torchvision: deterministic, or drawing from wherever it likes;
- ``transform(x, rng)``, for random augmentations: ``rng`` is an ``np.random.Generator``
  (``DataLoader`` passes its own, so a seeded loader repeats its augmentations). The
  transforms here also accept ``rng=None``: random draws then come from NumPy's global RNG,
  so ``np.random.seed(n)`` makes them repeatable.

``takes_rng`` tells the two apart from the signature (see there); ``DataLoader`` and
``Compose`` accept both kinds.

Image batches may be shaped (B, H*W) with square images (the side is the
square root), (B, H, W) or (B, C, H, W). Results are float: the input's dtype
when it is floating, float64 otherwise.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np

BatchTransform = Callable[[np.ndarray], np.ndarray]
RandomTransform = Callable[[np.ndarray, np.random.Generator | None], np.ndarray]
Transform = BatchTransform | RandomTransform

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def resolve_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """Return ``rng``, or a generator seeded from NumPy's global RNG when None."""
    if rng is not None:
        return rng
    return np.random.default_rng(np.random.randint(0, 2**63 - 1, dtype=np.int64))


def takes_rng(transform: object) -> bool:
    """True for a ``transform(x, rng)``, False for a one-argument ``transform(x)``.

    Read from the signature: a transform takes the generator when its second positional
    parameter is required (``lambda x, rng: ...``) or is named ``rng`` (``def f(x,
    rng=None)``, as the transforms here); otherwise it is called with the batch alone
    (optional parameters keep their defaults: ``def f(x, scale=2.0)`` is one-argument).

    Raises:
        TypeError: ``transform`` is not callable, cannot take the batch as its only
            positional argument nor the batch and a generator (no positional parameter,
            three or more required ones, or a required keyword-only one), or has no
            readable signature.
    """
    name = getattr(transform, "__qualname__", None) or type(transform).__name__
    if not callable(transform):
        raise TypeError(f"a transform must be callable, got {type(transform).__name__}")
    try:
        parameters = list(inspect.signature(transform).parameters.values())
    except (TypeError, ValueError):
        raise TypeError(
            f"cannot read the parameters of transform {name}; wrap it, e.g. "
            "transform=lambda x: f(x)"
        ) from None
    positional = [p for p in parameters if p.kind in _POSITIONAL]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    takes_any = positional or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    keywords = [
        p.name
        for p in parameters
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    ]
    if not takes_any or len(required) > 2 or keywords:
        signature = ", ".join(str(p) for p in parameters)
        raise TypeError(
            f"transform {name}({signature}) fits neither transform(x_batch) nor "
            "transform(x_batch, rng): it must take the batch as its one required positional "
            "argument, plus the random generator as a second one for random augmentations"
        )
    return len(required) == 2 or (len(positional) >= 2 and positional[1].name == "rng")


def apply_transform(
    transform: Transform, random: bool, x: np.ndarray, rng: np.random.Generator | None
) -> np.ndarray:
    """``transform(x, rng)`` when ``random`` (``takes_rng(transform)``), else ``transform(x)``."""
    if random:
        return cast(RandomTransform, transform)(x, rng)
    return cast(BatchTransform, transform)(x)


class Compose:
    """Apply transforms in order, sharing one generator: ``Compose([a, b])(x) == b(a(x))``.

    Each may be a ``transform(x)`` or a ``transform(x, rng)`` (see ``takes_rng``); only the
    second kind gets the generator.

    Raises:
        TypeError: one of ``transforms`` fits neither kind.
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)
        self._takes_rng = [takes_rng(transform) for transform in self.transforms]

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        if any(self._takes_rng):
            rng = resolve_rng(rng)
        for transform, random in zip(self.transforms, self._takes_rng):
            x = apply_transform(transform, random, x, rng)
        return x

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class Normalize:
    """``(x - mean) / std``.

    ``mean`` and ``std`` are scalars, per-channel vectors of shape (C,) for
    (B, C, H, W) batches, or per-feature vectors of shape (D,) for (B, D) batches.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.ndim > 1 or self.std.ndim > 1:
            raise ValueError(
                f"mean {self.mean.shape} and std {self.std.shape} must be scalars or vectors"
            )
        if np.any(self.std == 0):
            raise ValueError(f"std must be nonzero, got {self.std}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        dtype = _float_dtype(x)
        mean, std = self.mean.astype(dtype), self.std.astype(dtype)
        if x.ndim == 4 and (mean.ndim == 1 or std.ndim == 1):
            channels = x.shape[1]
            for name, stat in (("mean", mean), ("std", std)):
                if stat.ndim == 1 and stat.shape[0] != channels:
                    raise ValueError(
                        f"{name} of shape {stat.shape} does not match the {channels} "
                        f"channels of a batch of shape {x.shape}"
                    )
            mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        try:
            return ((x - mean) / std).astype(dtype, copy=False)
        except ValueError as error:
            raise ValueError(
                f"mean {self.mean.shape} and std {self.std.shape} do not broadcast "
                f"against a batch of shape {x.shape}"
            ) from error

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomRotation:
    """Rotate each image by its own angle drawn uniformly from ``degrees``.

    ``degrees`` is a number d (angles in [-d, d]) or a pair (low, high).
    Positive angles turn counter-clockwise as displayed (row 0 on top), as
    ``np.rot90`` does. Bilinear interpolation, zeros outside the image.
    """

    def __init__(self, degrees: float | tuple[float, float]) -> None:
        if np.ndim(degrees) == 0:
            size = float(cast(float, degrees))
            if size < 0:
                raise ValueError(f"degrees must be >= 0, got {degrees}")
            low, high = -size, size
        else:
            low, high = (float(bound) for bound in cast(tuple[float, float], degrees))
        if low > high:
            raise ValueError(f"degrees range ({low}, {high}) has low > high")
        self.degrees = (low, high)

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        x = np.asarray(x)
        angles = resolve_rng(rng).uniform(*self.degrees, size=len(x))
        return rotate(x, angles)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees})"


class RandomShift:
    """Translate each image by whole pixels, up to ``max_pixels`` along each axis.

    The row and column offsets are drawn independently and uniformly from
    [-max_pixels, max_pixels]; pixels shifted in from outside are zero.
    """

    def __init__(self, max_pixels: int) -> None:
        if max_pixels < 0:
            raise ValueError(f"max_pixels must be >= 0, got {max_pixels}")
        self.max_pixels = int(max_pixels)

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        x = np.asarray(x)
        bound = self.max_pixels
        offsets = resolve_rng(rng).integers(-bound, bound + 1, size=(len(x), 2))
        return shift(x, offsets)

    def __repr__(self) -> str:
        return f"RandomShift(max_pixels={self.max_pixels})"


def rotate(x: np.ndarray, degrees: float | np.ndarray) -> np.ndarray:
    """Rotate every image in the batch ``x`` about its centre.

    ``degrees`` is one angle for the whole batch or an array of shape (B,).
    Same conventions as ``RandomRotation``; the result has ``x``'s shape.
    """
    images, dtype = _as_images(x)
    batch, _, height, width = images.shape
    radians = np.deg2rad(np.broadcast_to(np.asarray(degrees, dtype=np.float64), (batch,)))
    cos = np.cos(radians)[:, None, None]
    sin = np.sin(radians)[:, None, None]
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    rows = (np.arange(height, dtype=np.float64) - centre_row)[None, :, None]
    cols = (np.arange(width, dtype=np.float64) - centre_col)[None, None, :]
    # Inverse mapping: each output pixel samples the input at its position rotated back.
    source_row = centre_row + cos * rows + sin * cols
    source_col = centre_col - sin * rows + cos * cols
    row0 = np.floor(source_row).astype(np.intp)
    col0 = np.floor(source_col).astype(np.intp)
    row_weight = (source_row - row0)[:, None]
    col_weight = (source_col - col0)[:, None]
    top = (1 - col_weight) * _gather(images, row0, col0) + col_weight * _gather(
        images, row0, col0 + 1
    )
    bottom = (1 - col_weight) * _gather(images, row0 + 1, col0) + col_weight * _gather(
        images, row0 + 1, col0 + 1
    )
    rotated = (1 - row_weight) * top + row_weight * bottom
    return rotated.astype(dtype, copy=False).reshape(np.shape(x))


def shift(x: np.ndarray, offsets: Sequence[int] | np.ndarray) -> np.ndarray:
    """Translate every image in ``x`` by whole pixels, filling with zeros.

    ``offsets`` is one (rows, cols) pair for the whole batch or an int array of
    shape (B, 2); positive values move content down and right.
    """
    images, dtype = _as_images(x)
    batch, _, height, width = images.shape
    offsets = np.broadcast_to(np.asarray(offsets, dtype=np.intp), (batch, 2))
    source_row = np.arange(height)[None, :, None] - offsets[:, 0, None, None]
    source_col = np.arange(width)[None, None, :] - offsets[:, 1, None, None]
    shifted = _gather(images, source_row, source_col)
    return shifted.astype(dtype, copy=False).reshape(np.shape(x))


def _as_images(x: np.ndarray) -> tuple[np.ndarray, np.dtype]:
    """View a batch as (B, C, H, W) and pick the output dtype."""
    x = np.asarray(x)
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(
                f"a batch of shape {x.shape} holds {x.shape[1]} values per image, "
                "not a square image; reshape it to (B, C, H, W)"
            )
        images = x.reshape(len(x), 1, side, side)
    elif x.ndim == 3:
        images = x[:, None]
    elif x.ndim == 4:
        images = x
    else:
        raise ValueError(
            f"expected an image batch (B, H*W), (B, H, W) or (B, C, H, W), got shape {x.shape}"
        )
    return images, _float_dtype(x)


def _float_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)


def _gather(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``images[b, c, rows[b], cols[b]]`` for every b and c, zero where out of bounds.

    images: (B, C, H, W); rows, cols: integer arrays broadcastable to (B, H', W').
    Returns (B, C, H', W').
    """
    batch, channels, height, width = images.shape
    rows, cols = np.broadcast_arrays(rows, cols)
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    picked = images[
        np.arange(batch)[:, None, None, None],
        np.arange(channels)[None, :, None, None],
        np.clip(rows, 0, height - 1)[:, None],
        np.clip(cols, 0, width - 1)[:, None],
    ]
    return np.where(inside[:, None], picked, 0)
