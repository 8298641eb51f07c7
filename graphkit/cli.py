"""The ``graphkit`` command line (``python -m graphkit COMMAND``).

Each command lives beside the code it drives and registers itself through an
``add_<name>_command(subparsers)`` function that sets ``run``: a function taking the
parsed arguments and returning the exit status. Adding a command is one call below.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from graphkit import __version__
from graphkit.train.cli import add_evaluate_command, add_train_command
from graphkit.viz.cli import add_graph_command


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="graphkit", description="graphkit: an autograd engine from scratch on NumPy."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_graph_command(subparsers)
    add_train_command(subparsers)
    add_evaluate_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Bad arguments exit with status 2 and a usage message, as argparse does.
    """
    args = build_parser().parse_args(argv)
    return args.run(args)
