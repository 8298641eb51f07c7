"""Reproducible experiments built from ``graphkit train`` runs, summarised as Markdown.

``python -m graphkit.cli.experiments regularization --dataset fashion --out DIR``
trains the MLP five times with fixed seeds: no regularization, L2 weight
decay, dropout, data augmentation and early stopping. Each run is a full
``graphkit train`` run folder under DIR; ``DIR/regularization.md`` tabulates the
measured accuracies.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from graphkit.cli.arguments import positive_float, positive_int
from graphkit.cli.run import RunError, RunResult, train_run
from graphkit.cli.train import add_train_arguments, check_train_arguments
from graphkit.files import atomic_output

#: Experiment name -> the ``graphkit train`` options that set it apart from the baseline.
REGULARIZATION: dict[str, list[str]] = {
    "baseline": [],
    "L2": ["--weight-decay", "1e-3"],
    "dropout": ["--dropout", "0.3"],
    "augmentation": ["--augment"],
    "early stopping": ["--val-fraction", "0.1", "--early-stopping", "3"],
}


def run_regularization(
    dataset: str,
    out: Path,
    epochs: int,
    limit_train: int | None,
    seed: int,
    lr: float | None = None,
) -> Path:
    """Train every experiment of ``REGULARIZATION`` into ``out/<name>``; write the table.

    Returns the path of ``out/regularization.md``.

    Raises:
        RunError: the data set is missing.
    """
    # The MLP, because dropout is an option of mlp only.
    common = ["mlp", "--dataset", dataset, "--epochs", str(epochs), "--seed", str(seed)]
    if limit_train is not None:
        common += ["--limit-train", str(limit_train)]
    if lr is not None:
        common += ["--lr", str(lr)]
    parser = argparse.ArgumentParser(prog="graphkit train")
    add_train_arguments(parser)
    results: dict[str, tuple[list[str], RunResult]] = {}
    for name, options in REGULARIZATION.items():
        print(f"== {name}: graphkit train {shlex.join(common + options)}", flush=True)
        folder = out / name.replace(" ", "-")
        args = parser.parse_args([*common, *options, "--out", str(folder), "--no-progress"])
        check_train_arguments(parser, args)
        results[name] = (options, train_run(args))
    table = regularization_table(results, common)
    path = out / "regularization.md"
    with atomic_output(path) as file:
        file.write(table.encode("utf-8"))
    print(table)
    return path


def regularization_table(results: dict[str, tuple[list[str], RunResult]], common: list[str]) -> str:
    """The Markdown summary: one row per experiment, in the order run."""
    lines = [
        "| experiment | options | epochs run | train accuracy (last epoch) | test accuracy |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name, (options, result) in results.items():
        history = result.history
        stopped = f" ({history.stop_reason})" if history.stop_reason else ""
        lines.append(
            f"| {name} | `{shlex.join(options) or '-'}` | {len(history)}{stopped} "
            f"| {history['accuracy'][-1]:.4f} | {result.test_accuracy:.4f} |"
        )
    return (
        f"Every run: `graphkit train {shlex.join(common)}` plus its options.\n"
        "Train accuracy is the mean over the last epoch's batches, with dropout and "
        "augmentation active; test accuracy is measured in eval mode on the whole test "
        "set, after early stopping restored its best weights.\n\n" + "\n".join(lines) + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the experiment named in ``argv``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m graphkit.cli.experiments", description=__doc__.splitlines()[0]
    )
    subparsers = parser.add_subparsers(dest="experiment", required=True)
    regularization = subparsers.add_parser(
        "regularization", help="baseline, L2, dropout, augmentation and early stopping"
    )
    regularization.add_argument("--dataset", default="fashion", help="default: fashion")
    regularization.add_argument("--out", type=Path, required=True, help="folder for the runs")
    regularization.add_argument("--epochs", type=positive_int, default=30, help="default: 30")
    regularization.add_argument(
        "--limit-train",
        type=positive_int,
        default=10_000,
        help="training examples (default: 10000, few enough to overfit)",
    )
    regularization.add_argument("--seed", type=int, default=0, help="default: 0")
    regularization.add_argument(
        "--lr", type=positive_float, default=None,
        help="SGD learning rate (default: graphkit train's)",
    )
    args = parser.parse_args(argv)
    try:
        run_regularization(
            args.dataset, args.out, args.epochs, args.limit_train, args.seed, args.lr
        )
    except RunError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
