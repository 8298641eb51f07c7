import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphkit.data import DataLoader, one_hot, train_test_split
from graphkit.data.transforms import takes_rng


def aligned(n: int) -> tuple[np.ndarray, np.ndarray]:
    """x rows hold their own index; t is 10 times that, so pairs can be checked."""
    x = np.arange(n, dtype=np.float64).reshape(n, 1).repeat(3, axis=1)
    return x, np.arange(n) * 10


def epoch(loader: DataLoader) -> list[int]:
    return [int(row) for x_batch, _ in loader for row in x_batch[:, 0]]


@given(
    n=st.integers(0, 60),
    batch_size=st.integers(1, 25),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
)
def test_batches_cover_every_example_once(n, batch_size, shuffle, drop_last):
    x, t = aligned(n)
    loader = DataLoader(x, t, batch_size, shuffle=shuffle, drop_last=drop_last, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected_len
    sizes = [len(x_batch) for x_batch, _ in batches]
    full, remainder = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([remainder] if remainder and not drop_last else [])
    for x_batch, t_batch in batches:
        np.testing.assert_array_equal(t_batch, x_batch[:, 0] * 10)
    seen = sorted(int(row) for x_batch, _ in batches for row in x_batch[:, 0])
    if drop_last:
        assert len(seen) == len(set(seen)) == expected_len * batch_size
    else:
        assert seen == list(range(n))


def test_last_partial_batch_is_kept_unless_drop_last():
    x, t = aligned(10)
    assert [len(xb) for xb, _ in DataLoader(x, t, 4)] == [4, 4, 2]
    assert [len(xb) for xb, _ in DataLoader(x, t, 4, drop_last=True)] == [4, 4]


def test_without_shuffle_the_order_is_kept_and_the_global_rng_untouched():
    x, t = aligned(7)
    np.random.seed(1)
    state = np.random.get_state()[1].copy()
    assert epoch(DataLoader(x, t, 3, shuffle=False)) == list(range(7))
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_new_order_every_epoch():
    x, t = aligned(50)
    loader = DataLoader(x, t, 8, seed=0)
    first, second = epoch(loader), epoch(loader)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second


def test_seed_makes_the_sequence_of_epochs_repeatable():
    x, t = aligned(30)
    a, b = DataLoader(x, t, 7, seed=42), DataLoader(x, t, 7, seed=42)
    assert [epoch(a) for _ in range(3)] == [epoch(b) for _ in range(3)]
    assert epoch(DataLoader(x, t, 7, seed=43)) != epoch(DataLoader(x, t, 7, seed=42))


def test_without_seed_the_global_rng_decides():
    x, t = aligned(30)
    loader = DataLoader(x, t, 7)
    np.random.seed(5)
    first = [epoch(loader) for _ in range(2)]
    np.random.seed(5)
    assert [epoch(loader) for _ in range(2)] == first


def test_transform_gets_each_x_batch_and_a_generator():
    x, t = aligned(9)
    calls = []

    def double(x_batch, rng):
        calls.append(rng)
        return x_batch * 2

    loader = DataLoader(x, t, 4, shuffle=False, transform=double, seed=0)
    for x_batch, t_batch in loader:
        np.testing.assert_array_equal(x_batch[:, 0] * 10, t_batch * 2)
    assert len(calls) == 3
    assert all(isinstance(rng, np.random.Generator) for rng in calls)


def test_one_argument_transform_as_in_torchvision():
    x, t = aligned(9)
    loader = DataLoader(x, t, 4, shuffle=False, transform=lambda x_batch: x_batch * 2)
    for x_batch, t_batch in loader:
        np.testing.assert_array_equal(x_batch[:, 0] * 10, t_batch * 2)


def scale(x_batch, factor=2.0):
    return x_batch * factor


def optional_rng(x_batch, rng=None):
    assert isinstance(rng, np.random.Generator)
    return x_batch


@pytest.mark.parametrize(
    ("transform", "random"),
    [
        (lambda x: x, False),
        (scale, False),  # optional parameters keep their defaults
        (np.negative, False),  # a ufunc: out=, where=, ... are optional
        (lambda *batch: batch[0], False),
        (lambda x, rng: x, True),
        (lambda x, generator: x, True),  # two required: the second is the generator
        (optional_rng, True),  # optional, but named rng
    ],
)
def test_the_kind_of_transform_is_read_from_its_signature(transform, random):
    assert takes_rng(transform) is random
    x, t = aligned(5)
    batches = list(DataLoader(x, t, 2, shuffle=False, transform=transform, seed=0))
    assert len(batches) == 3


def test_a_one_argument_transform_leaves_the_global_rng_alone():
    x, t = aligned(5)
    np.random.seed(0)
    list(DataLoader(x, t, 2, shuffle=False, transform=lambda x_batch: x_batch + 1))
    assert np.random.randint(1000) == np.random.RandomState(0).randint(1000)


def needs_a_keyword(x_batch, *, mean):
    return x_batch - mean


@pytest.mark.parametrize(
    "transform",
    [lambda: 0, lambda x, rng, extra: x, needs_a_keyword, lambda *, x: x],
    ids=["no argument", "three", "keyword-only", "keyword-only batch"],
)
def test_a_transform_of_neither_kind_is_a_type_error_at_construction(transform):
    x, t = aligned(4)
    with pytest.raises(TypeError, match=r"fits neither transform\(x_batch\) nor transform\("):
        DataLoader(x, t, 2, transform=transform)


def test_a_transform_must_be_callable():
    x, t = aligned(4)
    with pytest.raises(TypeError, match="a transform must be callable, got str"):
        DataLoader(x, t, 2, transform="normalize")


def test_accepts_array_likes():
    loader = DataLoader([[1.0], [2.0]], [0, 1], batch_size=1, shuffle=False)
    assert [t.tolist() for _, t in loader] == [[0], [1]]


def test_lengths_must_match():
    with pytest.raises(ValueError, match=r"5 examples.*but t has 4"):
        DataLoader(np.zeros((5, 2)), np.zeros(4), 2)


@pytest.mark.parametrize("batch_size", [0, -3])
def test_batch_size_must_be_positive(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros(4), np.zeros(4), batch_size)


@pytest.mark.parametrize("batch_size", [2.5, True, "4"])
def test_batch_size_must_be_an_int(batch_size):
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(np.zeros(4), np.zeros(4), batch_size)


def test_train_test_split_partitions_aligned_pairs():
    x, t = aligned(20)
    (x_train, t_train), (x_test, t_test) = train_test_split(x, t, train=0.75, seed=0)
    assert len(x_train) == len(t_train) == 15 and len(x_test) == len(t_test) == 5
    np.testing.assert_array_equal(t_train, x_train[:, 0] * 10)
    np.testing.assert_array_equal(t_test, x_test[:, 0] * 10)
    rows = sorted(x_train[:, 0].tolist() + x_test[:, 0].tolist())
    assert rows == list(range(20))
    assert x_train[:, 0].tolist() != list(range(15))


def test_train_test_split_repeatable_by_seed_and_global_rng():
    x, t = aligned(20)
    first = train_test_split(x, t, seed=3)
    np.testing.assert_array_equal(train_test_split(x, t, seed=3)[0][0], first[0][0])
    np.random.seed(8)
    unseeded = train_test_split(x, t)
    np.random.seed(8)
    np.testing.assert_array_equal(train_test_split(x, t)[1][1], unseeded[1][1])


@pytest.mark.parametrize("train", [0.0, 1.0, 1.5, -0.2])
def test_train_test_split_rejects_bad_fractions(train):
    with pytest.raises(ValueError, match="train"):
        train_test_split(np.zeros(4), np.zeros(4), train=train)


def test_train_test_split_rejects_misaligned_arrays():
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        train_test_split(np.zeros(4), np.zeros(3))


def test_one_hot():
    encoded = one_hot([2, 0, 1], 3)
    assert encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert one_hot(np.array([[1, 0]]), 2).shape == (1, 2, 2)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])


@pytest.mark.parametrize("labels, bad", [([0, 3, 1], "label 3 at index 1"), ([-1], "label -1")])
def test_one_hot_names_the_label_out_of_range(labels, bad):
    with pytest.raises(ValueError, match=bad):
        one_hot(labels, 3)


def test_one_hot_rejects_fractional_labels():
    with pytest.raises(TypeError, match="integers"):
        one_hot([0.5], 2)
