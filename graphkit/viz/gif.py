"""The backprop player's frames as an animated GIF, drawn with Pillow.

Each frame draws the same layout as the HTML player (``layout.lay_out``), in the same
colours (``style.KIND_ATTRIBUTES`` and ``style.PLAYER``), with the side panel's text on
the right. Pillow's own scalable font is used, so no system font is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphkit.viz.layout import FACT_SIZE, TITLE_SIZE, Box, Layout, note_box
from graphkit.viz.modules import module_title
from graphkit.viz.scene import Scene
from graphkit.viz.style import CLUSTER_ATTRIBUTES, KIND_ATTRIBUTES, PLAYER, Kind
from graphkit.viz.svg import text_baselines

if TYPE_CHECKING:
    from graphkit.viz.player import Frame

PANEL_WIDTH = 400
PANEL_LINE = 14
EDGE_COLOUR = "#64748b"
CURVE_POINTS = 12


def render_gif(
    scene: Scene,
    layout: Layout,
    frames: Sequence[Frame],
    title: str,
    durations: Sequence[int],
) -> bytes:
    """The GIF of ``frames`` (each shown ``durations[i]`` ms), looping forever."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as err:
        raise ImportError(
            "writing a GIF needs Pillow: pip install pillow (or pip install graphkit[viz])"
        ) from err
    fonts = {
        "title": ImageFont.load_default(size=TITLE_SIZE),
        "fact": ImageFont.load_default(size=FACT_SIZE),
        "panel": ImageFont.load_default(size=12),
        "heading": ImageFont.load_default(size=14),
    }
    longest = max(len(f.lines) for f in frames)
    width = int(layout.width) + PANEL_WIDTH
    height = int(max(layout.height, 70 + PANEL_LINE * longest))
    images = []
    done: set[str] = set()
    complete: set[str] = set()
    received: set[str] = set()
    for frame in frames:
        done.add(frame.op)
        complete.update(frame.complete)
        received.update(key for key, _, _ in frame.arrivals)
        image = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        state = _State(frame, done, complete, received)
        _draw_graph(draw, scene, layout, state, fonts)
        _draw_panel(draw, frame, title, int(layout.width), fonts)
        images.append(image.convert("P", palette=Image.Palette.ADAPTIVE, colors=128))
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=list(durations),
        loop=0,
    )
    return buffer.getvalue()


class _State:
    """Which mark each node and edge wears in one frame (as ``player.js`` decides)."""

    def __init__(self, frame: Frame, done: set[str], complete: set[str], received: set[str]):
        self.frame = frame
        self.done = done | complete
        self.ops_done = done
        self.partial = received - complete
        self.arriving = {key for key, _, _ in frame.arrivals}

    def node_colours(self, key: str, kind: Kind) -> tuple[str, str, int]:
        """(fill, outline, line width) of a node."""
        attributes = KIND_ATTRIBUTES[kind]
        fill, line, width = attributes["fillcolor"], attributes["color"], 1
        if key == self.frame.op:
            return PLAYER["current_fill"], PLAYER["current_line"], 3
        if key in self.arriving:
            return fill, PLAYER["arriving_line"], 3
        if key in self.partial:
            return fill, PLAYER["partial_line"], 2
        if key in self.done:
            return (PLAYER["done_fill"] if kind is Kind.OP else fill), PLAYER["done_line"], 2
        return fill, line, width

    def edge_colour(self, source: str, target: str) -> tuple[str, int]:
        if target == self.frame.op and source in self.arriving:
            return PLAYER["arriving_line"], 3
        if target in self.ops_done:
            return PLAYER["done_line"], 1
        return EDGE_COLOUR, 1


def _draw_graph(draw: Any, scene: Scene, layout: Layout, state: _State, fonts: dict) -> None:
    for c in layout.clusters:
        draw.rounded_rectangle(
            (c.x0, c.y0, c.x1, c.y1), radius=6, fill="#f8fafc", outline=CLUSTER_ATTRIBUTES["color"]
        )
        path, module_class = module_title(c.scope)
        label = module_class if path in ("", module_class) else f"{path} {module_class}"
        draw.text(
            (c.x0 + 6, c.y0 + 11),
            label,
            fill=CLUSTER_ATTRIBUTES["fontcolor"],
            font=fonts["fact"],
            anchor="ls",
        )
    boxes = layout.boxes
    for source, target, _ in scene.edges:
        colour, width = state.edge_colour(source, target)
        _draw_edge(draw, boxes[source], boxes[target], colour, width)
    for node in scene.nodes:
        box = boxes[node.key]
        fill, outline, width = state.node_colours(node.key, node.kind)
        corners = (box.x - box.w / 2, box.y, box.x + box.w / 2, box.bottom)
        radius = 7 if node.kind is Kind.OP else 1
        draw.rounded_rectangle(corners, radius=radius, fill=fill, outline=outline, width=width)
        texts = ([node.title] if node.title else []) + node.facts
        for text, (y, is_title) in zip(texts, text_baselines(node.title, node.facts, box)):
            font = fonts["title"] if is_title else fonts["fact"]
            colour = (
                KIND_ATTRIBUTES[node.kind].get("fontcolor", "#0f172a") if is_title else "#475569"
            )
            draw.text((box.x, y), text, fill=colour, font=font, anchor="ms")
    for key, lines in state.frame.badges:
        left, top, note_width, note_height = note_box(boxes[key], lines)
        draw.rounded_rectangle(
            (left, top, left + note_width, top + note_height),
            radius=3,
            fill=PLAYER["note_fill"],
            outline=PLAYER["arriving_line"],
        )
        for i, line in enumerate(lines):
            draw.text(
                (left + 4, top + 12 * (i + 1) - 1),
                line,
                fill=PLAYER["note_text"],
                font=fonts["fact"],
                anchor="ls",
            )


def _draw_edge(draw: Any, a: Box, b: Box, colour: str, width: int) -> None:
    """The cubic curve ``svg.edge_path`` describes, as a polyline, with an arrowhead."""
    x0, y0, x1, y1 = a.x, a.bottom, b.x, b.y - 1
    bend = max(12.0, (y1 - y0) / 2)
    points = []
    for i in range(CURVE_POINTS + 1):
        t = i / CURVE_POINTS
        u = 1 - t
        x = u**3 * x0 + 3 * u * u * t * x0 + 3 * u * t * t * x1 + t**3 * x1
        y = u**3 * y0 + 3 * u * u * t * (y0 + bend) + 3 * u * t * t * (y1 - bend) + t**3 * y1
        points.append((x, y))
    draw.line(points, fill=colour, width=width)
    draw.polygon([(x1, y1), (x1 - 4, y1 - 7), (x1 + 4, y1 - 7)], fill=colour)


def _draw_panel(draw: Any, frame: Frame, title: str, left: int, fonts: dict) -> None:
    draw.line([(left, 0), (left, 10_000)], fill="#e2e8f0", width=1)
    x = left + 14
    draw.text((x, 24), title, fill="#0f172a", font=fonts["heading"], anchor="ls")
    draw.text((x, 46), frame.heading, fill="#0f172a", font=fonts["panel"], anchor="ls")
    for i, line in enumerate(frame.lines):
        draw.text((x, 70 + PANEL_LINE * i), line, fill="#334155", font=fonts["fact"], anchor="ls")
