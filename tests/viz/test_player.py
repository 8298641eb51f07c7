"""gk.viz.animate: one frame per op in the engine's order, saved as HTML or GIF."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

import graphkit as gk
from graphkit.autograd import observe
from graphkit.cli.model_graphs import model_loss
from graphkit.viz import Backprop, animate
from graphkit.viz.page import HtmlPage


def frames_json(page: str) -> list[dict]:
    payload = re.search(r'id="graph-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(payload.replace("<\\/", "</"))["frames"]


def test_one_frame_per_op_in_the_engines_order():
    loss = model_loss("tinynet")
    ran = []
    with observe(lambda op, gy, grads: ran.append(op)):
        loss.backward(retain_graph=True)
    player = animate(loss)
    assert isinstance(player, Backprop)
    assert len(player) == len(ran) == 9
    keys = [player.scene.key(op) for op in ran]
    assert [f.op for f in player.frames] == keys
    assert [f["op"] for f in frames_json(player.to_html())] == keys


def test_frames_show_values_of_small_tensors_and_statistics_of_large_ones():
    loss = model_loss("tinynet")
    player = animate(loss)
    first = player.frames[0]
    assert first.heading == "step 1 of 9: backward of softmax_cross_entropy"
    assert first.lines[:2] == ("gradient of its output loss:", "  1.")
    linear = player.frames[1]
    text = "\n".join(linear.lines)
    assert "to W_fc:\n  (48, 10) float64\n  min " in text and "norm " in text
    bias = text.split("to b_fc:\n", 1)[1]
    assert bias.startswith("  [") and "min" not in bias  # 10 values, printed


def test_accumulation_is_visible_and_the_last_frame_completes_the_graph():
    x = gk.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    loss = (x * x + x.exp()).sum()
    player = animate(loss)
    key = player.scene.key(x)
    arrivals = [a for f in player.frames for a in f.arrivals if a[0] == key]
    assert arrivals == [(key, 1, 3), (key, 2, 3), (key, 3, 3)]
    lines = [line for f in player.frames for line in f.lines]
    assert "  gradient 2 of 3 here; the sum so far:" in lines
    complete = {k for f in player.frames for k in f.complete}
    tensors = {n.key for n in player.scene.nodes if n.key.startswith("t")}
    assert complete == tensors  # every tensor (all require grad) ends with its gradient
    ops = {n.key for n in player.scene.nodes if n.key.startswith("op")}
    assert {f.op for f in player.frames} == ops


def test_animate_leaves_grad_and_the_graph_alone():
    loss = model_loss("mlp")
    animate(loss)
    weight = loss.grad_fn.inputs[0].grad_fn.inputs[1]
    assert weight.grad is None
    loss.backward()  # the graph is still there
    assert weight.grad is not None


def test_a_freed_graph_says_what_to_do():
    loss = model_loss("mlp")
    loss.backward()
    with pytest.raises(RuntimeError, match=r"freed.*before backward\(\).*retain_graph=True"):
        animate(loss)


def test_a_tensor_without_a_graph_says_why():
    with pytest.raises(ValueError, match=r"no graph.*requires_grad=True"):
        animate(gk.Tensor([1.0, 2.0]).sum())
    with pytest.raises(ValueError, match="leaf"):
        animate(gk.Tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="Tensor"):
        animate(np.ones(2))


def test_save_html_is_self_contained(tmp_path):
    path = animate(model_loss("tinynet")).save(tmp_path / "player.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from the network
    assert "<svg" in page and "graphkitPlayer" in page
    assert len(page.encode()) < 5_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["player.html"]  # no temporary left


def test_save_gif_has_one_frame_per_op(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    loss = model_loss("tinynet")
    path = animate(loss).save(tmp_path / "player.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 9
        gif.seek(8)
        assert len(gif.convert("RGB").getcolors(1 << 16)) > 10  # something is drawn


def test_an_unsupported_suffix_names_the_formats(tmp_path):
    with pytest.raises(ValueError, match=r"html, htm, gif.*'\.png'"):
        animate(model_loss("mlp")).save(tmp_path / "player.png")
    assert not list(tmp_path.iterdir())


def test_jupyter_shows_it_inline():
    html = animate(model_loss("mlp"))._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "graphkitPlayer" in html
    assert isinstance(gk.viz.to_html(model_loss("mlp")), HtmlPage)


def test_readme_gif_up_to_date():
    """If this fails, regenerate the README's picture:
    python -m graphkit graph tinynet --out docs/images/tinynet_backprop.gif"""
    Image = pytest.importorskip("PIL.Image")
    committed = Path(__file__).resolve().parents[2] / "docs" / "images" / "tinynet_backprop.gif"
    player = animate(model_loss("tinynet"))
    with Image.open(committed) as gif, Image.open(io.BytesIO(player.to_gif())) as fresh:
        assert (gif.n_frames, gif.size) == (fresh.n_frames, fresh.size) == (len(player), gif.size)
