"""``to_html``: the graph as one self-contained, interactive HTML page.

Everything is inline (the SVG, the data, the scripts, the styles), so the page works
offline from a ``file://`` URL and can be mailed or committed. Pan by dragging, zoom
with the wheel or the buttons, click a node for its facts, click a module call's box
to fold it into one box (and again to unfold it), search nodes by name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from graphkit.graph import Op
from graphkit.tensor import Tensor
from graphkit.viz.labels import op_label, shape_and_dtype, value_lines
from graphkit.viz.layout import lay_out
from graphkit.viz.record import tensor_gradients
from graphkit.viz.render import write_atomically
from graphkit.viz.scene import Scene, SceneNode, build_scene
from graphkit.viz.stats import SMALL, statistics_line
from graphkit.viz.svg import cluster_indexes, stylesheet, to_svg
from graphkit.viz.walk import output_of

HTML_SUFFIXES = (".html", ".htm")


class HtmlPage(str):
    """An HTML document (a ``str``) that Jupyter shows inline, in a frame of its own."""

    def _repr_html_(self) -> str:
        return inline_frame(self)

    def __repr__(self) -> str:
        return f"<HtmlPage: {len(self):,} characters of HTML>"


def inline_frame(document: str, height: int = 600) -> str:
    """``document`` in an ``<iframe srcdoc>``: its scripts and styles stay its own."""
    return (
        f'<iframe srcdoc="{escape(document, quote=True)}" style="width: 100%; '
        f'height: {height}px; border: 1px solid #e2e8f0;"></iframe>'
    )


def to_html(
    output: Tensor | Sequence[Tensor], path: str | os.PathLike[str] | None = None
) -> HtmlPage:
    """The graph behind ``output`` as a self-contained interactive HTML page.

    Clicking a node shows its shape, dtype, and the min, mean, max and norm of its value
    and of its gradient (the values themselves for tensors of at most 16 elements).
    Gradients are those of ``output`` with respect to every tensor, from a backward
    pass that leaves ``.grad`` and the graph as they were; once the graph has been
    freed (or for several outputs) the ``.grad`` the tensors hold is shown instead.

    Args:
        output: a tensor, or a list of tensors, whose graph to show.
        path: where to write the page (a ``.html`` file), written whole or not at all.

    Returns:
        The page (a ``str``), which Jupyter displays inline.
    """
    if path is not None:
        check_suffix(path, HTML_SUFFIXES, "to_html")
    scene = build_scene(output)
    layout = lay_out(scene)
    gradients = tensor_gradients(scene.graph.outputs)
    numbers = cluster_indexes(scene, layout)
    titles = {node.key: node.title or node.key for node in scene.nodes}
    data = {
        "nodes": {node.key: _node_facts(node, scene, titles, gradients) for node in scene.nodes},
        "clusters": [
            {"chain": [numbers[id(s)] for s in scene.chains(c.scope)]} for c in layout.clusters
        ],
    }
    title = f"graphkit: the graph of {scene.nodes[-1].title or 'the output'}"
    ops = len(scene.graph.ops)
    header = (
        f"<h1>{escape(title)}</h1><span>{ops} ops, {len(scene.nodes) - ops} data nodes</span>"
        '<input id="search" type="search" placeholder="search by name" size="18">'
        '<span id="found"></span>'
        '<button id="zoom-in" title="zoom in">+</button>'
        '<button id="zoom-out" title="zoom out">&minus;</button>'
        '<button id="fit">fit</button>'
        '<button id="fold-all">fold all</button><button id="unfold-all">unfold all</button>'
        '<span id="folded-count"></span>'
    )
    aside = (
        '<aside id="details"><p>Click a node for its facts; click a module call\'s box to '
        "fold or unfold it; drag to pan, scroll to zoom.</p></aside>"
    )
    page = HtmlPage(
        html_document(title, header, to_svg(scene, layout), aside, data, ["panzoom.js", "page.js"])
    )
    if path is not None:
        write_atomically(Path(path), page.encode("utf-8"))
    return page


def html_document(
    title: str,
    header: str,
    svg: str,
    aside: str,
    data: Any,
    scripts: list[str],
    css: str = "",
) -> str:
    """A whole page: toolbar, the SVG beside a side panel, ``data`` as inline JSON for
    the ``scripts`` (files of ``graphkit/viz/assets``), ``css`` added to the styles;
    every byte of it inline."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    code = "\n".join(asset(name) for name in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title>"
        f"<style>\n{asset('page.css')}\n{stylesheet()}\n{css}\n</style></head>\n<body>"
        f'<header>{header}</header><main><div id="viewport">{svg}</div>{aside}</main>\n'
        f'<script type="application/json" id="graph-data">{payload}</script>\n'
        f"<script>\n{code}\n</script></body></html>\n"
    )


@cache
def asset(name: str) -> str:
    """The text of ``graphkit/viz/assets/NAME`` (a script or a stylesheet)."""
    return resources.files("graphkit.viz").joinpath("assets", name).read_text(encoding="utf-8")


def check_suffix(path: str | os.PathLike[str], suffixes: Sequence[str], what: str) -> None:
    """Raise ValueError naming the formats unless ``path`` ends in one of ``suffixes``."""
    suffix = Path(path).suffix.lower()
    if suffix not in suffixes:
        raise ValueError(
            f"{what} writes {', '.join(s.lstrip('.') for s in suffixes)} files; "
            f"{os.fspath(path)!r} has the suffix {suffix or '(none)'!r}: use one of "
            f"{', '.join(suffixes)}"
        )


def _node_facts(
    node: SceneNode, scene: Scene, titles: dict[str, str], gradients: dict[int, np.ndarray]
) -> dict[str, Any]:
    """What the side panel shows for a node, escaped for HTML."""
    item = node.item
    rows: list[tuple[str, str]] = [("kind", node.kind.value)]
    if isinstance(item, Op):
        name, arguments = op_label(item)
        if arguments:
            rows.append(("arguments", arguments))
        inputs = [titles[scene.key(x)] for x in item.tensor_inputs()]
        rows.append(("inputs", ", ".join(inputs)))
        rows.append(("output", shape_and_dtype(output_of(item).data)))
        heading = name
    elif isinstance(item, Tensor):
        rows.append(("shape", str(item.shape)))
        rows.append(("dtype", item.dtype.name))
        rows.extend(_array_rows("value", item.data))
        gradient = gradients.get(id(item))
        if gradient is None:
            why = "does not require grad" if not item.requires_grad else "none recorded"
            rows.append(("gradient", why))
        else:
            rows.extend(_array_rows("gradient", gradient))
        heading = node.title or node.key
    else:
        rows.extend(_array_rows("value", np.asarray(item)))
        heading = node.title or "constant"
    if node.scope is not None:
        rows.append(("module", f"{node.scope.path} ({type(node.scope.module).__name__})"))
    words = " ".join([heading, node.key, node.scope.path if node.scope else ""])
    return {
        "heading": escape(heading),
        "facts": [[escape(k), escape(v)] for k, v in rows],
        "search": words.lower(),
        "kind": node.kind.value,
    }


def _array_rows(label: str, array: np.ndarray) -> list[tuple[str, str]]:
    rows = [(label, statistics_line(array))]
    if array.size <= SMALL:
        rows.append((f"{label}s", "\n".join(value_lines(array))))
    return rows
