"""Gradient checking and Hypothesis strategies for property-based tests of gradients.

``gradcheck`` and ``gradgradcheck`` compare derivatives with central differences;
``check_op`` property-tests an op in one call. ``check_op`` and ``gk.testing.strategies``
need Hypothesis (``pip install hypothesis``) and are imported on first use, so
``import graphkit`` does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

from graphkit.testing.gradcheck import (
    GradcheckError,
    NotDifferentiableError,
    gradcheck,
    gradgradcheck,
    numerical_gradient,
)

__all__ = [
    "GradcheckError",
    "NotDifferentiableError",
    "check_op",
    "gradcheck",
    "gradgradcheck",
    "numerical_gradient",
    "strategies",
]


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module("graphkit.testing.strategies")
    if name == "check_op":
        return importlib.import_module("graphkit.testing.properties").check_op
    raise AttributeError(f"module 'graphkit.testing' has no attribute {name!r}")
