"""The McCulloch-Pitts neuron: a weighted sum, a threshold, a 0 or a 1."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphkit import functional as F


class MPNeuron:
    """Fires (1) where ``x @ w + b > 0``, else 0.

    With two inputs, ``MPNeuron((0.5, 0.5), -0.5)`` is AND (only 0.5 + 0.5 - 0.5 > 0)
    and ``MPNeuron((1, 1), -0.5)`` is OR.
    """

    def __init__(self, w: Any, b: float) -> None:
        self.w = np.asarray(w, dtype=np.float64)
        self.b = float(b)

    def __call__(self, x: Any) -> np.ndarray:
        """x (N, len(w)) -> N outputs, each 0 or 1 (int)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != self.w.shape:
            raise ValueError(f"inputs of shape {x.shape} do not fit {len(self.w)} weights")
        return F.step(x @ self.w + self.b).numpy().astype(np.int64)
