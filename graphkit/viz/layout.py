"""Where each box of a scene goes: a layered drawing from the inputs down to the output.

Graphviz lays out a drawing well but takes minutes for thousands of nodes, and the HTML
views must work without it; this is a small Sugiyama-style layout in linear passes:

1. ranks: an op sits one row below its lowest input; a leaf (input, parameter,
   constant) one row above its first user, so a weight sits beside the op it feeds;
2. order in a row: a few sweeps that sort each row by the mean position of the nodes it
   connects to in the rows above (going down) or below (going up);
3. x: each node pulled towards the mean of its neighbours, rows kept apart by a gap;
4. module calls: a box around the nodes of each call, nested calls inside.

Every pass is a loop over rows, never recursion, and the result depends only on the
scene, so the same graph is always drawn the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graphkit.scope import Scope
from graphkit.viz.scene import Scene

#: Text sizes in pixels, and the average width of a character at each (Helvetica-like).
TITLE_SIZE = 12
FACT_SIZE = 10
TITLE_CHAR = 7.0
FACT_CHAR = 5.8
LINE_GAP = 3
PADDING_X = 10
PADDING_Y = 6
NODE_GAP = 18  # between neighbours in a row
ROW_GAP = 30  # between rows
CLUSTER_PAD = 7  # a call's box around its nodes, per level of nesting inside it
CLUSTER_LABEL = 14  # room for a call's label above its nodes
SWEEPS = 4


@dataclass(frozen=True)
class Box:
    """A node's box: centre ``x``, top ``y``, width ``w``, height ``h`` in pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True)
class ClusterBox:
    """The box of one module call: corners, nesting depth (0 outermost), label."""

    scope: Scope
    x0: float
    y0: float
    x1: float
    y1: float
    depth: int


@dataclass
class Layout:
    """Boxes by node key, module-call boxes outermost first, the drawing's size."""

    boxes: dict[str, Box] = field(default_factory=dict)
    clusters: list[ClusterBox] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def node_size(title: str | None, facts: list[str]) -> tuple[float, float]:
    """(width, height) of a box holding a bold title over lines of small text."""
    widths = [len(title) * TITLE_CHAR] if title else []
    widths.extend(len(fact) * FACT_CHAR for fact in facts)
    lines = (TITLE_SIZE if title else 0) + len(facts) * FACT_SIZE
    gaps = max(0, (1 if title else 0) + len(facts) - 1) * LINE_GAP
    return max(widths, default=10.0) + 2 * PADDING_X, lines + gaps + 2 * PADDING_Y


def note_box(box: Box, lines: Sequence[str]) -> tuple[float, float, float, float]:
    """Where the player's note on a node goes: (left, top, width, height), at its right."""
    width = 8 + FACT_CHAR * max(len(line) for line in lines)
    return box.x + box.w / 2 + 4, box.y, width, 4 + (FACT_SIZE + 2) * len(lines)


def lay_out(scene: Scene, margin: float = 16.0) -> Layout:
    """Place every node of ``scene`` and box every module call (see the module's text)."""
    keys = [node.key for node in scene.nodes]
    if not keys:
        return Layout()
    sizes = {node.key: node_size(node.title, node.facts) for node in scene.nodes}
    preds: dict[str, list[str]] = {key: [] for key in keys}
    succs: dict[str, list[str]] = {key: [] for key in keys}
    for source, target, _ in scene.edges:
        preds[target].append(source)
        succs[source].append(target)
    ranks = _ranks(keys, preds, succs)
    rows = _ordered_rows(keys, ranks, preds, succs)
    xs = _x_positions(rows, sizes, preds, succs)
    gaps = _row_gaps(scene, rows)
    layout = Layout()
    top = margin
    for row, gap in zip(rows, gaps):
        top += gap
        height = max(sizes[key][1] for key in row)
        for key in row:
            w, h = sizes[key]
            layout.boxes[key] = Box(xs[key], top + (height - h) / 2, w, h)
        top += height
    _box_clusters(scene, layout)
    _shift_into_view(layout, margin)
    return layout


def _ranks(
    keys: list[str], preds: dict[str, list[str]], succs: dict[str, list[str]]
) -> dict[str, int]:
    """Row of each node; ``keys`` are in forward order, so inputs come first."""
    ranks: dict[str, int] = {}
    for key in keys:
        if preds[key]:
            ranks[key] = max((ranks[p] + 1 for p in preds[key] if p in ranks), default=1)
    for key in keys:
        if not preds[key]:  # a leaf: just above its first user
            ranks[key] = max(0, min((ranks[s] for s in succs[key]), default=1) - 1)
    return ranks


def _ordered_rows(
    keys: list[str],
    ranks: dict[str, int],
    preds: dict[str, list[str]],
    succs: dict[str, list[str]],
) -> list[list[str]]:
    """Each row's keys, left to right, after barycentre sweeps down and up."""
    rows: list[list[str]] = [[] for _ in range(max(ranks.values()) + 1)]
    for key in keys:
        rows[ranks[key]].append(key)
    rows = [row for row in rows if row]
    position = {key: i - (len(row) - 1) / 2 for row in rows for i, key in enumerate(row)}
    for _ in range(SWEEPS):
        for sweep, neighbours in ((rows[1:], preds), (rows[-2::-1], succs)):
            for row in sweep:
                centre = {
                    key: _mean([position[n] for n in neighbours[key]], position[key]) for key in row
                }
                row.sort(key=centre.__getitem__)
                for i, key in enumerate(row):
                    position[key] = i - (len(row) - 1) / 2
    return rows


