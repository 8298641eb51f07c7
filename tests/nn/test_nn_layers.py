"""The layers: shapes, initialisation, dtypes, and agreement with gk.functional."""

import numpy as np
import pytest

import graphkit as gk
from graphkit import functional as F
from graphkit import nn
from graphkit.testing import gradcheck


def test_linear_holds_weight_in_out_and_zero_bias():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    assert not layer.bias.data.any()
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data)
    assert nn.Linear(4, 3, bias=False).bias is None


def test_conv2d_holds_oc_c_kh_kw_and_matches_functional():
    layer = nn.Conv2d(2, 3, (3, 2), stride=(2, 1), pad=1)
    assert layer.weight.shape == (3, 2, 3, 2) and layer.bias.shape == (3,)
    layer.bias.data[:] = [1.0, 2.0, 3.0]
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 4))
    expected = F.conv2d(x, layer.weight.data, layer.bias.data, stride=(2, 1), pad=1)
    np.testing.assert_array_equal(layer(x).data, expected.data)


@pytest.mark.parametrize(
    ("make", "fan_in", "fan_out"),
    [
        (lambda init: nn.Linear(400, 300, init=init), 400, 300),
        (lambda init: nn.Conv2d(16, 32, 5, init=init), 16 * 25, 32 * 25),
    ],
)
def test_he_and_xavier_scales(make, fan_in, fan_out):
    np.random.seed(0)
    assert make("he").weight.data.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.05)
    assert make("xavier").weight.data.std() == pytest.approx(
        np.sqrt(2 / (fan_in + fan_out)), rel=0.05
    )
    with pytest.raises(ValueError, match="lecun"):
        make("lecun")


def test_initialisation_repeats_under_a_seed():
    np.random.seed(3)
    first = nn.Conv2d(1, 2, 3).weight.data
    gk.manual_seed(3)
    np.testing.assert_array_equal(nn.Conv2d(1, 2, 3).weight.data, first)


def test_float32_layers_stay_float32_through_backward():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, pad=1, dtype=np.float32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8, 3, dtype=np.float32),
    )
    x = np.random.default_rng(0).random((2, 1, 4, 4), dtype=np.float32)
    y = net(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert all(p.dtype == p.grad.dtype == np.float32 for p in net.parameters())


def test_activation_layers_match_functional():
    x = np.linspace(-2, 2, 7)
    for layer, fn in [(nn.ReLU(), F.relu), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh)]:
        np.testing.assert_array_equal(layer(x).data, fn(x).data)


def test_max_pool_layer_defaults_stride_to_kernel():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    assert nn.MaxPool2d(3)(x).shape == (1, 1, 2, 2)
    assert nn.MaxPool2d(3, stride=1, pad=1)(x).shape == (1, 1, 6, 6)


def test_dropout_layer_drops_in_training_only():
    layer = nn.Dropout(0.5)
    x = np.ones((20, 20))
    assert (layer(x).data == 0).any()
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x)
    with pytest.raises(ValueError):
        nn.Dropout(-0.1)


def test_flatten_keeps_the_batch_axis():
    assert nn.Flatten()(np.zeros((3, 2, 4, 5))).shape == (3, 40)


def test_sequential_names_indexes_and_iterates():
    relu = nn.ReLU()
    numbered = nn.Sequential(nn.Linear(2, 3), relu, nn.Linear(3, 1))
    assert len(numbered) == 3 and numbered[1] is relu and list(numbered)[1] is relu
    assert [n for n, _ in numbered.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    named = nn.Sequential({"hidden": nn.Linear(2, 3), "act": nn.Tanh(), "out": nn.Linear(3, 1)})
    assert [n for n, _ in named.named_children()] == ["hidden", "act", "out"]
    with pytest.raises(TypeError, match="modules"):
        nn.Sequential(nn.ReLU(), np.zeros(2))


def test_a_small_network_passes_gradcheck():
    np.random.seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 2, (2, 3), pad=(0, 1)),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(2 * 2 * 3, 2),
        nn.Sigmoid(),
    )
    x = gk.Tensor(np.random.default_rng(1).standard_normal((2, 2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda x, *params: net(x), [x, *net.parameters()])


def test_repr_shows_the_structure():
    text = repr(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Dropout(0.25)))
    assert "(0): Conv2d(1, 4, kernel_size=(3, 3)" in text and "(1): Dropout(p=0.25)" in text
