"""nn.Module: registration, traversal, modes, state dicts, atomic saves, module scopes."""

import numpy as np
import pytest

import graphkit as gk
from graphkit import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, pad=1)
        self.act = nn.ReLU()
        self.scale = nn.Parameter(np.ones(1))

    def forward(self, x):
        return self.act(self.conv1(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = Block()
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(self.drop(self.flatten(self.features(x))))


# As in PyTorch: a module's own parameters, then its children's, each in assignment order.
NAMES = ["features.scale", "features.conv1.weight", "features.conv1.bias", "fc.weight", "fc.bias"]


def images(seed=0):
    return np.random.default_rng(seed).standard_normal((2, 1, 4, 4))


def test_parameters_register_with_dotted_names():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == NAMES
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [name for name, _ in net.named_modules()] == [
        "",
        "features",
        "features.conv1",
        "features.act",
        "flatten",
        "drop",
        "fc",
    ]
    assert len(list(net.modules())) == 7
    assert [name for name, _ in net.named_children()] == ["features", "flatten", "drop", "fc"]


def test_reassigning_and_deleting_attributes_updates_the_registry():
    net = Net()
    net.fc = nn.Linear(32, 5, bias=False)
    assert [n for n, _ in net.named_parameters()][-1] == "fc.weight"
    net.features.scale = None  # a plain value replaces the parameter
    del net.drop
    assert "features.scale" not in dict(net.named_parameters())
    assert "drop" not in dict(net.named_children())


def test_a_shared_parameter_is_listed_once():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net[1].weight = net[0].weight
    assert len(list(net.parameters())) == 3


def test_assigning_a_parameter_before_init_names_the_fix():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_parameter_is_a_slotted_tensor_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, gk.Tensor) and p.requires_grad and p.dtype == np.float64
    assert not hasattr(p, "__dict__")


def test_train_and_eval_reach_every_module():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_dropout_in_the_model_follows_its_mode():
    net = Net()
    x = images()
    net.eval()
    np.testing.assert_array_equal(net(x).data, net(x).data)
    net.train()
    np.random.seed(0)
    first = net(x).data
    np.random.seed(1)
    assert not np.array_equal(first, net(x).data)


def test_zero_grad_clears_every_gradient():
    net = Net()
    gk.F.softmax_cross_entropy(net(images()), [0, 2]).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_holds_copies():
    net = Net()
    state = net.state_dict()
    assert list(state) == NAMES
    state["fc.bias"] += 1
    assert not net.fc.bias.data.any()


def test_save_and_load_give_identical_predictions(tmp_path):
    np.random.seed(0)
    net = Net().eval()
    path = tmp_path / "net.npz"
    net.save(path)
    np.random.seed(1)
    other = Net().eval()
    assert not np.array_equal(net(images()).data, other(images()).data)
    other.load_state_dict(path)
    np.testing.assert_array_equal(net(images()).data, other(images()).data)
    third = Net().eval()
    third.load_state_dict(str(path))
    np.testing.assert_array_equal(net(images()).data, third(images()).data)
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]


def test_save_overwrites_atomically_and_cleans_up_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    Net().save(path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        Net().save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]


def test_float32_state_loads_into_float32_parameters():
    net = nn.Linear(3, 2, dtype=np.float32)
    net.load_state_dict({"weight": np.ones((3, 2)), "bias": np.zeros(2)})
    assert net.weight.dtype == np.float32 and net.weight.data.sum() == 6


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.pop("fc.bias"), ["missing", "fc.bias"]),
        (lambda s: s.update(extra=np.zeros(1)), ["unexpected", "extra"]),
        (lambda s: s.update({"fc.weight": np.zeros((3, 32))}), ["fc.weight", "(3, 32)", "(32, 3)"]),
    ],
)
def test_load_state_dict_names_the_bad_key_and_changes_nothing(change, words):
    net = Net()
    before = net.state_dict()
    state = {key: value + 1 for key, value in before.items()}
    change(state)
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    for word in words:
        assert word in str(info.value)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_ops_remember_the_module_call_they_ran_in():
    net = Net()
    y = net(images())
    assert y.grad_fn.scope.path == "fc"
    ops, stack = [], [y.grad_fn]
    while stack:
        op = stack.pop()
        ops.append(op)
        stack.extend(t.grad_fn for t in op.tensor_inputs() if t.grad_fn is not None)
    paths = {op.name: op.scope.path for op in ops}
    assert paths["conv2d"] == "features.conv1"
    assert paths["relu"] == "features.act"
    assert paths["mul"] == "features"
    assert {op.scope.parent.parent.name for op in ops if op.name == "conv2d"} == {"Net"}
    assert net.features.conv1.weight.name == "features.conv1.weight"


def test_a_top_level_call_names_only_unnamed_parameters():
    net = Net()
    net.fc.bias.name = "my bias"
    net(images())
    assert net.fc.weight.name == "fc.weight" and net.fc.bias.name == "my bias"
    net.features(images())  # as a model of its own, later: names stay
    assert net.features.conv1.weight.name == "features.conv1.weight"


def test_loading_a_file_that_is_not_saved_weights_names_it(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_text("not a numpy archive")
    with pytest.raises(ValueError, match=r"weights\.npz"):
        nn.Linear(3, 2).load_state_dict(path)


class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("count", np.zeros(1))
        self.register_buffer("unused", None)


def test_buffers_are_state_but_not_parameters():
    net = WithBuffer()
    assert [name for name, _ in net.named_buffers()] == ["count"]  # None ones skipped
    assert [name for name, _ in net.named_parameters()] == ["fc.weight", "fc.bias"]
    state = net.state_dict()
    assert set(state) == {"fc.weight", "fc.bias", "count"}
    state["count"] = np.array([5.0])
    held = net.count
    net.load_state_dict(state)
    assert net.count is held and held[0] == 5.0  # loaded in place
    net.count = np.array([7.0])  # assignment replaces the buffer
    assert net.state_dict()["count"][0] == 7.0
    with pytest.raises(ValueError, match=r"missing keys \['count'\]"):
        net.load_state_dict({"fc.weight": np.zeros((2, 2)), "fc.bias": np.zeros(2)})


def test_register_buffer_rejects_bad_names_and_values():
    net = WithBuffer()
    with pytest.raises(ValueError, match="already has a parameter or module 'fc'"):
        net.register_buffer("fc", np.zeros(1))
    with pytest.raises(TypeError, match="buffer 'count' must be an ndarray or None"):
        net.count = [1.0]
    with pytest.raises(ValueError, match="must be an identifier"):
        net.register_buffer("a.b", np.zeros(1))
