"""Lesson 12: debugging gradients: anomaly mode, hooks, gradient flow, checkpointing.

Run it: python docs/lessons/12_debugging.py
"""

import time
import warnings

import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
import graphkit.train

warnings.simplefilter("ignore", RuntimeWarning)  # the NaNs below are on purpose
rng = np.random.default_rng(0)


# --8<-- [start:nan]
class LogFeatures(gk.nn.Module):
    """A layer that takes log(h + shift): fine while h + shift > 0."""

    def __init__(self, shift):
        super().__init__()
        self.shift = shift

    def forward(self, h):
        return (h + self.shift).log()


gk.manual_seed(0)
model = gk.nn.Sequential(
    gk.nn.Linear(4, 8), gk.nn.Tanh(), gk.nn.Linear(8, 8), gk.nn.Tanh(),
    LogFeatures(shift=0.9),  # tanh lies in (-1, 1): below -0.9 the log is NaN
    gk.nn.Linear(8, 8), gk.nn.Tanh(), gk.nn.Linear(8, 3),
)
x = gk.Tensor(rng.standard_normal((64, 4)) * 3)
t = rng.integers(0, 3, 64)

loss = gk.F.softmax_cross_entropy(model(x), t)
loss.backward()
print("loss:", loss.item(), "- NaN gradients:", int(np.isnan(model[0].weight.grad.data).sum()))

with gk.detect_anomaly():
    try:
        gk.F.softmax_cross_entropy(model(x), t)
    except gk.AnomalyError as err:
        print(err)
        culprit = err
# --8<-- [end:nan]
assert np.isnan(loss.item())
assert culprit.op.name == "log" and culprit.tensor.shape == (64, 8)
code = LogFeatures.forward.__code__  # the line of LogFeatures.forward that called log:
assert str(culprit).endswith(f"called at {code.co_filename}:{code.co_firstlineno + 1}")


# --8<-- [start:clip]
def clip_norm(max_norm):
    """A hook that scales a gradient down to norm ``max_norm`` when it is longer."""
    def hook(grad):
        norm = np.linalg.norm(grad.data)
        return grad * (max_norm / norm) if norm > max_norm else None
    return hook


gk.manual_seed(1)
net = gk.nn.Sequential(gk.nn.Linear(2, 16), gk.nn.ReLU(), gk.nn.Linear(16, 1))
seen = {name: [] for name, _ in net.named_parameters()}
for name, p in net.named_parameters():
    p.register_hook(lambda g, name=name: seen[name].append(np.linalg.norm(g.data)))  # before
    p.register_hook(clip_norm(1.0))  # hooks run in the order they were registered
xs = rng.standard_normal((32, 2))
ys = xs[:, :1] * 3.0
ys[0] = 500.0  # one wild label makes a huge gradient
loss = ((net(gk.Tensor(xs)) - gk.Tensor(ys)) ** 2).mean()
loss.backward()
for name, p in net.named_parameters():
    print(f"{name:>8}: gradient norm {seen[name][0]:10.2f} -> {np.linalg.norm(p.grad.data):.2f}")
# --8<-- [end:clip]
assert max(norms[0] for norms in seen.values()) > 10
assert all(np.linalg.norm(p.grad.data) <= 1.0 + 1e-9 for p in net.parameters())


# --8<-- [start:flow]
DEPTH = 10
WIDTH = 32
STEPS = 60 if FAST else 400


def deep_net(activation):
    """DEPTH layers of WIDTH units, the last one a linear head: 10 inputs, 4 classes."""
    layers, width_in = [], 10
    for _ in range(DEPTH - 1):
        layers += [gk.nn.Linear(width_in, WIDTH), activation()]
        width_in = WIDTH
    return gk.nn.Sequential(*layers, gk.nn.Linear(WIDTH, 4))


