"""``python -m graphkit evaluate RUN_DIR``: the test accuracy of a model that ``train`` saved;
``evaluate --onnx FILE``: the same for an exported model, run in onnxruntime.

A missing run folder or file, data set or a data set of another image shape ends in a
one-line error (exit status 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from graphkit.cli.run import as_command, evaluate_onnx, evaluate_run


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``evaluate RUN_DIR_OR_WEIGHTS [--dataset ...]`` on an ``add_subparsers()``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a trained model's test accuracy",
        description="Rebuild a model saved by `train` and print its test accuracy.",
    )
    parser.add_argument(
        "run_path",
        nargs="?",
        metavar="RUN_DIR_OR_WEIGHTS",
        help="a run folder, or the model.npz inside one",
    )
    parser.add_argument(
        "--onnx",
        type=Path,
        metavar="FILE",
        help="score this ONNX file (from `graphkit export`) in onnxruntime instead of a run",
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
    if (args.run_path is None) == (args.onnx is None):
        parser.error("give either a run folder (RUN_DIR_OR_WEIGHTS) or --onnx FILE")
    if args.onnx is not None:
        evaluate_onnx(args.onnx, args.dataset)
    else:
        evaluate_run(args.run_path, args.dataset)
