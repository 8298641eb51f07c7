"""Inverted dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphkit.backend import xp
from graphkit.graph import Op


def check_probability(p: float) -> float:
    """``p`` itself if it is a dropout probability, in [0, 1]; else ValueError."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must lie in [0, 1], got {p}")
    return p


class Dropout(Op):
    """Zeroes each element with probability ``p`` and scales survivors by 1 / (1 - p).

    The mask comes from ``generator`` (a ``numpy.random.Generator``) or, when it is None,
    from NumPy's global RNG, so ``np.random.seed`` makes it repeatable.
    """

    __slots__ = ("generator", "p")

    def __init__(self, p: float, generator: np.random.Generator | None = None):
        self.p = check_probability(p)
        self.generator = generator

    def forward(self, x):
        draw = xp.random.random_sample if self.generator is None else self.generator.random
        keep = draw(x.shape) >= self.p
        scale = 1.0 / (1.0 - self.p) if self.p < 1 else 0.0
        self.saved = keep.astype(x.dtype) * scale
        return x * self.saved

    def backward(self, gy, y, x):
        return gy * self.saved

    def jvp(self, dxs, y, x):
        return dxs[0] * self.saved

    def params(self) -> dict[str, Any]:
        return {"p": self.p}


def dropout(x: Any, p: float = 0.5, generator: np.random.Generator | None = None) -> Any:
    """Inverted dropout, always applied: ``functional.dropout`` skips it outside training."""
    return Dropout.apply(x, p=p, generator=generator)
