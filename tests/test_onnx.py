"""``gk.onnx.export``: every supported layer and model passes onnx.checker and runs in
onnxruntime to graphkit's outputs (float32, 1e-5), on random inputs and on a LeNet trained
on real Fashion-MNIST; unsupported layers and hidden ops are clear errors.
"""

import numpy as np
import pytest

import graphkit as gk
from graphkit import nn
from graphkit.data import DataLoader
from graphkit.onnx import ExportError, export, supported_layers
from graphkit.train import fit, predict
from models import MLP, LeNet, TinyNet, TwoLayerNet

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
F32 = np.float32


def onnx_outputs(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def assert_round_trip(module, shape, tmp_path, seed=0):
    """Export ``module`` on a random float32 batch of ``shape``; check the file and compare
    onnxruntime with graphkit in eval mode on another batch of a different size."""
    rng = np.random.default_rng(seed)
    path = tmp_path / "model.onnx"
    export(module, rng.standard_normal(shape).astype(F32), path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    x = rng.standard_normal((shape[0] + 3, *shape[1:])).astype(F32)
    module.eval()
    with gk.no_grad():
        expected = module(gk.Tensor(x)).numpy()
    got = onnx_outputs(path, x)
    assert got.shape == expected.shape and got.dtype == F32
    np.testing.assert_allclose(got, expected, **TOLERANCE)


LAYERS = {
    "Linear": (lambda: nn.Linear(6, 4, dtype=F32), (2, 6)),
    "Linear on (B, T, D)": (lambda: nn.Linear(6, 4, dtype=F32), (2, 3, 6)),
    "Linear without bias": (lambda: nn.Linear(6, 4, bias=False, dtype=F32), (2, 6)),
    "Conv2d": (lambda: nn.Conv2d(3, 5, 3, dtype=F32), (2, 3, 7, 7)),
    "Conv2d stride pad": (lambda: nn.Conv2d(2, 4, (3, 2), stride=(2, 1), pad=(1, 2), dtype=F32),
                          (2, 2, 9, 8)),
    "Conv2d without bias": (lambda: nn.Conv2d(2, 3, 1, bias=False, dtype=F32), (1, 2, 4, 4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    "MaxPool2d stride pad": (lambda: nn.MaxPool2d(3, stride=2, pad=1), (2, 2, 9, 7)),
    "ReLU": (nn.ReLU, (4, 5)),
    "Sigmoid": (nn.Sigmoid, (4, 5)),
    "Tanh": (nn.Tanh, (2, 3, 4)),
    "Dropout": (lambda: nn.Dropout(0.5), (4, 5)),
    "Flatten": (nn.Flatten, (2, 3, 4, 5)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(4, 8, dtype=F32), nn.Tanh(),
                                         nn.Linear(8, 2, dtype=F32)), (3, 4)),
    "nested Sequential": (lambda: nn.Sequential({"body": nn.Sequential(nn.ReLU(), nn.ReLU()),
                                                 "head": nn.Linear(4, 2, dtype=F32)}), (3, 4)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, dtype=F32), (2, 3, 5, 5)),
    "ConvTranspose2d stride pad": (
        lambda: nn.ConvTranspose2d(2, 3, 4, stride=2, pad=1, dtype=F32), (2, 2, 4, 5)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    "AvgPool2d stride pad": (lambda: nn.AvgPool2d(3, stride=2, pad=1), (2, 2, 9, 7)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (4, 5)),
    "ELU": (nn.ELU, (4, 5)),
    "GELU": (nn.GELU, (4, 5)),
    "SiLU": (nn.SiLU, (4, 5)),
    "Softplus": (nn.Softplus, (4, 5)),
    "LayerNorm": (lambda: nn.LayerNorm(6, dtype=F32), (4, 3, 6)),
    "LayerNorm over (H, W) without affine": (
        lambda: nn.LayerNorm((4, 5), elementwise_affine=False, dtype=F32), (2, 3, 4, 5)),
}  # fmt: skip


@pytest.mark.parametrize("name", LAYERS)
def test_each_layer_round_trips(name, tmp_path):
    make, shape = LAYERS[name]
    assert_round_trip(make(), shape, tmp_path)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (8, 4, 5)), ("BatchNorm2d", (8, 4, 5, 5))],
)
def test_batch_norm_exports_its_running_statistics(name, shape, tmp_path):
    norm = getattr(nn, name)(4, dtype=F32)
    rng = np.random.default_rng(1)
    for _ in range(3):  # running statistics away from their start (mean 0, var 1)
        norm(gk.Tensor((3 * rng.standard_normal(shape) + 2).astype(F32)))
    assert not np.allclose(norm.running_mean, 0)
    assert_round_trip(norm, shape, tmp_path)


MODELS = {
    "MLP relu": (lambda: MLP([12, 16, 8, 3], dtype=F32), (4, 12)),
    "MLP sigmoid with dropout": (lambda: MLP([12, 9, 3], "sigmoid", dropout=0.3, dtype=F32),
                                 (4, 12)),
    "MLP tanh": (lambda: MLP([12, 9, 3], "tanh", dtype=F32), (4, 12)),
    "LeNet": (lambda: LeNet(10, dtype=F32), (2, 1, 28, 28)),
}  # fmt: skip


