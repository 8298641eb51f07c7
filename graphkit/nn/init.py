"""Initial weights: He for ReLU networks, Xavier (Glorot) for sigmoid and tanh.

Both scale a standard normal draw so that activations keep their variance from layer to
layer. ``fan_in`` is the number of inputs each output unit sums over: ``in_features``
for ``Linear`` (weight (in, out)), ``C * KH * KW`` for ``Conv2d`` (weight (OC, C, KH, KW)).
Draws come from NumPy's global RNG, so ``np.random.seed`` (or ``gk.manual_seed``) makes
them repeatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def he_normal(shape: tuple[int, ...], fan_in: int, dtype: Any = np.float64) -> np.ndarray:
    """N(0, 2 / fan_in): He et al. (2015), for layers followed by ReLU."""
    return (np.random.randn(*shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def xavier_normal(
    shape: tuple[int, ...], fan_in: int, fan_out: int, dtype: Any = np.float64
) -> np.ndarray:
    """N(0, 2 / (fan_in + fan_out)): Glorot and Bengio (2010), for sigmoid and tanh layers.

    The book's variant, N(0, 1 / fan_in), is ``xavier_normal`` with ``fan_out = fan_in``.
    """
    return (np.random.randn(*shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def initial_weights(
    scheme: str, shape: tuple[int, ...], fan_in: int, fan_out: int, dtype: Any = np.float64
) -> np.ndarray:
    """Weights drawn by ``scheme``: ``"he"`` or ``"xavier"``."""
    if scheme == "he":
        return he_normal(shape, fan_in, dtype)
    if scheme == "xavier":
        return xavier_normal(shape, fan_in, fan_out, dtype)
    raise ValueError(f"unknown init scheme {scheme!r}: use 'he' or 'xavier'")
