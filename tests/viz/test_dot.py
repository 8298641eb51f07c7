"""gk.viz.to_dot: the DOT text of a graph, parsed back and checked node by node.

Speed: ``test_5000_ops_in_half_a_second`` times the DOT of a 5,001-op network (best of
three) and prints it; run ``python -m pytest tests/viz/test_dot.py -k 5000 -s`` to see
it. Measured: 0.11 s on an idle 2-core machine, 0.14-0.3 s with the machine loaded
(limit 0.5 s); 0.07 s with collapse_modules=True.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import graphkit as gk
from graphkit import nn
from graphkit.scope import module_scope
from graphkit.viz import to_dot
from graphkit.viz.style import KIND_ATTRIBUTES, Kind

NODE = re.compile(r"^\s*(\w+) \[label=<(.*)>, (shape=.*)\];$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


class Dot:
    """A DOT text from to_dot, parsed: nodes (label lines, attributes) and edges."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.nodes: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.edges: list[tuple[str, str]] = []
        self.dashed_edges: list[tuple[str, str]] = []
        for line in text.splitlines():
            if match := NODE.match(line):
                node_id, label, attributes = match.groups()
                lines = re.sub(r"<[^>]+>", "", label.replace("<br/>", "\n")).split("\n")
                self.nodes[node_id] = ([html.unescape(s) for s in lines], attrs(attributes))
            elif match := EDGE.match(line):
                edge = match.group(1), match.group(2)
                self.edges.append(edge)
                if match.group(3) and "dashed" in match.group(3):
                    self.dashed_edges.append(edge)

    def labels(self, node_id: str) -> list[str]:
        return self.nodes[node_id][0]

    def kind(self, node_id: str) -> Kind:
        """The kind whose style the node wears."""
        attributes = self.nodes[node_id][1]
        return next(k for k, style in KIND_ATTRIBUTES.items() if style == attributes)

    def find(self, first_line: str) -> str:
        """The one node whose label starts with ``first_line``."""
        (node_id,) = [n for n, (lines, _) in self.nodes.items() if lines[0] == first_line]
        return node_id

    def of_kind(self, kind: Kind) -> list[str]:
        return [n for n in self.nodes if self.kind(n) is kind]

    def clusters(self) -> list[str]:
        return re.findall(r"label=<(.*?)>;", self.text)


def attrs(text: str) -> dict[str, str]:
    return dict(ATTRIBUTE.findall(text))


def dense_relu():
    """y = relu(x @ W + b): leaves x (input), W and b (parameters)."""
    rng = np.random.default_rng(0)
    x = gk.Tensor(rng.normal(size=(2, 3)), name="x")
    W = gk.Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    b = gk.Tensor(rng.normal(size=(4,)), requires_grad=True, name="b")
    return x, W, b, (x @ W + b).relu()


class Net:
    """Stand-ins for nn modules: the drawing only reads the class name of a scope."""


class Linear:
    pass


class ReLU:
    pass


def scoped_mlp():
    """A two-layer network whose ops run in fake module calls net / fc1, act, fc2."""
    rng = np.random.default_rng(1)
    x = gk.Tensor(rng.normal(size=(4, 3)), name="x")
    W1 = gk.Tensor(rng.normal(size=(3, 5)), requires_grad=True, name="fc1.weight")
    b1 = gk.Tensor(rng.normal(size=(5,)), requires_grad=True, name="fc1.bias")
    W2 = gk.Tensor(rng.normal(size=(5, 2)), requires_grad=True, name="fc2.weight")
    with module_scope(Net(), "net"):
        with module_scope(Linear(), "fc1"):
            h = x @ W1 + b1
        with module_scope(ReLU(), "act"):
            h = h.relu()
        with module_scope(Linear(), "fc2"):
            y = h @ W2
    return (y**2).mean()


def wide_network(blocks: int) -> gk.Tensor:
    """``blocks`` blocks of 4 ops (matmul, add, tanh, mul), each in its module call."""
    rng = np.random.default_rng(2)
    h = gk.Tensor(rng.normal(size=(8, 16)), name="x")
    with module_scope(Net(), "net"):
        for i in range(blocks):
            W = gk.Tensor(rng.normal(size=(16, 16)) * 0.1, requires_grad=True, name=f"{i}.weight")
            b = gk.Tensor(np.zeros(16), requires_grad=True, name=f"{i}.bias")
            with module_scope(Linear(), str(i)):
                h = (h @ W + b).tanh() * 0.5
    return h.sum()


