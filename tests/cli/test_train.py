"""``graphkit train`` and ``graphkit evaluate`` end to end on the offline digits set."""

import json
import shutil

import numpy as np
import pytest

from graphkit.cli import main
from graphkit.cli.run import evaluate_run
from graphkit.data import save_idx
from graphkit.train import loop

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

RUN_FILES = [
    "config.json",
    "confusion.png",
    "confusion.svg",
    "curves.png",
    "curves.svg",
    "history.json",
    "misclassified.png",
    "model.npz",
]


def train(out, *options, model="mlp", dataset="digits"):
    argv = ["train", model, "--dataset", str(dataset), "--out", str(out), "--no-progress"]
    assert main([*argv, "--epochs", "2", *options]) == 0


def printed_accuracy(text):
    (line,) = [line for line in text.splitlines() if line.startswith("test accuracy: ")]
    return float(line.removeprefix("test accuracy: "))


def write_idx_folder(folder, side=28, train_count=40, test_count=20):
    """Random images in the MNIST layout, 10 classes."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, count in (("train", train_count), ("t10k", test_count)):
        images = rng.integers(0, 256, size=(count, side, side), dtype=np.uint8)
        save_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        save_idx(
            folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(count) % 10).astype(np.uint8)
        )
    return folder


def test_train_writes_the_run_and_evaluate_matches(tmp_path, capsys):
    out = tmp_path / "run"
    train(out)
    printed = printed_accuracy(capsys.readouterr().out)
    graph = ["graph.svg"] if shutil.which("dot") else ["graph.dot"]
    assert sorted(path.name for path in out.iterdir()) == sorted(RUN_FILES + graph)

    config = json.loads((out / "config.json").read_text())
    assert (config["model"], config["dataset"], config["input_shape"]) == (
        "mlp",
        "digits",
        [1, 8, 8],
    )
    assert config["args"]["epochs"] == 2
    history = json.loads((out / "history.json").read_text())
    assert history["metrics"]["epoch"] == [1, 2]
    assert printed == pytest.approx(config["test_accuracy"], abs=5e-5)

    assert evaluate_run(out) == config["test_accuracy"]
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.npz")]) == 0
    assert printed_accuracy(capsys.readouterr().out) == printed


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("tinynet", ["--optimizer", "adam", "--weight-decay", "1e-4"]),
        ("lenet", ["--augment", "--limit-train", "300", "--dtype", "float32"]),
        ("twolayernet", ["--val-fraction", "0.2", "--early-stopping", "1", "--lr", "0.5"]),
        ("mlp", ["--dropout", "0.2", "--momentum", "0.5", "--batch-size", "64", "--seed", "3"]),
    ],
)
def test_every_model_and_option_round_trips(tmp_path, model, options):
    out = tmp_path / model
    train(out, *options, model=model)
    config = json.loads((out / "config.json").read_text())
    assert evaluate_run(out) == config["test_accuracy"]


def test_early_stopping_logs_validation(tmp_path):
    out = tmp_path / "run"
    train(out, "--val-fraction", "0.25", "--early-stopping", "3")
    metrics = json.loads((out / "history.json").read_text())["metrics"]
    assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= set(metrics)


def test_ctrl_c_in_the_first_epoch_still_writes_the_run(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "train_epoch", interrupted)
    train(tmp_path / "run")
    assert "stopped after epoch 0: interrupted" in capsys.readouterr().out
    assert (tmp_path / "run" / "curves.svg").is_file()
    assert json.loads((tmp_path / "run" / "history.json").read_text())["metrics"] == {}


def test_default_out_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "mlp", "--dataset", "digits", "--epochs", "1", "--no-progress"]) == 0
    assert (tmp_path / "runs" / "mlp-digits" / "model.npz").is_file()


def test_graph_falls_back_to_dot_text_without_graphviz(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    train(tmp_path / "run")
    assert (tmp_path / "run" / "graph.dot").read_text().startswith("digraph")
    assert "graph.dot" in capsys.readouterr().err


def test_trains_on_a_folder_of_idx_files(tmp_path):
    folder = write_idx_folder(tmp_path / "idx")
    train(tmp_path / "run", dataset=folder)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["input_shape"] == [1, 28, 28]
    assert evaluate_run(tmp_path / "run") == config["test_accuracy"]


@pytest.mark.parametrize(
    "argv",
    [
        ["train"],
        ["train", "mlp"],
        ["train", "resnet", "--dataset", "digits"],
        ["train", "mlp", "--dataset", "digits", "--epochs", "0"],
        ["train", "mlp", "--dataset", "digits", "--epochs", "two"],
        ["train", "mlp", "--dataset", "digits", "--lr", "-0.1"],
        ["train", "mlp", "--dataset", "digits", "--batch-size", "0"],
        ["train", "mlp", "--dataset", "digits", "--dropout", "1.5"],
        ["train", "mlp", "--dataset", "digits", "--weight-decay", "-1"],
        ["train", "mlp", "--dataset", "digits", "--optimizer", "rmsprop"],
        ["train", "mlp", "--dataset", "digits", "--val-fraction", "1"],
        ["train", "lenet", "--dataset", "digits", "--dropout", "0.5"],
        ["train", "mlp", "--dataset", "digits", "--optimizer", "adam", "--momentum", "0.9"],
        ["train", "mlp", "--dataset", "digits", "--early-stopping", "3"],
        ["evaluate"],
    ],
)
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_dataset_folder_is_a_one_line_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "mlp", "--dataset", str(empty), "--out", str(tmp_path / "run")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("graphkit train: error: ")
    assert f"looked in: {empty}, {empty / 'mnist'}" in error
    assert not (tmp_path / "run").exists()


def test_dataset_that_is_neither_a_name_nor_a_folder(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["train", "mlp", "--dataset", str(missing)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert str(missing) in error


def test_validation_split_of_too_few_examples(tmp_path, capsys):
    argv = ["train", "mlp", "--dataset", "digits", "--limit-train", "1", "--val-fraction", "0.5"]
    assert main([*argv, "--early-stopping", "1", "--out", str(tmp_path / "run")]) == 1
    assert "--val-fraction 0.5 of 1 training examples" in capsys.readouterr().err


def test_evaluate_a_missing_run(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 1
    assert str(tmp_path / "model.npz") in capsys.readouterr().err


def test_evaluate_on_images_of_another_shape(tmp_path, capsys):
    train(tmp_path / "run")
    folder = write_idx_folder(tmp_path / "idx")
    assert main(["evaluate", str(tmp_path / "run"), "--dataset", str(folder)]) == 1
    assert "(1, 8, 8)" in capsys.readouterr().err


def test_grad_flow_writes_its_plot_and_the_norms_in_the_history(tmp_path):
    out = tmp_path / "run"
    train(out, "--grad-flow", "--limit-train", "200", "--batch-size", "50")
    assert (out / "grad_flow.png").stat().st_size > 0
    flow = json.loads((out / "history.json").read_text())["grad_flow"]
    assert len(flow) >= 2  # one series per layer with parameters
    for norms in flow.values():
        assert len(norms) == 2 * 4  # 2 epochs of 200 / 50 steps
        assert all(norm > 0 for norm in norms)
