"""``python -m graphkit graph MODEL --out FILE``: draw one forward+loss pass of a model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from graphkit.cli.arguments import positive_int
from graphkit.cli.model_graphs import DEFAULT_BATCH, MODEL_NAMES, model_loss
from graphkit.viz import FORMATS, render


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
        choices=FORMATS,
        help="file format (default: FILE's suffix if it is one of these, else svg)",
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
    try:
        path = render(
            loss,
            args.out,
            format=args.format or _format_of(args.out),
            collapse_modules=args.collapse_modules,
            group_modules=args.group_modules,
            rankdir=args.rankdir,
        )
    except (RuntimeError, OSError) as err:
        print(f"graphkit graph: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _format_of(path: Path) -> str:
    """The format named by ``path``'s suffix, or svg."""
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "svg"
