"""The ``graphkit`` command-line app (``python -m graphkit COMMAND``), apart from the library.

The app imports the library and ``models``; the library imports neither. Each command is a
module of its own with an ``add_command(subparsers)`` function that registers it and sets
``run``: a function taking the parsed arguments and returning the exit status. Adding a
command is one module and one line in ``COMMANDS``.

    arguments.py     argument types shared by the commands (positive_int, ...)
    graph.py         graph MODEL --out FILE: draw one forward and loss pass
    model_graphs.py  the models ``graph`` draws, by name
    train.py         train MODEL --dataset ...: the options and the command
    evaluate.py      evaluate RUN_DIR | --onnx FILE: the test accuracy of a trained run
    export.py        export RUN_DIR --out FILE: a trained run as an ONNX model
    run.py           a training run and its folder: train_run, evaluate_run, export_run
    zoo.py           the models ``train`` builds, by name
    datasets.py      the image data sets ``train`` reads, by name or folder
    experiments.py   python -m graphkit.cli.experiments regularization
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from graphkit import __version__
from graphkit.cli import evaluate, export, graph, train

#: The modules of the subcommands, in the order ``--help`` lists them.
COMMANDS = (graph, train, evaluate, export)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="graphkit", description="graphkit: an autograd engine from scratch on NumPy."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Bad arguments exit with status 2 and a usage message, as argparse does.
    """
    args = build_parser().parse_args(argv)
    return args.run(args)