# ----- the textbook graph ------------------------------------------------------------
def test_data_and_compute_nodes_alternate():
    *_, y = dense_relu()
    dot = Dot(to_dot(y))
    assert len(dot.nodes) == 9  # x W b, matmul add relu, 2 intermediates, the output
    assert len(dot.edges) == 8
    ops = dot.of_kind(Kind.OP)
    assert [dot.labels(n) for n in ops] == [["matmul"], ["add"], ["relu"]]
    for source, target in dot.edges:  # every edge joins a data node and a compute node
        assert source.startswith("op") != target.startswith("op")


def test_leaves_are_labelled_and_styled_by_role():
    *_, y = dense_relu()
    dot = Dot(to_dot(y))
    x, W, b, out = dot.find("x"), dot.find("W"), dot.find("b"), dot.find("output")
    assert dot.labels(x) == ["x", "(2, 3) float64"]
    assert dot.labels(W) == ["W", "(3, 4) float64"]
    assert dot.labels(b) == ["b", "(4,) float64"]
    assert dot.labels(out) == ["output", "(2, 4) float64"]
    assert dot.kind(x) is Kind.INPUT
    assert dot.kind(W) is dot.kind(b) is Kind.PARAMETER
    assert dot.kind(out) is Kind.OUTPUT
    assert len(dot.of_kind(Kind.INTERMEDIATE)) == 2
    assert dot.nodes[dot.of_kind(Kind.OP)[0]][1]["style"] == "rounded,filled"


def test_edges_follow_the_data():
    *_, y = dense_relu()
    dot = Dot(to_dot(y))
    matmul, add, relu = dot.of_kind(Kind.OP)
    assert (dot.find("x"), matmul) in dot.edges
    assert (dot.find("W"), matmul) in dot.edges
    assert (dot.find("b"), add) in dot.edges
    assert (relu, dot.find("output")) in dot.edges
    (product,) = [t for s, t in dot.edges if s == matmul]
    assert (product, add) in dot.edges


def test_raw_constants_get_their_own_dashed_node():
    x = gk.Tensor([1.0, 2.0], requires_grad=True, name="x")
    dot = Dot(to_dot(x**2 + x**2))
    constants = dot.of_kind(Kind.CONSTANT)
    assert [dot.labels(c) for c in constants] == [["2"], ["2"]]  # one node per use
    assert sorted(dot.dashed_edges) == sorted((c, t) for c, t in dot.edges if c in constants)


def test_a_missing_optional_input_draws_nothing():
    x = gk.Tensor(np.ones((1, 1, 4, 4)), name="x")
    W = gk.Tensor(np.ones((2, 1, 3, 3)), requires_grad=True, name="W")
    dot = Dot(to_dot(gk.F.conv2d(x, W)))  # no bias: conv2d's third input is None
    assert len(dot.nodes) == 4
    assert not dot.of_kind(Kind.CONSTANT)


def test_op_arguments_label_the_op_and_long_ones_are_cut():
    x = gk.Tensor(np.ones((3, 4)), requires_grad=True)
    y = x.sum(axis=1, keepdims=True).reshape((1,) * 20 + (3,))[..., [0, 2]]
    dot = Dot(to_dot(y))
    summed, reshaped, indexed = (dot.labels(n)[0] for n in dot.of_kind(Kind.OP))
    assert summed == "sum axis=1 keepdims=True"
    assert reshaped.startswith("reshape shape=(1, 1, ")
    assert reshaped.endswith("...")
    assert len(reshaped) == len("reshape ") + 40
    assert indexed == y.grad_fn.label()  # an op's own label() is used as it is


def test_names_are_escaped():
    x = gk.Tensor([1.0], requires_grad=True, name='a<b> & "c"')
    dot = Dot(to_dot(x * 3))
    assert dot.labels(dot.find('a<b> & "c"'))[0] == 'a<b> & "c"'


def test_several_outputs_share_their_history():
    *_, y = dense_relu()
    dot = Dot(to_dot([y.sum(), y.mean()]))
    assert dot.find("output 0") != dot.find("output 1")
    assert len(dot.of_kind(Kind.OP)) == 5  # matmul add relu drawn once, then sum and mean


def test_only_tensors_can_be_drawn():
    with pytest.raises(TypeError, match="Tensor"):
        to_dot(np.ones(3))
    with pytest.raises(TypeError, match="Tensor"):
        to_dot([])


def test_rankdir():
    *_, y = dense_relu()
    assert 'rankdir="LR"' in to_dot(y, rankdir="LR")
    assert 'rankdir="TB"' in to_dot(y)
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(y, rankdir="sideways")


