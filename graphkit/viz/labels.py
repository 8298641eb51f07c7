"""The text inside each node, as Graphviz HTML-like labels.

A data node's label is its name in bold over facts (shape and dtype, values,
gradient) in small grey type; an op's is its name in bold, then its arguments. Every
piece of user text is escaped here, so the DOT stays valid whatever a tensor is named.
"""

from __future__ import annotations

import html
from functools import cache
from typing import Any

import numpy as np

from graphkit.graph import Op
from graphkit.tensor import Tensor

#: Longest text of an op's arguments before it is cut short (indices can be huge).
MAX_OP_LABEL = 40
#: Arguments that are an int or an (h, w) pair (see the conv ops): (1, 1) reads as 1.
PAIR_ARGUMENTS = frozenset({"kernel_size", "stride", "pad"})
#: Widest line of printed values, in characters.
VALUES_LINE_WIDTH = 48

_FACT = '<font point-size="9" color="#475569">{}</font>'


def escape(text: str) -> str:
    """``text`` safe inside an HTML-like label."""
    return html.escape(text, quote=True)


def html_label(title: str | None, facts: list[str]) -> str:
    """A node label: an optional bold title over facts in small grey type.

    ``title`` and ``facts`` are plain text; they are escaped here.
    """
    lines = [f"<b>{escape(title)}</b>"] if title else []
    lines.extend(_FACT.format(escape(fact)) for fact in facts)
    return "<" + "<br/>".join(lines) + ">"


def shape_and_dtype(array: Any) -> str:
    """``(6, 3, 3, 3) float64``; a 0-d array shows as ``scalar float64``."""
    shape = array.shape
    return f"{shape if shape else 'scalar'} {_dtype_name(array.dtype)}"


@cache
def _dtype_name(dtype: np.dtype) -> str:
    # ``dtype.name`` is computed in Python on every call; a graph has few dtypes.
    return dtype.name


def value_lines(array: Any) -> list[str]:
    """The values of a small array, at most ``VALUES_LINE_WIDTH`` characters a line."""
    text = np.array2string(
        np.asarray(array), precision=4, separator=", ", max_line_width=VALUES_LINE_WIDTH
    )
    return [line.strip() for line in text.splitlines()]


def gradient_fact(grad: Tensor) -> str:
    """``grad (6, 3) norm=0.0123``: a gradient's shape and Euclidean norm."""
    return f"grad {grad.data.shape} norm={norm(grad.data):.4g}"


def norm(array: Any) -> float:
    """The Euclidean norm of all elements, accumulated in float64."""
    return float(np.sqrt(np.sum(np.square(np.asarray(array), dtype=np.float64))))


def has_nonfinite(array: Any) -> bool:
    """Whether a floating array holds a NaN or an infinity."""
    array = np.asarray(array)
    return array.dtype.kind in "fc" and not bool(np.isfinite(array).all())


def tensor_has_nonfinite(t: Tensor) -> bool:
    """Whether a tensor's value or gradient holds a NaN or an infinity."""
    return has_nonfinite(t.data) or (t.grad is not None and has_nonfinite(t.grad.data))


def op_label(op: Op) -> tuple[str, str]:
    """An op as (name, arguments), e.g. ``("conv2d", "stride=1 pad=1")``.

    Arguments that say nothing (``axis=None``, ``keepdims=False``) are left out and
    square pairs are written once (``stride=(1, 1)`` as ``stride=1``). An op
    class that writes its own ``label()`` is drawn as it describes itself. Arguments
    longer than ``MAX_OP_LABEL`` characters (getitem's index arrays) are cut short.
    """
    name, arguments = op_arguments(op)
    return name, cut(" ".join(arguments), MAX_OP_LABEL)


def op_arguments(op: Op) -> tuple[str, list[str]]:
    """An op's name and its telling arguments, each ``key=value`` on one line
    (``("sum", ["axis=1", "keepdims=True"])``); see ``op_label``."""
    if type(op).label is Op.label:
        arguments = [
            f"{key}={_argument_text(key, value)}"
            for key, value in op.params().items()
            if value is not None and value is not False
        ]
        return op.name, [" ".join(argument.split()) for argument in arguments]
    name, _, rest = op.label().partition(" ")
    rest = " ".join(rest.split())  # an array's repr spans lines
    return name, [rest] if rest else []


def cut(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters ending in ``...`` when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _argument_text(key: str, value: Any) -> str:
    if key in PAIR_ARGUMENTS and isinstance(value, tuple) and len(set(value)) == 1:
        return str(value[0])
    return str(value)


def op_html_label(op: Op) -> str:
    """The label of a compute node: the op's name in bold, then its arguments."""
    name, arguments = op_label(op)
    text = f"<b>{escape(name)}</b>"
    if arguments:
        text += " " + escape(arguments)
    return "<" + text + ">"


def constant_title(value: Any) -> str | None:
    """How a raw constant input reads on its own: a scalar by its value, else nothing."""
    array = np.asarray(value)
    if array.size == 1 and array.dtype.kind in "biuf":
        return f"{array.item():.6g}" if array.dtype.kind == "f" else str(array.item())
    return None
