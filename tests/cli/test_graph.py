"""``python -m graphkit graph``: end to end into tmp_path, and the README's picture.

The README shows docs/images/tinynet.svg, made by
``python -m graphkit graph tinynet --out docs/images/tinynet.svg``.
``test_readme_graph_up_to_date`` compares it with a fresh pass by node ids, label words
and edges, which stay the same across Graphviz versions (the SVG bytes do not).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from graphkit.cli import main
from graphkit.cli.model_graphs import MODEL_NAMES, model_loss
from graphkit.viz import render, to_dot

ROOT = Path(__file__).resolve().parents[2]
README_GRAPH = ROOT / "docs" / "images" / "tinynet.svg"
SVG = "{http://www.w3.org/2000/svg}"


def svg_graph(svg: bytes) -> tuple[dict[str, list[str]], set[str]]:
    """(node id -> the words of its label, edge titles such as ``t0->op0``)."""
    root = ET.fromstring(svg)
    nodes, edges = {}, set()
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title").text
        if g.get("class") == "node":
            nodes[title] = " ".join(t.text for t in g.iter(f"{SVG}text")).split()
        elif g.get("class") == "edge":
            edges.add(title)
    return nodes, edges


def dot_graph(dot: str) -> tuple[dict[str, list[str]], set[str]]:
    """The same facts read from DOT text."""
    nodes = {
        node_id: html.unescape(re.sub(r"<[^>]+>", " ", label)).split()
        for node_id, label in re.findall(r"^\s*(\w+) \[label=<(.*)>, shape=", dot, re.M)
    }
    edges = {f"{a}->{b}" for a, b in re.findall(r"^\s*(\w+) -> (\w+)", dot, re.M)}
    return nodes, edges


def test_graph_svg(tmp_path, dot_program, capsys):
    out = tmp_path / "tinynet.svg"
    assert main(["graph", "tinynet", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    nodes, edges = svg_graph(out.read_bytes())
    ops = [words[0] for node_id, words in nodes.items() if node_id.startswith("op")]
    assert sorted(ops) == sorted(
        ["conv2d", "relu", "max_pool2d"] * 2 + ["reshape", "linear", "softmax_cross_entropy"]
    )
    assert nodes["t0"] == ["x", "(2,", "3,", "8,", "8)", "float64"]
    assert (nodes, edges) == dot_graph(to_dot(model_loss("tinynet")))


def test_graph_dot_format_and_options(tmp_path):
    out = tmp_path / "mlp.txt"
    argv = ["graph", "mlp", "--out", str(out), "--format", "dot", "--rankdir", "LR"]
    assert main([*argv, "--collapse-modules", "--batch", "5"]) == 0
    text = out.read_text()
    assert text == to_dot(model_loss("mlp", batch=5), collapse_modules=True, rankdir="LR")
    nodes, _ = dot_graph(text)
    collapsed = [words[0] for node_id, words in nodes.items() if node_id.startswith("m")]
    assert collapsed == ["fc1", "relu1", "fc2"]
    assert nodes["t0"] == ["x", "(5,", "784)", "float64"]


def test_graph_format_follows_the_suffix(tmp_path):
    out = tmp_path / "twolayernet.dot"
    assert main(["graph", "twolayernet", "--out", str(out), "--group-modules"]) == 0
    assert out.read_text().startswith("digraph graphkit {")


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_draws(model):
    nodes, edges = dot_graph(to_dot(model_loss(model)))
    assert nodes["t0"][0] == "x"
    assert any(words[0] == "loss" for words in nodes.values())
    assert len(edges) >= len(nodes) - 1  # connected


@pytest.mark.parametrize(
    "argv",
    [
        ["graph", "resnet", "--out", "x.svg"],
        ["graph", "mlp"],
        ["graph", "mlp", "--out", "x.svg", "--format", "jpeg"],
        ["graph", "mlp", "--out", "x.svg", "--color-by", "grad"],
        ["graph", "mlp", "--out", "x.svg", "--rankdir", "BT"],
        ["graph", "mlp", "--out", "x.svg", "--batch", "0"],
        ["graph", "mlp", "--out", "x.svg", "--batch", "two"],
        ["paint"],
        [],
    ],
)
def test_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage: graphkit" in capsys.readouterr().err


def test_missing_dot_is_an_error_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["graph", "mlp", "--out", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("graphkit graph: error: rendering a graph needs the Graphviz `dot`")
    assert "Traceback" not in err


def test_python_dash_m_graphkit(tmp_path, dot_program):
    out = tmp_path / "graph.svg"
    command = [sys.executable, "-m", "graphkit", "graph", "tinynet", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    assert svg_graph(out.read_bytes())[0]


def test_tinynet_renders_to_svg(tmp_path, dot_program):
    """The time this takes is measured by ``python -m benchmarks --only VIZ``."""
    render(model_loss("tinynet"), tmp_path / "tinynet.svg")
    assert svg_graph((tmp_path / "tinynet.svg").read_bytes())[0]


def test_readme_graph_up_to_date():
    """If this fails, regenerate the picture:
    python -m graphkit graph tinynet --out docs/images/tinynet.svg"""
    committed = svg_graph(README_GRAPH.read_bytes())
    assert committed == dot_graph(to_dot(model_loss("tinynet")))


# ----- graphkit's own formats: the listing, the page, the backprop player --------------
@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize(
    "suffix, extra, starts",
    [
        (".txt", [], "# x: "),
        (".html", [], "<!DOCTYPE html>"),
        (".html", ["--animate"], "<!DOCTYPE html>"),
        (".gif", [], "GIF89a"),
    ],
    ids=["text", "html", "player", "gif"],
)
def test_every_model_in_every_format(model, suffix, extra, starts, tmp_path, capsys):
    out = tmp_path / f"{model}{suffix}"
    assert main(["graph", model, "--out", str(out), *extra]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert out.read_bytes().startswith(starts.encode())
    if extra:
        assert b"graphkitPlayer" in out.read_bytes()


def test_text_format_is_to_text(tmp_path):
    from graphkit.viz import to_text

    out = tmp_path / "listing"
    assert main(["graph", "lenet", "--out", str(out), "--format", "text"]) == 0
    assert out.read_text() == to_text(model_loss("lenet"))


def test_color_by_and_collapse_repeated_reach_the_drawing(tmp_path):
    out = tmp_path / "mlp.dot"
    argv = ["graph", "mlp", "--out", str(out), "--color-by", "grad_norm", "--collapse-repeated"]
    assert main(argv) == 0
    text = out.read_text()  # MLP draws fresh weights, so compare what the options add
    assert "legend [" in text and "gradient norm" in text
    assert dot_graph(text)[1] == dot_graph(to_dot(model_loss("mlp"), collapse_repeated=True))[1]


def test_animate_needs_html_or_gif(tmp_path, capsys):
    assert main(["graph", "mlp", "--out", str(tmp_path / "g.svg"), "--animate"]) == 2
    assert "--animate writes html or gif" in capsys.readouterr().err
    assert main(["graph", "mlp", "--out", str(tmp_path / "g.png"), "--format", "gif"]) == 1
    assert "html, htm, gif" in capsys.readouterr().err
