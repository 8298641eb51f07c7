"""Data sets, mini-batching and augmentation, in plain NumPy."""

from graphkit.data.datasets import load_digits, load_mnist
from graphkit.data.idx import load_idx, save_idx
from graphkit.data.loader import DataLoader, one_hot, train_test_split
from graphkit.data.transforms import Compose, Normalize, RandomRotation, RandomShift

__all__ = [
    "Compose",
    "DataLoader",
    "Normalize",
    "RandomRotation",
    "RandomShift",
    "load_digits",
    "load_idx",
    "load_mnist",
    "one_hot",
    "save_idx",
    "train_test_split",
]
