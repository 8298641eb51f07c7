"""``python -m graphkit graph MODEL --out FILE``: draw one forward+loss pass of a model.

Formats: svg, png, pdf, dot (Graphviz), html (the interactive page, or with ``--animate``
the backprop player), gif (the backprop player as an animated GIF), text (the listing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from graphkit.cli.arguments import positive_int
from graphkit.cli.model_graphs import DEFAULT_BATCH, MODEL_NAMES, model_loss
from graphkit.viz import FORMATS, animate, render, to_html, to_text
from graphkit.viz.render import write_atomically

#: Every format the command writes: Graphviz's, then graphkit's own.
GRAPH_FORMATS = (*FORMATS, "html", "gif", "text")
#: Formats named by a suffix other than their name.
SUFFIX_FORMATS = {"htm": "html", "txt": "text"}


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``graph`` subcommand on ``subparsers`` (from ``add_subparsers``)."""
    parser = subparsers.add_parser(
        "graph",
        help="draw the computational graph of a model",
        description="Draw the computational graph of one forward and loss pass of a model "
        "from models/ on a random batch.",
    )
    parser.add_argument("model", choices=MODEL_NAMES, help="the model to draw")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="file to write")
    parser.add_argument(
        "--format",
        choices=GRAPH_FORMATS,
        help="file format (default: FILE's suffix if it is one of these, .htm and .txt "
        "included, else svg); gif is the backprop player",
    )
    parser.add_argument(
        "--animate",
        action="store_true",
        help="write the backprop player, one frame per op's backward (html or gif)",
    )
    parser.add_argument(
        "--color-by",
        choices=("grad_norm", "value_norm"),
        help="shade tensors by the norm of their gradient or value (Graphviz formats)",
    )
    parser.add_argument(
        "--collapse-repeated",
        action="store_true",
        help="draw identical consecutive module calls once, labelled ×N (Graphviz formats)",
    )
    parser.add_argument(
        "--collapse-modules",
        action="store_true",
        help="draw each module call of the model as a single node",
    )
    parser.add_argument(
        "--group-modules", action="store_true", help="draw a labelled box around each module call"
    )
    parser.add_argument(
        "--rankdir",
        choices=("TB", "LR"),
        default="TB",
        help="TB: top to bottom (default), LR: left to right",
    )
    parser.add_argument(
        "--batch",
        type=positive_int,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"batch size of the dummy input (default: {DEFAULT_BATCH})",
    )
    parser.set_defaults(run=run_graph)
    return parser


def run_graph(args: argparse.Namespace) -> int:
    """Write the drawing; 0 on success, 1 (with a message) when it cannot be rendered."""
    loss = model_loss(args.model, args.batch)
    format = args.format or _format_of(args.out)
    if args.animate and format not in ("html", "gif"):
        print("graphkit graph: error: --animate writes html or gif, not " + format, file=sys.stderr)
        return 2
    try:
        if format == "gif" or args.animate:
            path = animate(loss).save(args.out)
        elif format == "html":
            to_html(loss, args.out)
            path = args.out
        elif format == "text":
            path = write_atomically(args.out, to_text(loss).encode("utf-8"))
        else:
            path = render(
                loss,
                args.out,
                format=format,
                collapse_modules=args.collapse_modules,
                group_modules=args.group_modules,
                rankdir=args.rankdir,
                color_by=args.color_by,
                collapse_repeated=args.collapse_repeated,
            )
    except (RuntimeError, OSError, ValueError) as err:
        print(f"graphkit graph: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _format_of(path: Path) -> str:
    """The format named by ``path``'s suffix, or svg."""
    suffix = path.suffix.lower().lstrip(".")
    suffix = SUFFIX_FORMATS.get(suffix, suffix)
    return suffix if suffix in GRAPH_FORMATS else "svg"

