"""The regularization experiment: which runs it makes, and the Markdown table of their results.

Training itself is replaced by a stub here; tests/cli/test_train.py runs every
option for real.
"""

from pathlib import Path

import pytest

from graphkit.cli import experiments
from graphkit.cli.run import RunError, RunResult
from graphkit.train import History


@pytest.fixture
def runs(monkeypatch):
    """Record the options of each run instead of training; every run reports 0.5."""
    made = []

    def fake_train_run(args):
        made.append(args)
        history = History({"epoch": [1], "loss": [1.0], "accuracy": [0.75]})
        return RunResult(test_accuracy=0.5, out=Path(args.out), history=history)

    monkeypatch.setattr(experiments, "train_run", fake_train_run)
    return made


def test_runs_every_variant_with_the_same_seed_and_data(tmp_path, runs):
    argv = ["regularization", "--dataset", "digits", "--out", str(tmp_path), "--epochs", "4"]
    assert experiments.main([*argv, "--seed", "7"]) == 0
    assert [Path(args.out).name for args in runs] == [
        "baseline", "L2", "dropout", "augmentation", "early-stopping"
    ]  # fmt: skip
    assert {(a.model, a.dataset, a.epochs, a.seed, a.limit_train) for a in runs} == {
        ("mlp", "digits", 4, 7, 10_000)
    }
    baseline, l2, dropout, augmentation, early_stopping = runs
    assert (baseline.weight_decay, baseline.dropout, baseline.augment) == (0.0, 0.0, False)
    assert l2.weight_decay > 0
    assert dropout.dropout > 0
    assert augmentation.augment
    assert early_stopping.early_stopping is not None
    assert early_stopping.val_fraction > 0


def test_writes_a_markdown_table(tmp_path, runs, capsys):
    assert experiments.main(["regularization", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "regularization.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(experiments.REGULARIZATION)
    assert rows[2] == "| baseline | `-` | 1 | 0.7500 | 0.5000 |"
    assert rows[3].startswith("| L2 | `--weight-decay ")
    assert table in capsys.readouterr().out


def test_missing_dataset_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    def missing(args):
        raise RunError("Fashion-MNIST files not found; looked in: /nowhere")

    monkeypatch.setattr(experiments, "train_run", missing)
    assert experiments.main(["regularization", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.count("\n") == 1