centres = rng.standard_normal((4, 10)) * 2
labels = rng.integers(0, 4, 2000)
points = centres[labels] + rng.standard_normal((2000, 10))
loader = gk.data.DataLoader(points, labels, batch_size=50, seed=0)
flows = {}
for name, activation in (("sigmoid", gk.nn.Sigmoid), ("relu", gk.nn.ReLU)):
    gk.manual_seed(0)
    net = deep_net(activation)
    optimizer = gk.optim.SGD(net.parameters(), lr=0.05)
    history = gk.train.fit(net, gk.F.softmax_cross_entropy, optimizer, loader,
                           epochs=STEPS // len(loader), progress=False, grad_flow=True)
    flows[name] = history.grad_flow
    first, last = (np.median(norms) for norms in list(history.grad_flow.values())[::DEPTH - 1])
    print(f"{name}: median gradient norm, first layer {first:.2e}, last layer {last:.2e}, "
          f"ratio {first / last:.1e}; final accuracy {history['accuracy'][-1]:.3f}")
# --8<-- [end:flow]


def first_over_last(flow):
    norms = list(flow.values())
    return np.median(norms[0]) / np.median(norms[-1])


assert first_over_last(flows["sigmoid"]) < 1e-3  # vanished by a factor of a thousand or more
assert first_over_last(flows["relu"]) > 100 * first_over_last(flows["sigmoid"])

figure = Figure(figsize=(12, 4.2), layout="constrained")
for axes, (name, flow) in zip(figure.subplots(1, 2, sharey=True), flows.items()):
    colours = [(0.1 + 0.8 * i / (DEPTH - 1), 0.3, 0.9 - 0.8 * i / (DEPTH - 1))
               for i in range(DEPTH)]
    for (layer, norms), colour in zip(flow.items(), colours):
        axes.plot(np.arange(1, len(norms) + 1), norms, color=colour, linewidth=1,
                  label=f"layer {int(layer) // 2 + 1}")
    axes.set(yscale="log", title=f"{DEPTH} layers, {name}", xlabel="step")
    axes.grid(alpha=0.3, which="both")
figure.axes[0].set_ylabel("gradient norm of the layer")
figure.legend(*figure.axes[0].get_legend_handles_labels(), loc="outside right center")
figure.savefig(IMAGES / "12_grad_flow.png", dpi=100)
print(f"wrote {IMAGES / '12_grad_flow.png'}")


# --8<-- [start:checkpoint]
BLOCKS = 20
WIDTH_CK = 128 if FAST else 512
BATCH = 64 if FAST else 256

gk.manual_seed(0)
blocks = [gk.nn.Sequential(gk.nn.Linear(WIDTH_CK, WIDTH_CK), gk.nn.ReLU(),
                           gk.nn.Linear(WIDTH_CK, WIDTH_CK), gk.nn.ReLU()) for _ in range(BLOCKS)]
head = gk.nn.Linear(WIDTH_CK, 10)
x = gk.Tensor(rng.standard_normal((BATCH, WIDTH_CK)))
t = rng.integers(0, 10, BATCH)


def loss_of(checkpointed):
    h = x
    for block in blocks:
        h = gk.checkpoint(block, h) if checkpointed else block(h)
    return gk.F.softmax_cross_entropy(head(h), t)


results = {}
for checkpointed in (False, True):
    saved = gk.viz.saved_memory(loss_of(checkpointed)).total
    times = []
    for _ in range(2 if FAST else 5):
        start = time.perf_counter()
        loss = loss_of(checkpointed)
        loss.backward()
        times.append(time.perf_counter() - start)
    grads = [p.grad.data.copy() for p in blocks[0].parameters()]
    for p in [*head.parameters(), *(q for b in blocks for q in b.parameters())]:
        p.grad = None
    results[checkpointed] = (saved, min(times), grads)
    print(f"checkpoint={checkpointed!s:5}: graph keeps {saved / 2**20:6.1f} MiB, "
          f"forward+backward {min(times) * 1e3:6.1f} ms")
(plain_bytes, plain_s, plain_grads), (ck_bytes, ck_s, ck_grads) = results[False], results[True]
print(f"{plain_bytes / ck_bytes:.1f}x less memory for {ck_s / plain_s:.2f}x the time")
# --8<-- [end:checkpoint]
assert plain_bytes >= 3.9 * ck_bytes  # four arrays a block without, one with
assert all(np.allclose(a, b, rtol=1e-10, atol=1e-12) for a, b in zip(plain_grads, ck_grads))
