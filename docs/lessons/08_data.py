"""Lesson 8: data: IDX files, normalising, one-hot labels, batches and the three splits.

Run it: python docs/lessons/08_data.py  (needs Fashion-MNIST: apt-get install
dataset-fashion-mnist, or gk.data.load_mnist(kind="fashion", download=True) once)
"""

import struct
import tempfile
from pathlib import Path

import numpy as np
from _lesson import FAST, IMAGES
from matplotlib.figure import Figure  # a bare Figure renders with Agg: no display needed

import graphkit as gk

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # fmt: skip

# --8<-- [start:load]
# The raw data: uint8 pixels 0..255, images (N, 1, 28, 28), labels 0..9.
(x_train_full, t_train_full), (x_test, t_test) = gk.data.load_mnist(
    kind="fashion", normalize=False, flatten=False
)
print(f"train {x_train_full.shape} {x_train_full.dtype}, test {x_test.shape}")
print(f"first labels {t_train_full[:10]}")
assert x_train_full.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
assert np.array_equal(np.bincount(t_train_full), np.full(10, 6000))  # 6,000 of each class
# --8<-- [end:load]

# --8<-- [start:idx]
# An IDX file: 2 zero bytes, a type code (0x08 = uint8), the rank, one big-endian uint32
# per dimension, then the values in C order. Write a few images and look at the bytes.
folder = Path(tempfile.mkdtemp())
gk.data.save_idx(folder / "sample-images-idx3-ubyte", x_train_full[:5, 0])  # (5, 28, 28)
raw = (folder / "sample-images-idx3-ubyte").read_bytes()
zero, type_code, rank = struct.unpack(">HBB", raw[:4])
shape = struct.unpack(f">{rank}I", raw[4 : 4 + 4 * rank])
print(f"magic {raw[:4].hex()}: type 0x{type_code:02x}, rank {rank}, shape {shape}; "
      f"{len(raw)} bytes = {4 + 4 * rank} header + {5 * 28 * 28} pixels")
assert (zero, type_code, rank, shape) == (0, 0x08, 3, (5, 28, 28))
assert np.array_equal(gk.data.load_idx(folder / "sample-images-idx3-ubyte"), x_train_full[:5, 0])
# --8<-- [end:idx]

# --8<-- [start:splits]
# Three splits. The test set is only looked at once, at the very end; choices such as the
# learning rate or when to stop are made on a validation set carved out of training data.
(x_train, t_train), (x_val, t_val) = gk.data.train_test_split(
    x_train_full, t_train_full, train=5 / 6, seed=0
)
print(f"train {len(x_train)}, validation {len(x_val)}, test {len(x_test)}")
assert len(x_train) == 50000 and len(x_val) == 10000
# --8<-- [end:splits]

# --8<-- [start:normalize]
# Scale to [0, 1], then standardise with statistics of the training split only: using the
# validation or test images here would leak information about them into training.
x_train, x_val, x_test = (x.astype(np.float64) / 255 for x in (x_train, x_val, x_test))
mean, std = x_train.mean(), x_train.std()
standardize = gk.data.Normalize(mean, std)
x_train, x_val, x_test = (standardize(x) for x in (x_train, x_val, x_test))
print(f"pixel mean {mean:.4f}, std {std:.4f}; after: train mean {x_train.mean():.1e}, "
      f"std {x_train.std():.4f}; validation mean {x_val.mean():.4f}")
assert abs(x_train.mean()) < 1e-9 and np.isclose(x_train.std(), 1)
# --8<-- [end:normalize]

# --8<-- [start:one_hot]
t_train_one_hot = gk.data.one_hot(t_train, 10)  # (50000, 10): a 1 in the label's column
print(f"label {t_train[0]} -> {t_train_one_hot[0]}")
assert np.array_equal(t_train_one_hot.argmax(axis=1), t_train)
assert np.array_equal(t_train_one_hot.sum(axis=1), np.ones(len(t_train)))
# --8<-- [end:one_hot]

# --8<-- [start:batches]
loader = gk.data.DataLoader(x_train, t_train, batch_size=100, shuffle=True, seed=0)
epochs = 1 if FAST else 2
orders = []
for _ in range(epochs):
    seen = [t_batch for _, t_batch in loader]
    assert all(len(t_batch) == 100 for t_batch in seen)
    labels = np.concatenate(seen)
    assert np.array_equal(np.sort(labels), np.sort(t_train))  # every example exactly once
    orders.append(labels)
print(f"{len(loader)} batches of 100 per epoch; first labels of each epoch: "
      f"{[order[:6].tolist() for order in orders]}")
# --8<-- [end:batches]

# The picture: eight training images of each class.
figure = Figure(figsize=(8, 10.4), layout="constrained")
grid = figure.subplots(10, 8)
for label, row in enumerate(grid):
    examples = x_train_full[t_train_full == label][:8, 0]
    for axes, image in zip(row, examples):
        axes.imshow(image, cmap="gray_r", vmin=0, vmax=255)
        axes.set_xticks([])
        axes.set_yticks([])
    row[0].set_ylabel(CLASSES[label], rotation=0, ha="right", va="center")
figure.savefig(IMAGES / "08_fashion_mnist.png", dpi=80)
print(f"wrote {IMAGES / '08_fashion_mnist.png'}")
