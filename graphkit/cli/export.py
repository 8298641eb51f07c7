"""``python -m graphkit export RUN_DIR --out model.onnx``: a trained run as an ONNX file.

The file runs in onnxruntime (``graphkit evaluate --onnx FILE`` scores it there); its
metadata names the data set the run was trained on. A missing run folder ends in a
one-line error (exit status 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from graphkit.cli.run import as_command, export_run


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``export RUN_DIR_OR_WEIGHTS --out FILE`` on an ``add_subparsers()`` object."""
    parser = subparsers.add_parser(
        "export",
        help="write a trained model as an ONNX file",
        description="Rebuild a model saved by `train` and write it as an ONNX model "
        "(float32, any batch size) that onnxruntime runs.",
    )
    parser.add_argument(
        "run_path", metavar="RUN_DIR_OR_WEIGHTS", help="a run folder, or the model.npz inside one"
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the .onnx file")
    parser.set_defaults(run=as_command(parser, _export))
    return parser


def _export(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    export_run(args.run_path, args.out)
