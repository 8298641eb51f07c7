"""``python -m graphkit evaluate RUN_DIR``: the test accuracy of a model that ``train`` saved.

A missing run folder, data set or a data set of another image shape ends in a one-line
error (exit status 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from graphkit.cli.run import as_command, evaluate_run


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``evaluate RUN_DIR_OR_WEIGHTS [--dataset ...]`` on an ``add_subparsers()``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a trained model's test accuracy",
        description="Rebuild a model saved by `train` and print its test accuracy.",
    )
    parser.add_argument(
        "run_path", metavar="RUN_DIR_OR_WEIGHTS", help="a run folder, or the model.npz inside one"
    )
    parser.add_argument(
        "--dataset",
        default=None,
        help="digits, mnist, fashion or a folder of MNIST-layout IDX files "
        "(default: the one the model was trained on)",
    )
    parser.set_defaults(run=as_command(parser, _evaluate))
    return parser


def _evaluate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    evaluate_run(args.run_path, args.dataset)
