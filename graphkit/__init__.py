"""graphkit: an autograd engine from scratch on NumPy.

Tensors record the computational graph as they compute; ``backward`` walks it in
reverse. See https://github.com/ (README) for the tour.
"""

from __future__ import annotations

import numpy as _np

from graphkit import data, func, functional, metrics, nn, onnx, ops, optim, testing, train, viz
from graphkit import functional as F
from graphkit.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from graphkit.autograd import grad
from graphkit.checkpoint import checkpoint
from graphkit.constructors import (
    arange,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from graphkit.functional import cat, concatenate, einsum, stack, where
from graphkit.graph import Op, enable_grad, is_grad_enabled, no_grad
from graphkit.saved import saved_tensors_hooks
from graphkit.tensor import Tensor, as_tensor
from graphkit.write_guard import SavedArrayWriteError

__version__ = "0.1.0"

float32 = _np.float32
float64 = _np.float64


def tensor(data, **kwargs) -> Tensor:
    """Same as ``Tensor(data, **kwargs)``."""
    return Tensor(data, **kwargs)


def manual_seed(seed: int) -> None:
    """Seed NumPy's global RNG, which parameter init, dropout and loaders draw from."""
    _np.random.seed(seed)


__all__ = [
    "AnomalyError",
    "F",
    "Op",
    "SavedArrayWriteError",
    "Tensor",
    "arange",
    "as_tensor",
    "cat",
    "checkpoint",
    "concatenate",
    "data",
    "detect_anomaly",
    "einsum",
    "enable_grad",
    "eye",
    "float32",
    "float64",
    "full",
    "func",
    "functional",
    "grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "manual_seed",
    "metrics",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "onnx",
    "ops",
    "optim",
    "rand",
    "randn",
    "saved_tensors_hooks",
    "set_detect_anomaly",
    "stack",
    "tensor",
    "testing",
    "train",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
