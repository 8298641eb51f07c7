"""What jvp rules share: adding up the tangent terms of several inputs."""

from __future__ import annotations

from typing import Any


def total(*terms: Any) -> Any:
    """The sum of the terms that are not None (arrays or Tensors); None when all are.

    A jvp rule of a many-input op is the sum of one term per input that has a tangent;
    inputs without one contribute nothing, not a zero array.
    """
    result = None
    for term in terms:
        if term is not None:
            result = term if result is None else result + term
    return result
