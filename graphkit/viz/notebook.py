"""What ``gk.viz.draw`` returns: a ``graphviz.Digraph`` that always shows in Jupyter.

This module imports the ``graphviz`` Python package at the top; ``render.py`` imports
it only when a drawing is asked for, so graphkit itself does not need Graphviz.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import graphviz

MISSING_DOT_NOTE = (
    "The Graphviz dot program is not installed, so this is the graph's DOT text; "
    "install Graphviz (apt-get install graphviz, brew install graphviz or "
    "conda install graphviz) to see the picture."
)


class Drawing(graphviz.Digraph):
    """A computational graph as a ``graphviz.Digraph``.

    In Jupyter it displays as SVG; where the Graphviz ``dot`` program is missing it
    falls back to its DOT text (``.source``) instead of raising, so a notebook still
    shows what was drawn.
    """

    def _repr_svg_(self) -> str | None:
        try:
            return self.pipe(format="svg", encoding="utf-8")
        except graphviz.ExecutableNotFound:
            return None  # IPython then moves on to the next representation

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {
                "text/plain": self.source,
                "text/html": f"<p>{MISSING_DOT_NOTE}</p><pre>{html.escape(self.source)}</pre>",
            }