def _x_positions(
    rows: list[list[str]],
    sizes: dict[str, tuple[float, float]],
    preds: dict[str, list[str]],
    succs: dict[str, list[str]],
) -> dict[str, float]:
    """Centre x of every node: pulled towards its neighbours, never overlapping."""
    xs: dict[str, float] = {}
    for row in rows:
        widths = [sizes[key][0] for key in row]
        left = -(sum(widths) + NODE_GAP * (len(row) - 1)) / 2
        for key, w in zip(row, widths):
            xs[key] = left + w / 2
            left += w + NODE_GAP
    for _ in range(SWEEPS):
        for sweep, neighbours in ((rows[1:], preds), (rows[-2::-1], succs)):
            for row in sweep:
                wanted = [_mean([xs[n] for n in neighbours[key]], xs[key]) for key in row]
                for key, x in zip(row, _separate(wanted, [sizes[k][0] for k in row])):
                    xs[key] = x
    return xs


def _separate(wanted: list[float], widths: list[float]) -> list[float]:
    """Positions as close to ``wanted`` as the widths allow, in the same order: pushed
    right from the left, pushed left from the right, the two averaged, pushed apart."""
    forward = list(wanted)
    for i in range(1, len(forward)):
        forward[i] = max(forward[i], forward[i - 1] + (widths[i - 1] + widths[i]) / 2 + NODE_GAP)
    backward = list(wanted)
    for i in range(len(backward) - 2, -1, -1):
        backward[i] = min(backward[i], backward[i + 1] - (widths[i + 1] + widths[i]) / 2 - NODE_GAP)
    xs = [(a + b) / 2 for a, b in zip(forward, backward)]
    for i in range(1, len(xs)):
        xs[i] = max(xs[i], xs[i - 1] + (widths[i - 1] + widths[i]) / 2 + NODE_GAP)
    return xs


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _row_gaps(scene: Scene, rows: list[list[str]]) -> list[float]:
    """The space above each row: ``ROW_GAP``, plus room for the label and padding of each
    module call whose box opens at that row and the padding of each that closes above."""
    row_of = {key: r for r, row in enumerate(rows) for key in row}
    extent: dict[int, list[int]] = {}  # id(scope) -> [first row, last row]
    for node in scene.nodes:
        r = row_of[node.key]
        for scope in scene.chains(node.scope):
            span = extent.setdefault(id(scope), [r, r])
            span[0], span[1] = min(span[0], r), max(span[1], r)
    gaps = [float(ROW_GAP)] * len(rows)
    gaps[0] = 0.0
    for first, last in extent.values():
        if first > 0:
            gaps[first] += CLUSTER_PAD + CLUSTER_LABEL
        if last + 1 < len(rows):
            gaps[last + 1] += CLUSTER_PAD
    return gaps


def _box_clusters(scene: Scene, layout: Layout) -> None:
    """A box around the nodes of every module call, wider for each call nested inside."""
    members: dict[int, list[str]] = {}
    scopes: dict[int, Scope] = {}
    depth: dict[int, int] = {}
    below: dict[int, int] = {}  # id(scope) -> levels of calls nested inside it
    for node in scene.nodes:
        chain = scene.chains(node.scope)
        for level, scope in enumerate(chain):
            members.setdefault(id(scope), []).append(node.key)
            scopes[id(scope)] = scope
            depth[id(scope)] = level
            below[id(scope)] = max(below.get(id(scope), 0), len(chain) - 1 - level)
    for key in sorted(members, key=depth.__getitem__):  # outermost first, then as met
        boxes = [layout.boxes[m] for m in members[key]]
        pad = CLUSTER_PAD * (1 + below[key])
        layout.clusters.append(
            ClusterBox(
                scopes[key],
                min(b.x - b.w / 2 for b in boxes) - pad,
                min(b.y for b in boxes) - (CLUSTER_PAD + CLUSTER_LABEL) * (1 + below[key]),
                max(b.x + b.w / 2 for b in boxes) + pad,
                max(b.bottom for b in boxes) + pad,
                depth[key],
            )
        )


def _shift_into_view(layout: Layout, margin: float) -> None:
    """Move everything so the drawing starts at (margin, margin); set its size."""
    left = min([b.x - b.w / 2 for b in layout.boxes.values()] + [c.x0 for c in layout.clusters])
    top = min([b.y for b in layout.boxes.values()] + [c.y0 for c in layout.clusters])
    dx, dy = margin - left, margin - top
    layout.boxes = {k: Box(b.x + dx, b.y + dy, b.w, b.h) for k, b in layout.boxes.items()}
    layout.clusters = [
        ClusterBox(c.scope, c.x0 + dx, c.y0 + dy, c.x1 + dx, c.y1 + dy, c.depth)
        for c in layout.clusters
    ]
    layout.width = (
        max([b.x + b.w / 2 for b in layout.boxes.values()] + [c.x1 for c in layout.clusters])
        + margin
    )
    layout.height = max([b.bottom for b in layout.boxes.values()] + [c.y1 for c in layout.clusters])
    layout.height += margin
