"""Gradient checking and Hypothesis strategies for property-based tests of gradients.

``gk.testing.strategies`` needs Hypothesis (``pip install hypothesis``) and is
imported on first use, so ``import graphkit`` does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

from graphkit.testing.gradcheck import GradcheckError, gradcheck, numerical_gradient

__all__ = ["GradcheckError", "gradcheck", "numerical_gradient", "strategies"]


def __getattr__(name: str) -> Any:
    if name == "strategies":
        return importlib.import_module("graphkit.testing.strategies")
    raise AttributeError(f"module 'graphkit.testing' has no attribute {name!r}")
