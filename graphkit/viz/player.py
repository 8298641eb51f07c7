"""``animate``: the backward pass step by step, as an HTML player or an animated GIF.

``animate(loss)`` runs the engine's backward pass on ``loss``'s graph under
``autograd.observe`` and keeps one frame per op, in the order the engine ran them. A
frame shows the op whose backward runs, the gradient of its output, and the gradient
arriving at each of its inputs (the values of a small tensor, else its shape and
min/mean/max/norm); a tensor used several times shows each gradient arriving and the
sum so far (``2 of 3``). Ops already run and tensors whose gradient is complete are
marked, so the last frame is the completed backward pass.

The pass runs through ``gk.grad(..., retain_graph=True)``: ``.grad`` is not touched and
the graph is kept, so ``loss.backward()`` still works afterwards, and gives the same
gradients the player shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from graphkit.tensor import Tensor
from graphkit.viz.labels import norm
from graphkit.viz.layout import Box, Layout, lay_out, note_box
from graphkit.viz.page import check_suffix, html_document, inline_frame
from graphkit.viz.record import Step, check_recorded, record_backward
from graphkit.viz.render import write_atomically
from graphkit.viz.scene import Scene, build_scene
from graphkit.viz.stats import describe
from graphkit.viz.style import PLAYER
from graphkit.viz.svg import to_svg
from graphkit.viz.walk import output_of

#: What ``Backprop.save`` writes, by suffix.
PLAYER_SUFFIXES = (".html", ".htm", ".gif")
#: Milliseconds a frame shows while playing (the GIF holds the last one longer).
FRAME_MS = 1200
LAST_FRAME_MS = 3000


@dataclass(frozen=True)
class Frame:
    """One op's backward, as the player shows it.

    Attributes:
        op: the key of the op's node (``op3``); ``output`` that of its output.
        heading: ``backward of linear (fc2)``.
        lines: the side panel's text: the output's gradient, then each arrival.
        arrivals: (tensor key, this gradient's number, how many the tensor expects).
        complete: keys of the tensors whose gradient is complete from this frame on.
    """

    op: str
    output: str
    heading: str
    lines: tuple[str, ...]
    arrivals: tuple[tuple[str, int, int], ...]
    complete: tuple[str, ...]
    badges: tuple[tuple[str, tuple[str, ...]], ...]  # tensor key -> its note's lines


class Backprop:
    """The backward pass of one output, frame by frame (see ``gk.viz.animate``).

    ``len(player)`` is the number of frames, one per op the engine ran;
    ``player.frames`` are the frames; ``save("x.html")`` writes the player,
    ``save("x.gif")`` an animated GIF; in Jupyter the player shows inline.
    """

    def __init__(self, scene: Scene, layout: Layout, frames: list[Frame], title: str) -> None:
        self.scene = scene
        self.layout = layout
        self.frames = frames
        self.title = title

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<Backprop of {self.title}: {len(self)} frames>"

    def to_html(self) -> str:
        """The self-contained HTML player: play, pause, step, a slider, arrow keys."""
        data = {
            "frames": [
                {
                    "op": f.op,
                    "heading": escape(f.heading),
                    "text": escape("\n".join(f.lines)),
                    "arrivals": [list(a) for a in f.arrivals],
                    "complete": list(f.complete),
                    "badges": _badges_svg(f, self.layout.boxes),
                }
                for f in self.frames
            ],
            "interval": FRAME_MS,
        }
        header = (
            f"<h1>{escape(self.title)}</h1>"
            '<button id="first" title="first frame (Home)">&laquo;</button>'
            '<button id="back" title="step back (left arrow)">&#x25C0; step</button>'
            '<button id="play" title="play / pause (space)">play</button>'
            '<button id="forward" title="step forward (right arrow)">step &#x25B6;</button>'
            '<button id="last" title="last frame (End)">&raquo;</button>'
            f'<input id="slider" type="range" min="0" max="{len(self) - 1}" value="0">'
            f'<span id="counter">step 1 of {len(self)}</span>'
        )
        aside = '<aside id="panel"><h2 id="heading"></h2><pre id="text"></pre></aside>'
        svg = to_svg(self.scene, self.layout, extra='<g id="overlay"></g>')
        return html_document(
            self.title, header, svg, aside, data, ["panzoom.js", "player.js"], player_stylesheet()
        )

    def to_gif(self) -> bytes:
        """The frames as an animated GIF (needs Pillow)."""
        from graphkit.viz.gif import render_gif

        durations = [FRAME_MS] * (len(self) - 1) + [LAST_FRAME_MS]
        return render_gif(self.scene, self.layout, self.frames, self.title, durations)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the player (``.html``) or an animated GIF (``.gif``), whole or not at all."""
        check_suffix(path, PLAYER_SUFFIXES, "Backprop.save")
        path = Path(path)
        data = self.to_gif() if path.suffix.lower() == ".gif" else self.to_html().encode("utf-8")
        return write_atomically(path, data)

    def _repr_html_(self) -> str:
        return inline_frame(self.to_html(), height=max(500, min(900, int(self.layout.height))))


def animate(output: Tensor, grad: Any = None) -> Backprop:
    """The backward pass from ``output`` step by step: a ``Backprop`` player.

    Runs the engine's backward pass itself (``gk.grad`` with ``retain_graph=True``, so
    ``.grad`` is untouched and the graph survives) and records every op's backward in
    the engine's order. ``grad`` seeds a non-scalar output, as in ``backward``.

    Raises:
        ValueError: ``output`` has no graph (a leaf, or computed without grad).
        RuntimeError: its graph was freed by a ``backward()`` without
            ``retain_graph=True``: call ``animate`` before ``backward``.
    """
    check_recorded(output, "gk.viz.animate")
    scene = build_scene(output)
    recording = record_backward(output, grad)
    layout = lay_out(scene)
    titles = {node.key: node.title or node.key for node in scene.nodes}
    total = len(recording.steps)
    frames = [
        _frame(step, i, total, scene, titles, first=i == 0)
        for i, step in enumerate(recording.steps)
    ]
    return Backprop(scene, layout, frames, f"backprop through {titles[scene.key(output)]}")


def _frame(
    step: Step, index: int, total: int, scene: Scene, titles: dict[str, str], first: bool
) -> Frame:
    op = step.op
    y = output_of(op)
    where = f" in {op.scope.path}" if op.scope is not None else ""
    heading = f"step {index + 1} of {total}: backward of {op.name}{where}"
    output_key = scene.key(y)
    lines = [f"gradient of its output {titles[output_key]}:"]
    lines.extend("  " + line for line in describe(step.output_gradient))
    arrivals, complete, badges = [], [output_key] if first else [], []
    for arrival in step.arrivals:
        key = scene.key(arrival.tensor)
        arrivals.append((key, arrival.count, arrival.expected))
        lines.append(f"to {titles[key]}:")
        lines.extend("  " + line for line in describe(arrival.gradient))
        note = [f"grad {arrival.count}/{arrival.expected}" if arrival.expected > 1 else "grad"]
        if arrival.expected > 1:
            lines.append(f"  gradient {arrival.count} of {arrival.expected} here; the sum so far:")
            lines.extend("    " + line for line in describe(arrival.total))
        note.append(f"norm {norm(arrival.total):.4g}")
        badges.append((key, tuple(note)))
        if arrival.count >= arrival.expected:
            complete.append(key)
    if not step.arrivals:
        lines.append("no input needs a gradient")
    return Frame(
        op=scene.key(op),
        output=output_key,
        heading=heading,
        lines=tuple(lines),
        arrivals=tuple(arrivals),
        complete=tuple(complete),
        badges=tuple(badges),
    )


def _badges_svg(frame: Frame, boxes: dict[str, Box]) -> str:
    parts = []
    for key, lines in frame.badges:
        left, top, width, height = note_box(boxes[key], lines)
        parts.append(
            f'<g class="badge"><rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" rx="3"/>'
            + "".join(
                f'<text x="{left + 4:.1f}" y="{top + 12 * (i + 1) - 1:.1f}">{escape(line)}</text>'
                for i, line in enumerate(lines)
            )
            + "</g>"
        )
    return "".join(parts)


def player_stylesheet() -> str:
    """The CSS of the player's marks, in ``style.PLAYER``'s colours."""
    c = PLAYER
    return "\n".join(
        [
            f"g.node.done rect {{ stroke: {c['done_line']}; stroke-width: 2.2; }}",
            f"g.node.kind-op.done rect {{ fill: {c['done_fill']}; }}",
            f"g.node.partial rect {{ stroke: {c['partial_line']}; stroke-dasharray: 5 2; "
            "stroke-width: 2.2; }",
            f"g.node.current.done rect {{ fill: {c['current_fill']}; "
            f"stroke: {c['current_line']}; stroke-width: 3; }}",
            f"g.node.arriving rect {{ stroke: {c['arriving_line']}; stroke-width: 3; }}",
            f"path.edge.done {{ stroke: {c['done_line']}; }}",
            f"path.edge.flowing {{ stroke: {c['arriving_line']}; stroke-width: 3; }}",
            f"g.badge rect {{ fill: {c['note_fill']}; stroke: {c['arriving_line']}; }}",
            f"g.badge text {{ font-size: 10px; fill: {c['note_text']}; }}",
        ]
    )
