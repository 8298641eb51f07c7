"""A laid-out scene as inline SVG, styled by CSS classes the pages' scripts can switch.

Every node is ``<g class="node kind-KIND" data-key="KEY" data-clusters="0 3">`` (the
module calls it sits in, outermost first), every edge ``<path class="edge"
data-from="KEY" data-to="KEY">``, every module call ``<g class="cluster"
data-cluster="N">``. Colours come from ``style.KIND_ATTRIBUTES``, the palette the
Graphviz drawings use.
"""

from __future__ import annotations

from html import escape

from graphkit.viz.layout import FACT_SIZE, LINE_GAP, PADDING_Y, TITLE_SIZE, Box, Layout
from graphkit.viz.modules import module_title
from graphkit.viz.scene import Scene
from graphkit.viz.style import CLUSTER_ATTRIBUTES, FONT, KIND_ATTRIBUTES, Kind

FACT_COLOUR = "#475569"


def stylesheet() -> str:
    """The CSS that colours nodes by kind, edges and module-call boxes."""
    rules = [
        f"svg.graph {{ font-family: {FONT}; }}",
        "svg.graph text { pointer-events: none; }",
        f".node text.fact {{ font-size: {FACT_SIZE}px; fill: {FACT_COLOUR}; }}",
        f".node text.title {{ font-size: {TITLE_SIZE}px; font-weight: bold; }}",
        ".node rect { stroke-width: 1.2; }",
        ".edge { fill: none; stroke: #64748b; stroke-width: 1.1; }",
        ".edge.dashed { stroke: #94a3b8; stroke-dasharray: 4 3; }",
        f".cluster rect {{ fill: #f8fafc; stroke: {CLUSTER_ATTRIBUTES['color']}; }}",
        f".cluster text {{ font-size: 10px; fill: {CLUSTER_ATTRIBUTES['fontcolor']}; }}",
    ]
    for kind, attributes in KIND_ATTRIBUTES.items():
        rule = f"fill: {attributes['fillcolor']}; stroke: {attributes['color']};"
        if "dashed" in attributes["style"]:
            rule += " stroke-dasharray: 4 3;"
        if "bold" in attributes["style"]:
            rule += " stroke-width: 2.2;"
        rules.append(f".kind-{kind.value} rect {{ {rule} }}")
        if "fontcolor" in attributes:
            rules.append(f".kind-{kind.value} text.title {{ fill: {attributes['fontcolor']}; }}")
    return "\n".join(rules)


def cluster_indexes(scene: Scene, layout: Layout) -> dict[int, int]:
    """``id(scope)`` -> the number of its box in ``layout.clusters``."""
    return {id(c.scope): i for i, c in enumerate(layout.clusters)}


def to_svg(scene: Scene, layout: Layout, extra: str = "") -> str:
    """The SVG text of the scene; ``extra`` is markup added on top (the player's notes)."""
    numbers = cluster_indexes(scene, layout)
    inside = [0] * len(layout.clusters)
    for node in scene.nodes:
        for scope in scene.chains(node.scope):
            inside[numbers[id(scope)]] += 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" '
        f'width="{layout.width:.0f}" height="{layout.height:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#64748b"/></marker></defs>',
        '<g class="clusters">',
    ]
    for i, c in enumerate(layout.clusters):
        path, module_class = module_title(c.scope)
        label = module_class if path in ("", module_class) else f"{path} {module_class}"
        parts.append(
            f'<g class="cluster" data-cluster="{i}" data-depth="{c.depth}">'
            f'<rect x="{c.x0:.1f}" y="{c.y0:.1f}" width="{c.x1 - c.x0:.1f}" '
            f'height="{c.y1 - c.y0:.1f}" rx="6"/>'
            f'<text x="{c.x0 + 6:.1f}" y="{c.y0 + 11:.1f}">{escape(label)}</text>'
            f'<text class="fold-note" x="{(c.x0 + c.x1) / 2:.1f}" y="{(c.y0 + c.y1) / 2 + 4:.1f}" '
            f'text-anchor="middle">{inside[i]} nodes folded: click to unfold</text></g>'
        )
    parts.append('</g><g class="edges">')
    boxes = layout.boxes
    for source, target, dashed in scene.edges:
        parts.append(
            f'<path class="edge{" dashed" if dashed else ""}" data-from="{source}" '
            f'data-to="{target}" d="{edge_path(boxes[source], boxes[target])}" '
            'marker-end="url(#arrow)"/>'
        )
    parts.append('</g><g class="nodes">')
    for node in scene.nodes:
        box = boxes[node.key]
        clusters = " ".join(str(numbers[id(s)]) for s in scene.chains(node.scope))
        radius = 7 if node.kind in (Kind.OP, Kind.MODULE) else 1
        parts.append(
            f'<g class="node kind-{node.kind.value}" id="node-{node.key}" '
            f'data-key="{node.key}" data-clusters="{clusters}">'
            f'<rect x="{box.x - box.w / 2:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" '
            f'height="{box.h:.1f}" rx="{radius}"/>'
            + "".join(_text_lines(node.title, node.facts, box))
            + "</g>"
        )
    parts.append("</g>")
    parts.append(extra)
    parts.append("</svg>")
    return "".join(parts)


def text_baselines(title: str | None, facts: list[str], box: Box) -> list[tuple[float, bool]]:
    """(baseline y, is the title) of each line of a node's text, top to bottom."""
    y = box.y + PADDING_Y
    lines = []
    if title:
        y += TITLE_SIZE
        lines.append((y - 2, True))
        y += LINE_GAP
    for _ in facts:
        y += FACT_SIZE
        lines.append((y - 1, False))
        y += LINE_GAP
    return lines


def _text_lines(title: str | None, facts: list[str], box: Box) -> list[str]:
    texts = ([title] if title else []) + facts
    return [
        f'<text class="{"title" if is_title else "fact"}" x="{box.x:.1f}" y="{y:.1f}" '
        f'text-anchor="middle">{escape(text)}</text>'
        for text, (y, is_title) in zip(texts, text_baselines(title, facts, box))
    ]


def edge_path(source: Box, target: Box) -> str:
    """A cubic curve from the bottom of ``source`` to the top of ``target``."""
    x0, y0 = source.x, source.bottom
    x1, y1 = target.x, target.y - 1
    bend = max(12.0, (y1 - y0) / 2)
    return (
        f"M{x0:.1f},{y0:.1f} C{x0:.1f},{y0 + bend:.1f} {x1:.1f},{y1 - bend:.1f} {x1:.1f},{y1:.1f}"
    )
