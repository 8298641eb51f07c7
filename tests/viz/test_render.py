"""gk.viz.draw and gk.viz.render: Graphviz objects, files, and a missing ``dot`` program.

Rendered SVG is parsed with xml.etree and compared with the DOT it came from, by node
ids (the SVG ``<title>``) and label text, which do not change between Graphviz versions.

Rendering needs the Graphviz ``dot`` program. CI installs it (and sets CI=true), so
there these tests fail rather than skip when it is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest

import graphkit as gk
from graphkit.scope import module_scope
from graphkit.viz import draw, render, to_dot

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def no_dot(tmp_path, monkeypatch) -> None:
    """A PATH on which no program, dot included, can be found."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def svg_nodes(svg: bytes | str) -> dict[str, list[str]]:
    """Node id (the ``<title>`` Graphviz writes) -> the text lines of its label."""
    root = ET.fromstring(svg)
    return {
        g.find(f"{SVG}title").text: [t.text.strip() for t in g.iter(f"{SVG}text")]
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "node"
    }


def svg_groups(svg: bytes | str, kind: str) -> list[ET.Element]:
    """The ``<g class=kind>`` elements: "node", "edge" or "cluster"."""
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == kind]


def dense_relu() -> gk.Tensor:
    x = gk.Tensor(np.ones((2, 3)), name="x")
    W = gk.Tensor(np.ones((3, 4)), requires_grad=True, name="W")
    b = gk.Tensor(np.zeros(4), requires_grad=True, name="b")
    return (x @ W + b).relu()


# ----- draw --------------------------------------------------------------------------
def test_draw_is_a_digraph_of_the_dot_text():
    y = dense_relu()
    drawing = draw(y, rankdir="LR", show_values=True)
    assert isinstance(drawing, graphviz.Digraph)
    assert drawing.source == to_dot(y, rankdir="LR", show_values=True)
    assert isinstance(drawing, gk.viz.Drawing)


def test_draw_shows_as_svg_in_jupyter(dot_program):
    drawing = draw(dense_relu())
    assert "image/svg+xml" in drawing._repr_mimebundle_()
    assert len(svg_nodes(drawing._repr_svg_())) == 9


def test_draw_falls_back_to_dot_text_without_dot(no_dot):
    drawing = draw(dense_relu())
    assert drawing._repr_svg_() is None
    bundle = drawing._repr_mimebundle_()
    assert bundle["text/plain"] == drawing.source
    assert "<pre>digraph graphkit {" in bundle["text/html"]
    assert "apt-get install graphviz" in bundle["text/html"]
    assert "&lt;b&gt;x&lt;/b&gt;" in bundle["text/html"]  # the DOT text, escaped


def test_draw_without_the_graphviz_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    monkeypatch.delitem(sys.modules, "graphkit.viz.notebook", raising=False)
    with pytest.raises(ImportError, match="pip install graphviz"):
        draw(dense_relu())
    assert to_dot(dense_relu()).startswith("digraph")  # DOT text needs no graphviz


def test_to_dot_does_not_import_graphviz():
    code = "import sys, graphkit.viz; assert 'graphviz' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----- render ------------------------------------------------------------------------
def test_render_svg_matches_the_dot(tmp_path, dot_program):
    y = dense_relu()
    path = render(y, tmp_path / "graph.svg")
    assert path == tmp_path / "graph.svg"
    svg = path.read_bytes()
    nodes = svg_nodes(svg)
    assert sorted(nodes) == sorted(["t0", "t1", "t2", "t3", "t4", "t5", "op0", "op1", "op2"])
    assert nodes["t1"] == ["W", "(3, 4) float64"]
    assert nodes["op0"] == ["matmul"]
    assert nodes["t5"] == ["output", "(2, 4) float64"]
    edges = {g.find(f"{SVG}title").text for g in svg_groups(svg, "edge")}
    assert edges == {
        "t0->op0", "t1->op0", "op0->t2", "t2->op1", "t3->op1", "op1->t4", "t4->op2", "op2->t5"
    }  # fmt: skip


def test_render_svg_styles(tmp_path, dot_program):
    x = gk.Tensor([1.0, np.nan], requires_grad=True, name="x")
    svg = render(x * 2, tmp_path / "nan.svg").read_bytes()
    x_node = next(g for g in svg_groups(svg, "node") if g.find(f"{SVG}title").text == "t0")
    shape = x_node.find(f"{SVG}polygon")
    assert (shape.get("fill"), shape.get("stroke")) == ("#fee2e2", "#dc2626")
    op_node = next(g for g in svg_groups(svg, "node") if g.find(f"{SVG}title").text == "op0")
    assert op_node.find(f"{SVG}path").get("fill") == "#e0e7ff"  # rounded: drawn as a path


def test_render_clusters(tmp_path, dot_program):
    class Block:
        pass

    x = gk.Tensor([1.0, 2.0], requires_grad=True, name="x")
    with module_scope(Block(), "outer"), module_scope(Block(), "inner"):
        y = x * 3
    svg = render(y, tmp_path / "clusters.svg", group_modules=True).read_bytes()
    labels = [[t.text.strip() for t in g.iter(f"{SVG}text")] for g in svg_groups(svg, "cluster")]
    assert labels == [["outer", "Block"], ["inner", "Block"]]


@pytest.mark.parametrize(("format", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_render_png_and_pdf(tmp_path, dot_program, format, magic):
    path = render(dense_relu(), tmp_path / f"graph.{format}", format=format)
    assert path.read_bytes().startswith(magic)


def test_render_dot_needs_no_graphviz(tmp_path, no_dot):
    y = dense_relu()
    path = render(y, tmp_path / "graph.dot", format="dot", collapse_modules=True)
    assert path.read_text() == to_dot(y, collapse_modules=True)


def test_render_writes_exactly_at_path_and_makes_folders(tmp_path):
    path = render(dense_relu(), tmp_path / "a" / "b" / "graph", format="dot")
    assert path == tmp_path / "a" / "b" / "graph"
    assert os.listdir(path.parent) == ["graph"]


def test_render_gives_the_file_the_usual_permissions(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("")
    path = render(dense_relu(), tmp_path / "graph.dot", format="dot")
    assert path.stat().st_mode == plain.stat().st_mode  # not a private temporary file's


def test_render_replaces_a_file_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "graph.dot"
    path.write_text("old")
    render(dense_relu(), path, format="dot")
    assert path.read_text().startswith("digraph")
    path.write_text("old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        render(dense_relu(), path, format="dot")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["graph.dot"]  # no temporary file left behind


def test_render_without_dot_says_what_to_install(tmp_path, no_dot):
    with pytest.raises(RuntimeError) as error:
        render(dense_relu(), tmp_path / "graph.svg")
    message = str(error.value)
    assert "Graphviz `dot` program" in message
    for install in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert install in message
    assert not (tmp_path / "graph.svg").exists()


def test_render_when_graphviz_cannot_run_dot(tmp_path, dot_program, monkeypatch):
    def not_found(self, *args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", not_found)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render(dense_relu(), tmp_path / "graph.svg")


def test_render_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="svg, png, pdf, dot"):
        render(dense_relu(), tmp_path / "graph.gif", format="gif")


def test_render_returns_a_path(tmp_path):
    assert isinstance(render(dense_relu(), str(tmp_path / "g.dot"), format="dot"), Path)
