"""Lesson 5: computational graphs: TinyNet's forward and backward graphs, backprop step by step,
and conv as im2col.

Run it: python docs/lessons/05_graphs.py  (drawing needs Graphviz's `dot` program)
"""


import numpy as np
from _lesson import IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk
from models import TinyNet

# --8<-- [start:forward]
rng = np.random.default_rng(0)
SHAPES = {
    "W_conv1": (6, 3, 3, 3), "b_conv1": (6,),
    "W_conv2": (12, 6, 3, 3), "b_conv2": (12,),
    "W_fc": (48, 10), "b_fc": (10,),
}  # fmt: skip
p = {name: gk.Tensor(0.1 * rng.standard_normal(shape), requires_grad=True, name=name)
     for name, shape in SHAPES.items()}
x = gk.Tensor(rng.random((2, 3, 8, 8)), name="x")  # two 8x8 RGB images
labels = np.array([3, 7])

# TinyNet's forward pass, op by op: every call below records one compute node.
h = gk.F.max_pool2d(gk.F.relu(gk.F.conv2d(x, p["W_conv1"], p["b_conv1"], pad=1)), 2)
h = gk.F.max_pool2d(gk.F.relu(gk.F.conv2d(h, p["W_conv2"], p["b_conv2"], pad=1)), 2)
logits = gk.F.linear(h.reshape(2, -1), p["W_fc"], p["b_fc"])
loss = gk.F.softmax_cross_entropy(logits, labels)
loss.name = "loss"

# The same computation as models.TinyNet does it.
net = TinyNet(*(param.data for param in p.values()))
net_logits, net_loss = net.forward(x.data, labels)
assert np.allclose(net_logits, logits.numpy()) and np.isclose(net_loss, loss.item())

gk.viz.render(loss, IMAGES / "05_tinynet_forward.svg")
# --8<-- [end:forward]

# --8<-- [start:player]
# The backward pass as the engine runs it, one op per frame. animate runs backward itself
# (leaving .grad alone and keeping the graph), so call it before loss.backward().
player = gk.viz.animate(loss)
print(f"{len(player)} frames; the first: {player.frames[0].heading}")
player.save(IMAGES / "05_backprop.html")  # play, pause, step, slider, arrow keys
player.save(IMAGES / "05_backprop.gif")
# --8<-- [end:player]

# --8<-- [start:backward]
# backward=True draws the graph that computes d loss / d (every parameter): built by
# gk.grad(..., create_graph=True), it reuses the forward values.
gk.viz.render(loss, IMAGES / "05_tinynet_backward.svg", backward=True)
# --8<-- [end:backward]

# --8<-- [start:im2col]
# A convolution is a matrix product in disguise: im2col copies every 3x3 window of every
# channel into one row, and each filter, flattened, becomes one column.
W = p["W_conv1"].numpy()  # (OC, C, KH, KW) = (6, 3, 3, 3)
b = p["b_conv1"].numpy()
batch, out_channels = x.shape[0], W.shape[0]
columns = gk.F.im2col(x.numpy(), kernel_size=3, stride=1, pad=1)  # (B*OH*OW, C*KH*KW)
print(f"im2col: x {x.shape} -> columns {columns.shape}; filters {W.reshape(6, -1).T.shape}")
product = columns @ W.reshape(out_channels, -1).T + b  # (B*OH*OW, OC)
as_image = product.reshape(batch, 8, 8, out_channels).transpose(0, 3, 1, 2)  # (B, OC, OH, OW)
conv = gk.F.conv2d(x, W, b, stride=1, pad=1).numpy()
print(f"largest difference from conv2d: {np.abs(as_image - conv).max():.1e}")
assert np.allclose(as_image, conv, rtol=0, atol=1e-12)
# --8<-- [end:im2col]

# The picture: im2col on one 4x4 channel with a 3x3 kernel, values shown.
small = np.arange(16.0).reshape(1, 1, 4, 4)
small_columns = gk.F.im2col(small, kernel_size=3)
figure = Figure(figsize=(9, 3), layout="constrained")
image_axes, columns_axes = figure.subplots(1, 2, width_ratios=[1, 2.4])
for axes, values in ((image_axes, small[0, 0]), (columns_axes, small_columns)):
    axes.imshow(values, cmap="Blues", vmin=-4, vmax=20)
    for (row, column), value in np.ndenumerate(values):
        axes.text(column, row, f"{value:.0f}", ha="center", va="center")
    axes.set_xticks([])
    axes.set_yticks(range(len(values)))
image_axes.set(title="x: one 4x4 channel", ylabel="row")
columns_axes.set(title="im2col(x, 3): one row per 3x3 window", ylabel="window (oh, ow)")
columns_axes.set_yticklabels(["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"])
figure.savefig(IMAGES / "05_im2col.png", dpi=100)
print(
    f"wrote {IMAGES / '05_tinynet_forward.svg'}, 05_tinynet_backward.svg, 05_backprop.html, "
    "05_backprop.gif and 05_im2col.png"
)
