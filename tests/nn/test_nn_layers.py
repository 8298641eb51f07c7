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
        (lambda init: nn.ConvTranspose2d(16, 32, 5, init=init), 16 * 25, 32 * 25),
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


def test_the_smooth_activation_layers_match_functional():
    x = np.linspace(-2, 2, 7)
    cases = [
        (nn.LeakyReLU(), lambda a: F.leaky_relu(a, 0.01)),
        (nn.LeakyReLU(0.2), lambda a: F.leaky_relu(a, negative_slope=0.2)),
        (nn.ELU(), F.elu),
        (nn.ELU(alpha=0.5), lambda a: F.elu(a, alpha=0.5)),
        (nn.GELU(), F.gelu),
        (nn.SiLU(), F.silu),
        (nn.Softplus(), F.softplus),
    ]
    for layer, fn in cases:
        np.testing.assert_array_equal(layer(x).data, fn(x).data)
        assert not list(layer.parameters())
    assert "negative_slope=0.2" in repr(nn.LeakyReLU(0.2))
    assert "alpha=0.5" in repr(nn.ELU(alpha=0.5))
    net = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2), nn.ELU())
    x = gk.Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(net, [x])


def test_max_pool_layer_defaults_stride_to_kernel():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    assert nn.MaxPool2d(3)(x).shape == (1, 1, 2, 2)
    assert nn.MaxPool2d(3, stride=1, pad=1)(x).shape == (1, 1, 6, 6)


def test_conv_transpose2d_holds_c_in_c_out_kh_kw_and_matches_functional():
    layer = nn.ConvTranspose2d(2, 3, (3, 2), stride=(2, 1), pad=1)
    assert layer.weight.shape == (2, 3, 3, 2) and layer.bias.shape == (3,)
    assert not layer.bias.data.any()
    layer.bias.data[:] = [1.0, 2.0, 3.0]
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 4))
    expected = F.conv_transpose2d(x, layer.weight.data, layer.bias.data, stride=(2, 1), pad=1)
    y = layer(x)
    assert y.shape == (2, 3, 9, 3)  # (H - 1) * stride - 2 * pad + kernel
    np.testing.assert_array_equal(y.data, expected.data)
    assert repr(layer) == "ConvTranspose2d(2, 3, kernel_size=(3, 2), stride=(2, 1), pad=(1, 1))"
    assert nn.ConvTranspose2d(2, 3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match="ConvTranspose2d: stride"):
        nn.ConvTranspose2d(2, 3, 2, stride=0)


def test_avg_pool_layer_defaults_stride_to_kernel_and_matches_functional():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    layer = nn.AvgPool2d(3)
    assert layer.stride == 3 and repr(layer) == "AvgPool2d(kernel_size=3, stride=3, pad=0)"
    np.testing.assert_array_equal(layer(x).data, F.avg_pool2d(x, 3).data)
    np.testing.assert_array_equal(nn.AvgPool2d(3, stride=1, pad=1)(x).data,
                                  F.avg_pool2d(x, 3, 1, 1).data)


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


# ----- normalisation and embedding layers ----------------------------------------------


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (8, 3, 5)), (nn.BatchNorm2d, (8, 3, 4, 4))],
)
def test_batch_norm_layers_train_on_batch_statistics_and_eval_on_running_ones(layer, shape):
    rng = np.random.default_rng(0)
    bn = layer(3)
    assert bn.weight.shape == bn.bias.shape == bn.running_mean.shape == (3,)
    x = rng.standard_normal(shape) * 2 + 5
    running_mean, running_var = np.zeros(3), np.ones(3)
    for _ in range(3):
        y = bn(x)
        F.batch_norm(x, running_mean, running_var)
    np.testing.assert_allclose(y.data, F.batch_norm(x, None, None).data)
    np.testing.assert_allclose(bn.running_mean, running_mean)
    np.testing.assert_allclose(bn.running_var, running_var)
    bn.eval()
    np.testing.assert_allclose(
        bn(x).data, F.batch_norm(x, running_mean, running_var, training=False).data
    )
    np.testing.assert_allclose(bn.running_mean, running_mean)  # eval leaves them alone


def test_batch_norm_layers_check_the_input_rank():
    with pytest.raises(ValueError, match=r"BatchNorm2d takes x of shape \(B, C, H, W\)"):
        nn.BatchNorm2d(3)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(B, C\) or \(B, C, L\), got \(2, 3, 1, 1\)"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 1, 1)))
    with pytest.raises(ValueError, match="4 channels on axis 1"):
        nn.BatchNorm1d(3)(np.zeros((2, 4)))


def test_batch_norm_state_dict_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, pad=1), nn.BatchNorm2d(2), nn.ReLU())
    net(rng.standard_normal((4, 1, 5, 5)))  # moves the running statistics
    state = net.state_dict()
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                          "1.running_var"}
    path = tmp_path / "bn.npz"
    net.save(path)
    other = nn.Sequential(nn.Conv2d(1, 2, 3, pad=1), nn.BatchNorm2d(2), nn.ReLU())
    other.load_state_dict(path)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    x = rng.standard_normal((3, 1, 5, 5))
    net.eval(), other.eval()
    np.testing.assert_array_equal(net(x).data, other(x).data)


def test_batch_norm_layer_in_float32_and_gradcheck():
    bn = nn.BatchNorm2d(2, dtype=np.float32)
    y = bn(np.ones((2, 2, 3, 3), np.float32))
    assert y.dtype == bn.running_mean.dtype == np.float32
    bn64 = nn.BatchNorm1d(2)
    bn64.weight.data[:] = [0.5, 2.0]
    x = gk.Tensor(np.random.default_rng(2).standard_normal((5, 2)), requires_grad=True)
    assert gradcheck(bn64, [x])
    (bn64(x) * x).sum().backward()
    w, b = (gk.Tensor(p.data, requires_grad=True) for p in (bn64.weight, bn64.bias))
    (F.batch_norm(x.detach(), None, None, w, b) * x.detach()).sum().backward()
    np.testing.assert_allclose(bn64.weight.grad.data, w.grad.data)
    np.testing.assert_allclose(bn64.bias.grad.data, b.grad.data)


def test_layer_norm_layer_matches_functional():
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == ln.bias.shape == (2, 3)
    ln.weight.data[:] = 2.0
    x = np.random.default_rng(3).standard_normal((4, 2, 3))
    np.testing.assert_allclose(ln(x).data, F.layer_norm(x, (2, 3), 2 * np.ones((2, 3))).data)
    assert nn.LayerNorm(3).normalized_shape == (3,)
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []


def test_embedding_layer_draws_a_standard_normal_table():
    np.random.seed(0)
    emb = nn.Embedding(1000, 4)
    assert emb.weight.shape == (1000, 4)
    assert abs(emb.weight.data.std() - 1) < 0.05
    out = emb(np.array([[1, 2, 1]]))
    np.testing.assert_array_equal(out.data, emb.weight.data[[[1, 2, 1]]])
    assert "Embedding(1000, 4)" in repr(emb)
