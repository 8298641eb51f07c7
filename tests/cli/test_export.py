"""``graphkit export`` and ``graphkit evaluate --onnx``: a trained run scores the same in
onnxruntime as in graphkit."""

import argparse
import json

import numpy as np
import pytest

from graphkit.cli import main, zoo
from graphkit.cli.run import ONNX_DATASET_KEY, evaluate_onnx
from graphkit.onnx import export
from graphkit.train import predict

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")


def printed_accuracy(text):
    (line,) = [line for line in text.splitlines() if line.startswith("test accuracy: ")]
    return float(line.removeprefix("test accuracy: "))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A LeNet run on the digits, in float32 as the exported model computes."""
    out = tmp_path_factory.mktemp("runs") / "lenet"
    argv = ["train", "lenet", "--dataset", "digits", "--epochs", "2", "--dtype", "float32"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    return out


def test_export_then_evaluate_onnx_gives_the_same_accuracy(run, tmp_path, capsys):
    path = tmp_path / "lenet.onnx"
    capsys.readouterr()
    assert main(["export", str(run), "--out", str(path)]) == 0
    assert capsys.readouterr().out == f"wrote {path}\n"
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert {prop.key: prop.value for prop in model.metadata_props}[ONNX_DATASET_KEY] == "digits"

    assert main(["evaluate", "--onnx", str(path)]) == 0
    trained = json.loads((run / "config.json").read_text())["test_accuracy"]
    assert printed_accuracy(capsys.readouterr().out) == pytest.approx(trained, abs=5e-5)
    assert evaluate_onnx(path, "digits") == trained


def test_export_of_the_weights_file_inside_a_run(run, tmp_path):
    assert main(["export", str(run / "model.npz"), "--out", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").is_file()


def test_export_a_missing_run(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 1
    assert str(tmp_path / "model.npz") in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_evaluate_onnx_errors_are_one_line(run, tmp_path, capsys):
    assert main(["evaluate", "--onnx", str(tmp_path / "none.onnx")]) == 1
    assert "none.onnx not found" in capsys.readouterr().err
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    assert main(["evaluate", "--onnx", str(tmp_path / "bad.onnx")]) == 1
    assert capsys.readouterr().err.count("\n") == 1

    path = tmp_path / "m.onnx"
    assert main(["export", str(run), "--out", str(path)]) == 0
    model = onnx.load(path)
    del model.metadata_props[:]
    onnx.save(model, path)
    assert main(["evaluate", "--onnx", str(path)]) == 1
    assert "give --dataset" in capsys.readouterr().err
    assert main(["evaluate", "--onnx", str(path), "--dataset", "digits"]) == 0


@pytest.mark.parametrize(
    "argv", [["export"], ["export", "runs/x"], ["evaluate", "runs/x", "--onnx", "m.onnx"]]
)
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(zoo.MODELS))
def test_every_model_of_the_zoo_exports(name, tmp_path):
    np.random.seed(0)
    options = argparse.Namespace(dtype="float32", dropout=0.2)
    model = zoo.build_model(name, (1, 8, 8), 10, options)
    x = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    export(model, x[:1], tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(
        str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]
    )
    (got,) = session.run(None, {"input": x})
    np.testing.assert_allclose(got, predict(model, x), rtol=1e-5, atol=1e-5)
