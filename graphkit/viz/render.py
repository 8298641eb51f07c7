"""Drawing and rendering through Graphviz: ``draw`` (a Digraph) and ``render`` (a file).

The ``graphviz`` Python package is imported inside the functions that need it, and the
``dot`` program is looked for only when a picture is rendered, each with an error that
says what to install.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphkit.files import atomic_output
from graphkit.tensor import Tensor
from graphkit.viz.dot import GRAPH_NAME, DrawOptions, body_lines, to_dot

if TYPE_CHECKING:
    from graphkit.viz.notebook import Drawing

#: What ``render`` writes; "dot" is the DOT text itself and needs no Graphviz.
FORMATS = ("svg", "png", "pdf", "dot")

MISSING_DOT = (
    "rendering a graph needs the Graphviz `dot` program, which is not installed (or not "
    "on PATH). Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz` (conda); "
    "or write the DOT text with format='dot'."
)


def draw(output: Tensor | Sequence[Tensor], **options: Any) -> Drawing:
    """The graph that produced ``output`` as a ``graphviz.Digraph`` (shown in Jupyter).

    Takes the options of ``gk.viz.to_dot`` (``show_grad``, ``show_values``,
    ``group_modules``, ``collapse_modules``, ``backward``, ``rankdir``,
    ``max_value_elements``); its ``.source`` is exactly ``to_dot``'s text. Building it
    needs only the ``graphviz`` Python package; displaying or rendering it needs the
    Graphviz ``dot`` program, and without it a notebook shows the DOT text instead.
    """
    try:
        from graphkit.viz.notebook import Drawing
    except ImportError as err:
        raise ImportError(
            "gk.viz.draw needs the graphviz Python package: pip install graphviz"
        ) from err
    return Drawing(name=GRAPH_NAME, body=body_lines(output, DrawOptions(**options)))


def render(
    output: Tensor | Sequence[Tensor],
    path: str | os.PathLike[str],
    format: str = "svg",
    **options: Any,
) -> Path:
    """Write the graph that produced ``output`` to ``path`` as svg, png, pdf or dot.

    Takes the options of ``gk.viz.to_dot``. The file is written whole or not at all (a
    temporary file beside it is renamed over it), and exactly at ``path``: no suffix
    is added. Missing folders are created. Returns the path written.

    Raises:
        RuntimeError: the Graphviz ``dot`` program is missing (formats other than dot).
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if format == "dot":
        data = to_dot(output, **options).encode("utf-8")
    else:
        data = _rendered(draw(output, **options), format)
    return write_atomically(Path(path), data)


def _rendered(drawing: Drawing, format: str) -> bytes:
    """The drawing laid out and rendered by Graphviz's ``dot`` program."""
    import graphviz

    if shutil.which("dot") is None:
        raise RuntimeError(MISSING_DOT)
    try:
        return drawing.pipe(format=format)
    except graphviz.ExecutableNotFound as err:
        raise RuntimeError(MISSING_DOT) from err


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over
    ``path``: readers never see half a file, and a failure leaves the old one intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as file:
        file.write(data)
    return path