# ----- determinism -------------------------------------------------------------------
def test_the_same_graph_gives_byte_identical_text():
    first = to_dot(dense_relu()[-1], show_grad=True, group_modules=True)
    second = to_dot(dense_relu()[-1], show_grad=True, group_modules=True)
    assert first == second
    assert to_dot(scoped_mlp(), group_modules=True) == to_dot(scoped_mlp(), group_modules=True)
    assert to_dot(scoped_mlp(), collapse_modules=True) == to_dot(
        scoped_mlp(), collapse_modules=True
    )
    assert "0x" not in first  # no memory addresses


def test_node_ids_follow_forward_order():
    *_, y = dense_relu()
    dot = Dot(to_dot(y))
    assert [dot.find(name) for name in ("x", "W", "b", "output")] == ["t0", "t1", "t3", "t5"]
    assert dot.of_kind(Kind.OP) == ["op0", "op1", "op2"]


# ----- gradients, values, NaN --------------------------------------------------------
def test_show_grad_adds_shape_and_norm():
    _, W, _, y = dense_relu()
    y.sum().backward()
    dot = Dot(to_dot(y, show_grad=True))
    norm = np.linalg.norm(W.grad.data)
    assert dot.labels(dot.find("W"))[-1] == f"grad (3, 4) norm={norm:.4g}"
    assert dot.labels(dot.find("x")) == ["x", "(2, 3) float64"]  # no grad, nothing added
    assert "grad" not in to_dot(y)


