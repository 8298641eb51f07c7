"""``python -m graphkit train MODEL --dataset ...``: train a model, write its run folder.

Options go in ``add_train_arguments`` (scripts that build runs, such as the experiments,
parse the same options) and combinations that make no sense in ``check_train_arguments``;
the models are ``graphkit.cli.zoo.MODELS``. Bad options end in an argparse usage error
(exit status 2); a missing data set in a one-line error (exit status 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from graphkit.cli.arguments import fraction, nonnegative_float, positive_float, positive_int
from graphkit.cli.datasets import NAMED
from graphkit.cli.run import as_command, train_run
from graphkit.cli.zoo import MODELS


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``train MODEL --dataset ...`` on an ``add_subparsers()`` object."""
    parser = subparsers.add_parser(
        "train",
        help="train a model and write its weights, history, plots and graph",
        description="Train a model on an image data set. Writes model.npz, config.json, "
        "history.json, curves.svg/png, confusion.svg/png, misclassified.png and graph.svg "
        "(and grad_flow.png with --grad-flow) into --out, and prints the test accuracy.",
    )
    add_train_arguments(parser)
    parser.set_defaults(run=as_command(parser, _train))
    return parser


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``train``, for its subcommand and for scripts that build runs."""
    parser.add_argument("model", choices=MODELS, help="the network to train")
    parser.add_argument(
        "--dataset",
        required=True,
        help=f"{', '.join(NAMED)}, or a folder holding MNIST-layout IDX files",
    )
    parser.add_argument("--epochs", type=positive_int, default=10, help="default: 10")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="default: 32")
    parser.add_argument(
        "--lr", type=positive_float, default=None, help="default: 0.01 for sgd, 0.001 for adam"
    )
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--momentum", type=fraction, default=None, help="sgd only; default: 0.9")
    parser.add_argument(
        "--weight-decay", type=nonnegative_float, default=0.0, help="L2 coefficient"
    )
    parser.add_argument("--dropout", type=fraction, default=0.0, help="drop probability, mlp only")
    parser.add_argument(
        "--augment", action="store_true", help="random rotations (±10°) and shifts (±2 px)"
    )
    parser.add_argument(
        "--early-stopping",
        type=positive_int,
        default=None,
        metavar="PATIENCE",
        help="stop when val_loss has not improved for PATIENCE epochs; needs --val-fraction",
    )
    parser.add_argument(
        "--val-fraction",
        type=fraction,
        default=0.0,
        help="fraction of the training set held out for validation",
    )
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument(
        "--limit-train",
        type=positive_int,
        default=None,
        metavar="N",
        help="train on the first N training examples only",
    )
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default="float64", help="default: float64"
    )
    parser.add_argument("--out", default=None, help="default: runs/<model>-<dataset>")
    parser.add_argument(
        "--grad-flow",
        action="store_true",
        help="record each layer's gradient norm at every step (through hooks): "
        "grad_flow.png, and the numbers in history.json",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="a plain line per epoch instead of a progress bar",
    )


def check_train_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Reject option combinations that make no sense, as usage errors (exit status 2)."""
    if args.dropout and args.model != "mlp":
        parser.error(f"--dropout applies to mlp only, not {args.model}")
    if args.momentum is not None and args.optimizer != "sgd":
        parser.error("--momentum applies to --optimizer sgd only")
    if args.early_stopping is not None and not args.val_fraction:
        parser.error("--early-stopping needs a validation split: add --val-fraction, e.g. 0.1")


def _train(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_train_arguments(parser, args)
    train_run(args)
