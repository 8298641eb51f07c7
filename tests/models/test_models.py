"""The classic models against the same networks written layer by layer in plain NumPy,
in the book's style (im2col/col2im, SoftmaxWithLoss with log(y + 1e-7))."""

import numpy as np
import pytest
from book_reference import im2col

import graphkit as gk
from graphkit import nn
from graphkit.testing import numerical_gradient
from models import BNCNN, MLP, LeNet, MPNeuron, TinyNet, TwoLayerNet, train_one_iter


# ----- the plain-NumPy reference ------------------------------------------------------
def col2im(col, shape, kh, kw, stride, pad):
    B, C, H, W = shape
    out_h, out_w = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    col = col.reshape(B, out_h, out_w, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((B, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(kh):
        for z in range(kw):
            img[:, :, y : y + stride * out_h : stride, z : z + stride * out_w : stride] += col[
                :, :, y, z
            ]
    return img[:, :, pad : H + pad, pad : W + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        FN, _, FH, FW = self.W.shape
        B, _, H, W = x.shape
        out_h = (H + 2 * self.pad - FH) // self.stride + 1
        out_w = (W + 2 * self.pad - FW) // self.stride + 1
        self.x, self.col = x, im2col(x, FH, FW, self.stride, self.pad)
        self.col_W = self.W.reshape(FN, -1).T
        out = self.col @ self.col_W + self.b
        return out.reshape(B, out_h, out_w, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).transpose(1, 0).reshape(FN, C, FH, FW)
        return col2im(dout @ self.col_W.T, self.x.shape, FH, FW, self.stride, self.pad)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Pooling:
    def __init__(self, pool_h, pool_w, stride):
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride

    def forward(self, x):
        B, C, H, W = x.shape
        out_h, out_w = (H - self.pool_h) // self.stride + 1, (W - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, 0)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        return np.max(col, axis=1).reshape(B, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, 0)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.original_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.original_shape)


class SoftmaxWithLoss:
    def forward(self, x, t):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        self.t = t if t.ndim == 2 else np.eye(x.shape[1])[t]
        return -np.sum(self.t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self):
        return (self.y - self.t) / self.y.shape[0]


def numpy_tinynet(params, x, t):
    """(logits, loss, the six gradients) of TinyNet, layer by layer."""
    W1, b1, W2, b2, Wf, bf = params
    layers = [
        Convolution(W1, b1, 1, 1),
        Relu(),
        Pooling(2, 2, 2),
        Convolution(W2, b2, 1, 1),
        Relu(),
        Pooling(2, 2, 2),
        Affine(Wf, bf),
    ]
    h = x
    for layer in layers:
        h = layer.forward(h)
    last = SoftmaxWithLoss()
    loss = last.forward(h, t)
    d = last.backward()
    for layer in reversed(layers):
        d = layer.backward(d)
    conv1, conv2, fc = layers[0], layers[3], layers[6]
    return h, loss, (conv1.dW, conv1.db, conv2.dW, conv2.db, fc.dW, fc.db)


# ----- TinyNet --------------------------------------------------------------------------
def tinynet_params(seed=0, scale=0.1):
    rng = np.random.default_rng(seed)
    shapes = [(6, 3, 3, 3), (6,), (12, 6, 3, 3), (12,), (48, 10), (10,)]
    return [rng.standard_normal(shape) * scale for shape in shapes]


def batch(seed=1, size=8):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((size, 3, 8, 8)), rng.integers(0, 10, size)


@pytest.mark.parametrize("one_hot", [False, True])
def test_tinynet_forward_and_gradients_match_numpy(one_hot):
    params, (x, t) = tinynet_params(), batch()
    labels = np.eye(10)[t] if one_hot else t
    logits, loss, grads = numpy_tinynet(params, x, t)
    net = TinyNet(*params)
    got_logits, got_loss = net.forward(x, labels)
    np.testing.assert_allclose(got_logits, logits, rtol=1e-5, atol=1e-8)
    assert isinstance(got_loss, float) and got_loss == pytest.approx(loss, rel=1e-5)
    got = net.backward()
    assert len(got) == 6
    for g, expected in zip(got, grads):
        assert g.shape == expected.shape
        np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-8)


def test_tinynet_copies_its_inputs_and_needs_forward_before_backward():
    params = tinynet_params()
    originals = [p.copy() for p in params]
    net = TinyNet(*params)
    with pytest.raises(RuntimeError, match="forward"):
        net.backward()
    net.params["W_fc"].data += 1
    for p, original in zip(params, originals):
        np.testing.assert_array_equal(p, original)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_train_one_iter_is_one_sgd_step(weight_decay):
    params, (x, t) = tinynet_params(), batch()
    originals = [p.copy() for p in params]
    _, _, grads = numpy_tinynet(params, x, t)
    updated = train_one_iter(*params, x, t, learning_rate=0.1, weight_decay=weight_decay)
    assert len(updated) == 6
    for new, p, g in zip(updated, params, grads):
        np.testing.assert_allclose(new, p - 0.1 * (g + weight_decay * p), rtol=1e-5, atol=1e-8)
    for p, original in zip(params, originals):
        np.testing.assert_array_equal(p, original)


def test_training_tinynet_drives_the_loss_down():
    rng = np.random.default_rng(0)
    x = rng.random((64, 3, 8, 8)) * 0.5
    t = rng.integers(0, 4, 64)
    for i, quadrant in enumerate(t):  # the class is the brightest quadrant
        row, col = divmod(int(quadrant), 2)
        x[i, :, 4 * row : 4 * row + 4, 4 * col : 4 * col + 4] += 0.5
    params = tinynet_params()
    losses = []
    for _ in range(50):
        losses.append(TinyNet(*params).forward(x, t)[1])
        params = train_one_iter(*params, x, t, learning_rate=0.1)
    assert losses[-1] < 0.2 * losses[0]


# ----- TwoLayerNet ----------------------------------------------------------------------
def test_two_layer_net_gradient_matches_numerical_gradient():
    np.random.seed(0)
    net = TwoLayerNet(input_size=6, hidden_size=5, output_size=3, weight_init_std=0.5)
    x, t = np.random.rand(4, 6), np.array([0, 2, 1, 2])
    analytic, numeric = net.gradient(x, t), net.numerical_gradient(x, t)
    assert list(analytic) == list(numeric) == ["W1", "b1", "W2", "b2"]
    for key in analytic:
        assert analytic[key].shape == net.params[key].shape
        np.testing.assert_allclose(analytic[key], numeric[key], rtol=1e-6, atol=1e-9)


def test_two_layer_net_predicts_scores_and_accuracy_with_either_label_form():
    np.random.seed(0)
    net = TwoLayerNet(4, 3, 2)
    assert net.params["W1"].shape == (4, 3) and not net.params["b2"].any()
    x, t = np.random.rand(5, 4), np.array([0, 1, 1, 0, 1])
    assert net.predict(x).shape == (5, 2)
    assert net.accuracy(x, t) == net.accuracy(x, np.eye(2)[t])
    assert net.loss(x, t) == pytest.approx(np.log(2), abs=1e-2)  # tiny weights: near uniform


# ----- MLP, LeNet, MPNeuron -------------------------------------------------------------
def test_mlp_is_a_module_of_linear_layers():
    net = MLP([784, 100, 10])
    assert isinstance(net, nn.Module)
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]
    assert net(np.random.rand(3, 784)).shape == (3, 10)
    deep = MLP([4, 8, 8, 2], activation="tanh", dropout=0.2)
    assert [n for n, _ in deep.named_children()] == [
        "fc1",
        "tanh1",
        "drop1",
        "fc2",
        "tanh2",
        "drop2",
        "fc3",
    ]
    with pytest.raises(ValueError, match="swish"):
        MLP([2, 2], activation="swish")


def test_lenet_shapes_and_float32():
    net = LeNet(dtype=np.float32)
    shapes = {name: p.shape for name, p in net.named_parameters()}
    assert shapes == {
        "conv1.weight": (16, 1, 5, 5),
        "conv1.bias": (16,),
        "conv2.weight": (32, 16, 5, 5),
        "conv2.bias": (32,),
        "fc.weight": (1568, 10),
        "fc.bias": (10,),
    }
    logits = net(np.random.rand(2, 1, 28, 28).astype(np.float32))
    assert logits.shape == (2, 10) and logits.dtype == np.float32
    gk.F.softmax_cross_entropy(logits, [3, 7]).backward()
    assert all(p.grad.dtype == np.float32 for p in net.parameters())


def test_bn_cnn_layers_shapes_and_float32():
    net = BNCNN(dtype=np.float32)
    assert [name for name, _ in net.named_children()] == [
        "conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten", "fc1",
        "bn3", "relu3", "drop", "fc2",
    ]
    shapes = {name: p.shape for name, p in net.named_parameters()}
    assert shapes == {
        "conv1.weight": (16, 1, 3, 3),
        "bn1.weight": (16,),
        "bn1.bias": (16,),
        "conv2.weight": (32, 16, 3, 3),
        "bn2.weight": (32,),
        "bn2.bias": (32,),
        "fc1.weight": (1568, 128),
        "bn3.weight": (128,),
        "bn3.bias": (128,),
        "fc2.weight": (128, 10),
        "fc2.bias": (10,),
    }
    assert {"bn1.running_mean", "bn2.running_var", "bn3.running_mean"} <= set(net.state_dict())
    logits = net(np.random.rand(4, 1, 28, 28).astype(np.float32))
    assert logits.shape == (4, 10) and logits.dtype == np.float32
    gk.F.softmax_cross_entropy(logits, [3, 7, 0, 1]).backward()
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
    assert BNCNN(5, input_shape=(3, 8, 8))(np.zeros((2, 3, 8, 8))).shape == (2, 5)
    with pytest.raises(ValueError, match="divide by 4, got 6x8"):
        BNCNN(input_shape=(1, 6, 8))


def test_bn_cnn_gradients_match_central_differences():
    np.random.seed(0)
    net = BNCNN(3, input_shape=(1, 8, 8), channels=(2, 3), hidden=4, dropout=0.0)
    for bn in (net.bn1, net.bn2, net.bn3):  # away from the default ones and zeros
        bn.weight.data[:] = np.random.uniform(0.5, 2.0, bn.weight.shape)
        bn.bias.data[:] = np.random.uniform(-1.0, 1.0, bn.bias.shape)
    x = np.random.default_rng(1).standard_normal((4, 1, 8, 8))
    labels = np.array([0, 1, 2, 1])

    def loss() -> float:
        return gk.F.softmax_cross_entropy(net(x), labels).item()

    gk.F.softmax_cross_entropy(net(x), labels).backward()
    for name, param in net.named_parameters():
        numeric = numerical_gradient(lambda _: loss(), param.data, eps=1e-6)
        np.testing.assert_allclose(param.grad.data, numeric, rtol=1e-4, atol=1e-7, err_msg=name)


def test_bn_cnn_eval_uses_running_statistics():
    np.random.seed(0)
    net = BNCNN(input_shape=(1, 8, 8))
    x = np.random.default_rng(2).standard_normal((6, 1, 8, 8))
    net(x)
    before = net.state_dict()
    net.eval()
    whole = net(x).data
    # In eval an image's scores do not depend on the rest of its batch, and nothing moves.
    np.testing.assert_allclose(whole[:2], net(x[:2]).data, rtol=1e-12)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


INPUTS = [[0, 0], [1, 0], [0, 1], [1, 1]]


@pytest.mark.parametrize(
    ("w", "b", "truth"),
    [
        ((0.5, 0.5), -0.5, [0, 0, 0, 1]),
        ((1, 1), -0.5, [0, 1, 1, 1]),
        ((-0.5, -0.5), 0.7, [1, 1, 1, 0]),
    ],
)
def test_mp_neuron_truth_tables(w, b, truth):
    np.testing.assert_array_equal(MPNeuron(w, b)(INPUTS), truth)


def test_mp_neuron_rejects_inputs_of_the_wrong_width():
    with pytest.raises(ValueError, match="2 weights"):
        MPNeuron((1, 1), 0)([[1, 2, 3]])