@pytest.mark.parametrize("name", MODELS)
def test_each_model_round_trips(name, tmp_path):
    np.random.seed(0)
    make, shape = MODELS[name]
    assert_round_trip(make(), shape, tmp_path)


def test_the_batch_normalised_cnn_round_trips(tmp_path):
    bn_cnn = pytest.importorskip("models.bn_cnn")
    np.random.seed(0)
    model = bn_cnn.BNCNN(10, input_shape=(1, 8, 8), dtype=F32)
    rng = np.random.default_rng(2)
    for _ in range(2):  # training-mode passes move the running statistics
        model(gk.Tensor(rng.random((16, 1, 8, 8), dtype=F32)))
    assert_round_trip(model, (2, 1, 8, 8), tmp_path)


def test_the_model_is_left_in_its_mode_and_runs_any_batch_size(tmp_path):
    model = MLP([4, 5, 2], dropout=0.5)
    model.train()
    model.fc2.eval()
    export(model, np.zeros((1, 4)), tmp_path / "m.onnx")
    assert model.training and model.drop1.training and not model.fc2.training
    assert onnx_outputs(tmp_path / "m.onnx", np.zeros((7, 4), F32)).shape == (7, 2)


def test_float64_weights_are_exported_as_float32(tmp_path):
    np.random.seed(0)
    model = MLP([6, 5, 3])  # float64
    x = np.random.default_rng(0).standard_normal((4, 6))
    export(model, gk.Tensor(x), tmp_path / "m.onnx")
    got = onnx_outputs(tmp_path / "m.onnx", x.astype(F32))
    assert got.dtype == F32
    np.testing.assert_allclose(got, predict(model, x), rtol=1e-5, atol=1e-5)


def test_metadata_is_stored(tmp_path):
    export(nn.ReLU(), np.zeros((1, 3)), tmp_path / "m.onnx", metadata={"dataset": "digits"})
    props = {prop.key: prop.value for prop in onnx.load(tmp_path / "m.onnx").metadata_props}
    assert props == {"dataset": "digits"}


class Square(nn.Module):
    def forward(self, x):
        return x * x


def test_an_unsupported_layer_is_named(tmp_path):
    model = nn.Sequential({"fc": nn.Linear(3, 3), "square": Square()})
    with pytest.raises(ExportError, match=r"cannot export .*Square \(at 'square'\).*Linear, "):
        export(model, np.zeros((1, 3)), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file


class HiddenReshape(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, pad=1)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        h = self.conv(x)
        return self.fc(h.reshape(len(h), -1))


class HiddenScale(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x) * 2


def test_ops_between_layers_are_refused_not_lost(tmp_path):
    with pytest.raises(ExportError, match=r"the input of fc \(Linear\).*nn.Flatten"):
        export(HiddenReshape(), np.zeros((1, 1, 4, 4)), tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="its output is not the output of one of its layers"):
        export(HiddenScale(), np.zeros((1, 3)), tmp_path / "m.onnx")


def test_a_failed_export_keeps_the_file_that_was_there(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"before")
    with pytest.raises(ExportError):
        export(Square(), np.zeros((1, 3)), path)
    assert path.read_bytes() == b"before"


@pytest.mark.parametrize("network", [TwoLayerNet(4, 3, 2), TinyNet(*[np.zeros(1)] * 6)])
def test_the_array_networks_of_models_are_not_modules(network, tmp_path):
    with pytest.raises(TypeError, match=f"takes a gk.nn.Module, got {type(network).__name__}"):
        export(network, np.zeros((1, 4)), tmp_path / "m.onnx")


def test_supported_layers_names_what_gk_nn_has():
    assert {"Linear", "Conv2d", "MaxPool2d", "ReLU", "Flatten", "Dropout"} <= set(
        supported_layers()
    )
    assert all(hasattr(nn, name) for name in supported_layers())


@pytest.mark.slow
def test_lenet_trained_on_fashion_mnist_scores_the_same_in_onnxruntime(fashion, tmp_path):
    """One epoch on 12,000 real training images, then all 10,000 test images both ways."""
    (x_train, t_train), (x_test, t_test) = fashion
    np.random.seed(0)
    model = LeNet(10, dtype=F32)
    optimizer = gk.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(x_train[:12_000], t_train[:12_000], batch_size=64, seed=0)
    fit(model, gk.F.softmax_cross_entropy, optimizer, loader, epochs=1, progress=False)
    export(model, x_test[:1], tmp_path / "lenet.onnx")

    expected = predict(model, x_test)
    got = np.concatenate(
        [onnx_outputs(tmp_path / "lenet.onnx", x_test[i : i + 500]) for i in range(0, 10_000, 500)]
    )
    np.testing.assert_allclose(got, expected, **TOLERANCE)
    accuracy = gk.metrics.accuracy(expected, t_test)
    assert accuracy >= 0.75  # it learned: the round trip is checked on a working classifier
    # Outputs agree to 1e-5, so an argmax can differ only on a near tie: at most one image.
    assert abs(gk.metrics.accuracy(got, t_test) - accuracy) <= 1 / len(t_test)