def test_show_values_prints_small_tensors_only():
    x = gk.Tensor([1.5, -2.0], requires_grad=True, name="x")
    big = gk.Tensor(np.zeros(100), requires_grad=True, name="big")
    dot = Dot(to_dot((x * 2).sum() + big.sum(), show_values=True))
    assert dot.labels(dot.find("x")) == ["x", "(2,) float64", "[ 1.5, -2. ]"]
    assert dot.labels(dot.find("big")) == ["big", "(100,) float64"]
    dot = Dot(to_dot(x * 2, show_values=True, max_value_elements=1))
    assert dot.labels(dot.find("x")) == ["x", "(2,) float64"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_values_are_red(bad):
    x = gk.Tensor([1.0, bad], requires_grad=True, name="x")
    w = gk.Tensor([1.0, 2.0], requires_grad=True, name="w")
    dot = Dot(to_dot(x * w))
    assert dot.kind(dot.find("x")) is Kind.NONFINITE
    assert dot.kind(dot.find("w")) is Kind.PARAMETER
    assert dot.kind(dot.find("output")) is Kind.NONFINITE  # nan * 2, inf * 2
    assert KIND_ATTRIBUTES[Kind.NONFINITE]["fillcolor"] == "#fee2e2"


def test_a_nonfinite_gradient_is_red():
    x = gk.Tensor([0.0, 1.0], requires_grad=True, name="x")
    y = x.sqrt()  # d sqrt(x)/dx = inf at 0
    with np.errstate(divide="ignore"):
        y.sum().backward(retain_graph=True)
    dot = Dot(to_dot(y))
    assert dot.kind(dot.find("x")) is Kind.NONFINITE


# ----- modules -----------------------------------------------------------------------
def test_group_modules_nests_a_cluster_per_call():
    text = to_dot(scoped_mlp(), group_modules=True)
    assert Dot(text).clusters() == [
        "<b>net</b> Net",
        "<b>fc1</b> Linear",
        "<b>act</b> ReLU",
        "<b>fc2</b> Linear",
    ]
    net = text.index("subgraph cluster_0")
    fc1 = text.index("subgraph cluster_1")
    assert text.index("fc1.weight") > fc1 > net  # a parameter sits in its module's box
    # fc1 closes before act opens: siblings, both inside net
    assert text.index("}", fc1) < text.index("subgraph cluster_2")
    assert "cluster" not in to_dot(scoped_mlp())


def test_collapse_modules_draws_one_node_per_call():
    dot = Dot(to_dot(scoped_mlp(), collapse_modules=True))
    modules = dot.of_kind(Kind.MODULE)
    assert [dot.labels(m) for m in modules] == [
        ["fc1", "Linear", "2 ops, 20 params"],
        ["act", "ReLU", "1 op"],
        ["fc2", "Linear", "1 op, 10 params"],
    ]
    # x, fc1, h1, act, h2, fc2, y, then 2 ** (constant), pow, squares, mean, output
    assert len(dot.nodes) == 12
    assert len(Dot(to_dot(scoped_mlp())).nodes) == 17
    assert "fc1.weight" not in dot.text
    assert [dot.labels(n)[0] for n in dot.of_kind(Kind.OP)] == ["pow", "mean"]


def test_collapse_scales_a_5000_op_network_down():
    loss = wide_network(1250)
    dot = Dot(to_dot(loss, collapse_modules=True))
    assert len(dot.of_kind(Kind.MODULE)) == 1250
    # x, 1250 modules with their 1250 outputs, sum, the output
    assert len(dot.nodes) == 2 + 2 * 1250 + 1


def test_a_collapsed_call_hiding_a_nan_is_red():
    w = gk.Tensor([1.0, np.nan], requires_grad=True, name="w")
    x = gk.Tensor([1.0, 2.0], name="x")
    with module_scope(Net(), "net"):
        with module_scope(Linear(), "a"):
            y = x * w
        with module_scope(Linear(), "b"):
            z = y * 2
    dot = Dot(to_dot(z, collapse_modules=True))
    assert [dot.labels(n)[0] for n in ("m0", "m1")] == ["a", "b"]
    assert [dot.kind(n) for n in ("m0", "m1")] == [Kind.NONFINITE, Kind.MODULE]
    assert dot.kind(dot.find("output")) is Kind.NONFINITE


def test_collapse_without_modules_changes_nothing():
    *_, y = dense_relu()
    assert to_dot(y, collapse_modules=True) == to_dot(y)


def test_collapse_keeps_tensors_that_leave_a_call():
    x = gk.Tensor([1.0, 2.0], requires_grad=True, name="x")
    with module_scope(Net(), "net"):
        with module_scope(Linear(), "a"):
            h = x * 2
            inner = h + 1
        with module_scope(Linear(), "b"):
            y = inner * h  # h leaves "a" as well as inner
    dot = Dot(to_dot(y, collapse_modules=True))
    a, b = dot.of_kind(Kind.MODULE)
    between = [t for s, t in dot.edges if s == a]
    assert len(between) == 2
    assert all((t, b) in dot.edges for t in between)


def test_a_real_sequential():
    gk.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, pad=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(96, 10)
    )
    x = gk.Tensor(np.random.rand(2, 3, 8, 8), name="x")
    loss = gk.F.softmax_cross_entropy(net(x), np.array([1, 2]))
    assert Dot(to_dot(loss, group_modules=True)).clusters() == [
        "<b>Sequential</b>",
        "<b>0</b> Conv2d",
        "<b>1</b> ReLU",
        "<b>2</b> MaxPool2d",
        "<b>3</b> Flatten",
        "<b>4</b> Linear",
    ]
    dot = Dot(to_dot(loss, collapse_modules=True))
    assert [dot.labels(m)[:2] for m in dot.of_kind(Kind.MODULE)] == [
        ["0", "Conv2d"],
        ["1", "ReLU"],
        ["2", "MaxPool2d"],
        ["3", "Flatten"],
        ["4", "Linear"],
    ]
    # x, 5 modules and their 5 outputs, the labels, the loss op, the loss
    assert len(dot.nodes) == 14
    assert len(Dot(to_dot(loss)).nodes) == 18  # 6 ops, 11 tensors, the labels
    assert [dot.labels(n) for n in dot.of_kind(Kind.OP)] == [["softmax_cross_entropy"]]
    plain = Dot(to_dot(loss))
    assert plain.labels(plain.of_kind(Kind.OP)[0]) == ["conv2d pad=1 stride=1"]


# ----- the backward graph ------------------------------------------------------------
def test_backward_draws_the_gradient_computation():
    _, W, b, y = dense_relu()
    loss = (y**2).mean()
    dot = Dot(to_dot(loss, backward=True))
    gradients = dot.of_kind(Kind.OUTPUT)
    assert sorted(dot.labels(g)[0] for g in gradients) == ["grad W", "grad b"]
    assert dot.labels(dot.find("grad W"))[1] == "(3, 4) float64"
    assert len(dot.of_kind(Kind.OP)) > len(Dot(to_dot(loss)).of_kind(Kind.OP))
    assert W.grad is None and b.grad is None  # drawing does not touch .grad
    loss.backward()  # and the forward graph is still usable


def test_backward_needs_a_differentiable_output():
    with pytest.raises(ValueError, match="requires grad"):
        to_dot(gk.Tensor([1.0]) * 2, backward=True)


# ----- size ---------------------------------------------------------------------------
def test_100000_node_chain_is_walked_without_recursion():
    h = x = gk.Tensor([1.0], requires_grad=True)
    for _ in range(50_000):
        h = h * 1.0
    dot = to_dot(h)
    assert dot.count(" -> ") == 150_000  # input, constant and output edge of every op
    assert dot.index("label=<<b>1</b>>") < dot.index("op49999 [")
    assert x.grad is None


