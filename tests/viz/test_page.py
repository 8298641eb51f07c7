"""gk.viz.to_html: a self-contained page with the facts of every node."""

from __future__ import annotations

import json
import re

import pytest

import graphkit as gk
from graphkit.cli.model_graphs import model_loss
from graphkit.viz import to_html


def page_data(page: str) -> dict:
    payload = re.search(r'id="graph-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(payload.replace("<\\/", "</"))


def test_every_node_has_its_facts_and_gradient():
    loss = model_loss("mlp")
    data = page_data(to_html(loss))
    weight = next(n for n in data["nodes"].values() if n["heading"] == "fc1.weight")
    facts = dict(weight["facts"])
    assert facts["shape"] == "(784, 100)" and facts["dtype"] == "float64"
    assert re.fullmatch(r"min \S+  mean \S+  max \S+  norm \S+", facts["value"])
    assert facts["gradient"].startswith("min ")
    assert facts["module"] == "fc1 (Linear)"
    x = next(n for n in data["nodes"].values() if n["heading"] == "x")
    assert dict(x["facts"])["gradient"] == "does not require grad"
    loss_node = next(n for n in data["nodes"].values() if n["heading"] == "loss")
    assert dict(loss_node["facts"])["gradients"] == "1."  # the seed: a small tensor's values


def test_the_page_is_self_contained_and_escaped(tmp_path):
    x = gk.Tensor([1.0], requires_grad=True, name="</script><b>x")
    page = to_html(x * 2, tmp_path / "g.html")
    assert (tmp_path / "g.html").read_text(encoding="utf-8") == page
    assert page.count("</script>") == 2  # the data and the code, nothing a name closed
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_clusters_are_listed_with_their_chains():
    data = page_data(to_html(model_loss("mlp")))
    assert [c["chain"] for c in data["clusters"]] == [[0], [0, 1], [0, 2], [0, 3]]


def test_bad_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"html, htm files.*'\.svg'"):
        to_html(model_loss("mlp"), tmp_path / "g.svg")
