"""What a tensor holds, in a few numbers: min, mean, max and norm, or the values themselves.

The interactive page, the backprop player and its GIF all describe values and gradients
this way: the values of a small tensor (at most ``SMALL`` elements), else its shape and
statistics, so a (784, 100) weight gradient reads as four numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphkit.viz.labels import has_nonfinite, norm, shape_and_dtype, value_lines

#: The largest tensor whose values are printed; larger ones are summarised.
SMALL = 16


def statistics(array: Any) -> dict[str, Any]:
    """``{"shape", "dtype", "min", "mean", "max", "norm"}`` of an array, as plain numbers.

    An empty array has no min, mean or max (None); NaNs and infinities are kept as the
    strings ``"nan"``, ``"inf"``, ``"-inf"`` so the result is valid JSON.
    """
    array = np.asarray(array)
    facts: dict[str, Any] = {"shape": list(array.shape), "dtype": array.dtype.name}
    if array.size == 0 or array.dtype.kind not in "biuf":
        facts.update(min=None, mean=None, max=None, norm=None if array.size else 0.0)
        return facts
    as_float = array.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        numbers = {
            "min": float(as_float.min()),
            "mean": float(as_float.mean()),
            "max": float(as_float.max()),
            "norm": norm(as_float),
        }
    facts.update({key: _json_number(value) for key, value in numbers.items()})
    return facts


def _json_number(value: float) -> float | str:
    return value if np.isfinite(value) else str(value)


def statistics_line(array: Any) -> str:
    """``min -0.12  mean 0.003  max 0.2  norm 1.4`` (4 significant digits)."""
    facts = statistics(array)
    if facts["min"] is None:
        return "empty"
    return "  ".join(f"{key} {_number(facts[key])}" for key in ("min", "mean", "max", "norm"))


def _number(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.4g}"


def describe(array: Any, small: int = SMALL) -> list[str]:
    """Lines describing an array: its values when it has at most ``small`` elements, else
    its shape and dtype over its statistics. A NaN or infinity is flagged either way."""
    array = np.asarray(array)
    if array.size <= small:
        lines = value_lines(array)
    else:
        lines = [shape_and_dtype(array), statistics_line(array)]
    if has_nonfinite(array):
        lines.append("holds NaN or inf")
    return lines
