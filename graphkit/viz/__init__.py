"""Pictures of computational graphs: ``draw`` (Jupyter), ``render`` (files), ``to_dot`` (text),
``to_text`` (a listing), ``to_html`` (an interactive page), ``animate`` (the backprop player).

``to_dot`` needs nothing but graphkit; ``draw`` needs the ``graphviz`` Python package and
``render`` also the Graphviz ``dot`` program (except for the DOT format).
"""

from __future__ import annotations

from typing import Any

from graphkit.viz.dot import to_dot
from graphkit.viz.memory import SavedMemory, saved_memory
from graphkit.viz.page import HtmlPage, to_html
from graphkit.viz.player import Backprop, animate
from graphkit.viz.render import FORMATS, draw, render
from graphkit.viz.text import to_text

__all__ = [
    "FORMATS",
    "Backprop",
    "Drawing",
    "HtmlPage",
    "SavedMemory",
    "animate",
    "draw",
    "render",
    "saved_memory",
    "to_dot",
    "to_html",
    "to_text",
]


def __getattr__(name: str) -> Any:
    # Drawing subclasses graphviz.Digraph: import graphviz only when it is asked for.
    if name == "Drawing":
        from graphkit.viz.notebook import Drawing

        return Drawing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
