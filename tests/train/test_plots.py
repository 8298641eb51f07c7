"""The plots are written as valid SVG and PNG files, atomically, from a History or arrays."""

import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from graphkit.train import History, plot_confusion, plot_curves, plot_misclassified

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_svg(path):
    assert ElementTree.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def assert_png(path, min_side=100):
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width = imread(path).shape[:2]
    assert min(height, width) >= min_side


@pytest.fixture
def history():
    return History(
        {
            "epoch": [1, 2, 3],
            "loss": [1.0, 0.6, 0.4],
            "accuracy": [0.6, 0.8, 0.9],
            "test_loss": [0.9, 0.7, 0.6],
            "test_accuracy": [0.65, 0.75, 0.8],
        }
    )


def test_curves_as_svg_and_png(history, tmp_path):
    paths = plot_curves(history, tmp_path / "curves")
    assert paths == [tmp_path / "curves.svg", tmp_path / "curves.png"]
    assert_svg(paths[0])
    assert_png(paths[1])
    assert "test" in paths[0].read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "curves.svg"]


def test_curves_from_a_metrics_dict_without_epochs(tmp_path):
    (path,) = plot_curves({"loss": [1.0, 0.5]}, tmp_path / "loss", formats=("svg",))
    assert_svg(path)


def test_confusion_matrix(tmp_path):
    matrix = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    paths = plot_confusion(matrix, tmp_path / "confusion", ["cat", "dog", "bird"])
    assert_svg(paths[0])
    assert_png(paths[1])
    assert "bird" in paths[0].read_text()


@pytest.mark.parametrize(
    ("matrix", "names", "message"),
    [(np.ones((2, 3)), None, "square"), (np.ones((2, 2)), ["a", "b", "c"], "3 class names")],
)
def test_confusion_rejects_bad_input(tmp_path, matrix, names, message):
    with pytest.raises(ValueError, match=message):
        plot_confusion(matrix, tmp_path / "confusion", names)


@pytest.mark.parametrize("shape", [(30, 1, 8, 8), (30, 64), (30, 3, 8, 8)])
def test_misclassified_grid(tmp_path, shape):
    rng = np.random.default_rng(0)
    images = rng.random(shape)
    labels = np.arange(30) % 10
    predictions = np.where(np.arange(30) % 3 == 0, (labels + 1) % 10, labels)
    path = plot_misclassified(images, labels, predictions, tmp_path / "wrong.png")
    assert path == tmp_path / "wrong.png"
    assert_png(path)


def test_misclassified_without_mistakes(tmp_path):
    labels = np.arange(4)
    path = plot_misclassified(np.zeros((4, 8, 8)), labels, labels, tmp_path / "none.png")
    assert_png(path)


def test_missing_matplotlib_names_the_extra(history, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "graphkit\[data\]"'):
        plot_curves(history, tmp_path / "curves")
