"""Mini-batches, train/test splits and one-hot labels for in-memory arrays."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from graphkit.data.transforms import Transform, apply_transform, resolve_rng, takes_rng


class DataLoader:
    """Iterate over ``(x_batch, t_batch)`` mini-batches of two aligned arrays.

    x: (N, ...) examples; t: (N, ...) targets; each batch is (batch_size, ...)
    of both, the last one smaller unless ``drop_last``. Every epoch (each
    ``iter``) visits every example exactly once, in a new order when
    ``shuffle``. With ``seed`` the loader owns a generator, so the sequence of
    epochs is the same on every run; without it, draws come from NumPy's global
    RNG, so ``np.random.seed(n)`` makes a run repeatable.

    ``transform`` is applied to each x batch; t is passed through. It is either a
    one-argument ``transform(x_batch)``, as in torchvision, or a random augmentation
    ``transform(x_batch, rng)``, which gets the loader's generator. The two are told apart
    from the signature (``graphkit.data.transforms.takes_rng``): the generator is passed
    when the second positional parameter is required or named ``rng``.

    Raises:
        TypeError: ``transform`` fits neither kind (e.g. it takes no positional argument,
            or three).
    """

    def __init__(
        self,
        x: ArrayLike,
        t: ArrayLike,
        batch_size: int,
        shuffle: bool = True,
        transform: Transform | None = None,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        self.x = np.asarray(x)
        self.t = np.asarray(t)
        if self.x.ndim == 0 or self.t.ndim == 0:
            raise ValueError(
                f"x {self.x.shape} and t {self.t.shape} must be arrays of examples, not scalars"
            )
        if len(self.x) != len(self.t):
            raise ValueError(
                f"x has {len(self.x)} examples (shape {self.x.shape}) but t has "
                f"{len(self.t)} (shape {self.t.shape})"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        if transform is not None:
            takes_rng(transform)  # a transform of neither kind fails here, not mid-epoch
        self.transform = transform
        self.drop_last = drop_last
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        if self.drop_last:
            return len(self.x) // self.batch_size
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        random_transform = self.transform is not None and takes_rng(self.transform)
        needs_rng = self.shuffle or random_transform
        # Only draw from the global RNG when randomness is used, so that a plain
        # sequential loader leaves the caller's random stream untouched.
        rng = resolve_rng(self._rng) if needs_rng else None
        count = len(self.x)
        order = rng.permutation(count) if rng is not None and self.shuffle else np.arange(count)
        for batch in range(len(self)):
            indices = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            x_batch = self.x[indices]
            if self.transform is not None:
                x_batch = apply_transform(self.transform, random_transform, x_batch, rng)
            yield x_batch, self.t[indices]

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.x)} examples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, transform={self.transform!r})"
        )


def train_test_split(
    x: ArrayLike, t: ArrayLike, train: float = 0.8, seed: int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Shuffle aligned arrays and split them into ``((x_train, t_train), (x_test, t_test))``.

    x: (N, ...), t: (N, ...). ``train`` is the fraction of examples that go to
    the training part, rounded to the nearest whole example. Without ``seed`` the
    shuffle uses NumPy's global RNG.
    """
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0 or len(x) != len(t):
        raise ValueError(f"x of shape {x.shape} and t of shape {t.shape} must have the same length")
    if not 0.0 < train < 1.0:
        raise ValueError(f"train must be a fraction strictly between 0 and 1, got {train}")
    rng = np.random if seed is None else np.random.default_rng(seed)
    order = rng.permutation(len(x))
    cut = round(train * len(x))
    train_part, test_part = order[:cut], order[cut:]
    return (x[train_part], t[train_part]), (x[test_part], t[test_part])


def one_hot(labels: ArrayLike, num_classes: int) -> np.ndarray:
    """Encode integer class labels of shape (N,) as a float64 array of shape (N, num_classes).

    Any label shape works: the result has ``labels.shape + (num_classes,)``.
    """
    labels = np.asarray(labels)
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.floating) or not np.all(labels == np.round(labels)):
            raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
        labels = labels.astype(np.int64)
    outside = (labels < 0) | (labels >= num_classes)
    if np.any(outside):
        position = tuple(int(i) for i in np.argwhere(outside)[0])
        where = position[0] if labels.ndim == 1 else position
        raise ValueError(
            f"label {labels[position]} at index {where} "
            f"is out of range for num_classes={num_classes} (valid: 0..{num_classes - 1})"
        )
    encoded = np.zeros((*labels.shape, num_classes), dtype=np.float64)
    np.put_along_axis(encoded, labels[..., None], 1.0, axis=-1)
    return encoded