def test_5000_ops_give_one_node_per_op_and_tensor():
    """The time this takes is measured by ``python -m benchmarks --only VIZ``."""
    loss = wide_network(1250)  # 5,001 ops
    dot = to_dot(loss)
    assert dot.count(" [label=") >= 5_001 * 2


# ----- heat maps and anomalies ------------------------------------------------------
def fill_of(dot: Dot, node_id: str) -> str:
    return dot.nodes[node_id][1]["fillcolor"]


@pytest.mark.parametrize("color_by", ["grad_norm", "value_norm"])
def test_color_by_shades_tensors_on_a_log_scale_with_a_legend(color_by):
    from graphkit.viz.colors import PALETTE

    x = gk.Tensor([1e-3, 1e-3], requires_grad=True, name="x")
    y = gk.Tensor([10.0, 10.0], requires_grad=True, name="y")
    loss = (x * y).sum()
    loss.name = "loss"
    text = to_dot(loss, color_by=color_by)
    dot = Dot(text)
    assert "legend [shape=\"plaintext\"" in text and "(log scale)" in text
    low, high = ("y", "x") if color_by == "grad_norm" else ("x", "y")
    assert fill_of(dot, dot.find(low)) == PALETTE[0]
    assert fill_of(dot, dot.find(high)) in PALETTE[-2:]
    facts = dot.labels(dot.find("x"))
    assert any(line.startswith(("gradient norm", "value norm")) for line in facts)


def test_color_by_grad_norm_reads_grad_once_the_graph_is_freed():
    x = gk.Tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * 3).sum()
    loss.backward()
    dot = Dot(to_dot(loss, color_by="grad_norm"))
    assert "gradient norm 4.24" in dot.labels(dot.find("x"))
    assert dot.nodes[dot.find("output")][1]["fillcolor"] == "white"  # no .grad kept


def test_color_by_must_be_known():
    with pytest.raises(ValueError, match="grad_norm, value_norm"):
        to_dot(dense_relu()[-1], color_by="norm")


def anomaly_in_backward(x):
    """The AnomalyError that backward raises for sqrt at 0, and the output it ran from."""
    with gk.detect_anomaly():
        rooted = x.sqrt()
        out = (rooted * 2).sum() + x.sum()
        with pytest.raises(gk.AnomalyError) as caught:
            out.backward()
    return caught.value, out


def test_anomaly_marks_the_culprit_and_its_path_to_the_output():
    x = gk.Tensor([0.0, 2.0], requires_grad=True, name="x")
    error, out = anomaly_in_backward(x)
    assert error.op.name == "sqrt"
    dot = Dot(to_dot(out, anomaly=error))
    (sqrt_node,) = [n for n in dot.nodes if dot.labels(n)[0] == "sqrt"]
    assert dot.nodes[sqrt_node][1]["fillcolor"] == KIND_ATTRIBUTES[Kind.CULPRIT]["fillcolor"]
    note, site = dot.labels(sqrt_node)[1:3]
    assert str(error).startswith(note.removesuffix("..."))
    assert site == f"at test_dot.py:{error.op.site.rsplit(':', 1)[1]}"
    assert "test_dot.py" in error.op.site  # the line of this file that called sqrt
    marked = [e for e in dot.text.splitlines() if "->" in e and 'penwidth="2"' in e]
    assert len(marked) == 7  # sqrt -> t -> mul -> t -> sum -> t -> add -> output
    assert not any(f"{dot.find('x')} ->" in e for e in marked)  # x is upstream of it


def test_anomaly_in_forward_draws_from_the_tensor_it_keeps():
    x = gk.Tensor([-1.0, 2.0], requires_grad=True, name="x")
    with gk.detect_anomaly(), pytest.raises(gk.AnomalyError) as caught:
        (x * 3).log()
    error = caught.value
    dot = Dot(to_dot(error.tensor, anomaly=error))
    (log_node,) = [n for n in dot.nodes if dot.labels(n)[0] == "log"]
    assert dot.nodes[log_node][1]["fillcolor"] == KIND_ATTRIBUTES[Kind.CULPRIT]["fillcolor"]
    assert "test_dot.py" in str(error)  # the line of this file that called log


def test_anomaly_from_another_graph_is_refused():
    error, _ = anomaly_in_backward(gk.Tensor([0.0], requires_grad=True))
    with pytest.raises(ValueError, match="not in the graph"):
        to_dot(dense_relu()[-1], anomaly=error)
    with pytest.raises(TypeError, match="AnomalyError"):
        to_dot(dense_relu()[-1], anomaly="log")
