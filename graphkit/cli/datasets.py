"""The image classification data sets the command line trains on, by name or folder.

``digits`` (8x8, offline, split 80/20 with a fixed seed), ``mnist`` and ``fashion``
(28x28, the published train/test files), or the path of a folder holding the four
IDX files in MNIST's layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphkit.data import load_digits, load_mnist, train_test_split
from graphkit.data.datasets import SOURCES, candidate_folders

#: The digits set has no published test split; this seed fixes the held-out 20%.
DIGITS_SPLIT_SEED = 0
DIGITS_TRAIN_FRACTION = 0.8

NAMED = ("digits", "mnist", "fashion")

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


class DatasetNotFoundError(FileNotFoundError):
    """The data set's files are not where they were looked for; the message is one line."""


@dataclass(frozen=True)
class ImageDataset:
    """Train and test images with integer labels.

    Attributes:
        name: the name or folder it was loaded from.
        x_train, x_test: float images (N, C, H, W) in [0, 1].
        t_train, t_test: int64 class indices (N,).
        class_names: one display name per class, indexed by label.
    """

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one image, (C, H, W)."""
        return self.x_train.shape[1:]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load_dataset(name_or_path: str, dtype: np.dtype | type = np.float64) -> ImageDataset:
    """Load ``digits``, ``mnist``, ``fashion`` or an MNIST-layout folder of IDX files.

    Images come back as ``dtype`` in [0, 1], shaped (N, C, H, W).

    Raises:
        DatasetNotFoundError: the files are missing; the message names every folder
            looked in, on one line.
    """
    if name_or_path == "digits":
        x, t = load_digits(flatten=False)
        (x_train, t_train), (x_test, t_test) = train_test_split(
            x, t, train=DIGITS_TRAIN_FRACTION, seed=DIGITS_SPLIT_SEED
        )
        class_names = tuple(str(digit) for digit in range(10))
    else:
        kind, root = _mnist_kind_and_root(name_or_path)
        try:
            (x_train, t_train), (x_test, t_test) = load_mnist(root=root, kind=kind, flatten=False)
        except FileNotFoundError:
            folders = ", ".join(str(folder) for folder in candidate_folders(kind, root))
            raise DatasetNotFoundError(
                f"{_title(kind, root)} files not found; looked in: {folders}"
            ) from None
        if kind == "fashion":
            class_names = FASHION_CLASSES
        else:
            num_classes = int(max(t_train.max(), t_test.max())) + 1
            class_names = tuple(str(label) for label in range(num_classes))
    return ImageDataset(
        name=name_or_path,
        x_train=x_train.astype(dtype, copy=False),
        t_train=t_train,
        x_test=x_test.astype(dtype, copy=False),
        t_test=t_test,
        class_names=class_names,
    )


def _mnist_kind_and_root(name_or_path: str) -> tuple[str, Path | None]:
    if name_or_path in SOURCES:
        return name_or_path, None
    root = Path(name_or_path)
    if not root.is_dir():
        raise DatasetNotFoundError(
            f"no data set {name_or_path!r}: not one of {', '.join(NAMED)} "
            f"and not a folder ({root.resolve()} does not exist)"
        )
    return "mnist", root


def _title(kind: str, root: Path | None) -> str:
    return "MNIST-layout IDX" if root is not None else SOURCES[kind].title
