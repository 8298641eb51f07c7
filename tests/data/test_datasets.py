import dataclasses
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from graphkit.data import datasets, load_digits, load_mnist, save_idx
from graphkit.data.datasets import FILE_NAMES, TEST_IMAGES, TRAIN_IMAGES, TRAIN_LABELS

N_TRAIN, N_TEST = 6, 4


def write_mnist_folder(folder: Path, marker: int = 0, compress: bool = True) -> None:
    """Four tiny IDX files in the MNIST layout whose labels all equal ``marker``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(marker)
    suffix = ".gz" if compress else ""
    for prefix, count in (("train", N_TRAIN), ("t10k", N_TEST)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        save_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        save_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.full(count, marker, np.uint8))


def train_marker(**kwargs) -> int:
    (_, t_train), _ = load_mnist(**kwargs)
    return int(t_train[0])


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Point home, $GRAPHKIT_DATA and the system folder into tmp_path, all empty."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_ROOT", tmp_path / "system")
    return {
        "env": tmp_path / "env",
        "cache": home / ".cache" / "graphkit" / "mnist",
        "system": tmp_path / "system" / "mnist",
    }


def test_root_gives_the_book_layout(tmp_path, places):
    write_mnist_folder(tmp_path / "root", marker=3)
    (x_train, t_train), (x_test, t_test) = load_mnist(root=tmp_path / "root")
    assert x_train.shape == (N_TRAIN, 784) and x_test.shape == (N_TEST, 784)
    assert x_train.dtype == np.float64
    assert x_train.min() >= 0.0 and x_train.max() <= 1.0
    assert t_train.shape == (N_TRAIN,) and t_test.shape == (N_TEST,)
    assert t_train.dtype == np.int64
    assert set(t_train) == {3}


def test_options_change_shapes_and_types(tmp_path, places):
    write_mnist_folder(tmp_path, marker=7)
    (x_train, t_train), (x_test, t_test) = load_mnist(
        root=tmp_path, normalize=False, flatten=False, one_hot=True
    )
    assert x_train.shape == (N_TRAIN, 1, 28, 28) and x_test.shape == (N_TEST, 1, 28, 28)
    assert x_train.dtype == np.uint8
    assert t_train.shape == (N_TRAIN, 10) and t_train.dtype == np.float64
    np.testing.assert_array_equal(t_test.argmax(axis=1), 7)
    (x_scaled, _), _ = load_mnist(root=tmp_path, flatten=False)
    np.testing.assert_allclose(x_scaled, x_train / 255.0)


def test_uncompressed_files_are_found(tmp_path, places):
    write_mnist_folder(tmp_path, marker=2, compress=False)
    assert train_marker(root=tmp_path) == 2


def test_root_kind_subfolder_is_searched(tmp_path, places):
    write_mnist_folder(tmp_path / "root" / "fashion", marker=4)
    assert train_marker(root=tmp_path / "root", kind="fashion") == 4


def test_root_is_the_only_place_searched(tmp_path, places):
    write_mnist_folder(places["cache"], marker=1)
    with pytest.raises(FileNotFoundError) as raised:
        load_mnist(root=tmp_path / "empty")
    assert str(tmp_path / "empty") in str(raised.value)
    assert str(places["cache"]) not in str(raised.value)


def test_search_order_env_kind_env_cache_system(places, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(places["env"]))
    folders = [places["env"] / "mnist", places["env"], places["cache"], places["system"]]
    for marker, folder in enumerate(folders, start=1):
        write_mnist_folder(folder, marker=marker)
    for marker, folder in enumerate(folders, start=1):
        assert train_marker() == marker
        for name in FILE_NAMES:
            (folder / f"{name}.gz").unlink()


def test_incomplete_folder_is_skipped(places):
    write_mnist_folder(places["cache"], marker=1)
    write_mnist_folder(places["system"], marker=2)
    (places["cache"] / f"{TEST_IMAGES}.gz").unlink()
    assert train_marker() == 2


def test_not_found_lists_every_place_and_how_to_get_the_files(places, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(places["env"]))
    with pytest.raises(FileNotFoundError) as raised:
        load_mnist(kind="fashion")
    message = str(raised.value)
    for folder in datasets.candidate_folders("fashion"):
        assert str(folder) in message
    assert str(places["env"] / "fashion") in message
    assert "download=True" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert all(name in message for name in FILE_NAMES)


def test_unknown_kind(places):
    with pytest.raises(ValueError, match="'kmnist'"):
        load_mnist(kind="kmnist")


def test_images_and_labels_of_different_lengths(tmp_path, places):
    write_mnist_folder(tmp_path)
    save_idx(tmp_path / f"{TRAIN_LABELS}.gz", np.zeros(N_TRAIN + 1, np.uint8))
    with pytest.raises(ValueError, match=TRAIN_IMAGES) as raised:
        load_mnist(root=tmp_path)
    assert TRAIN_LABELS in str(raised.value)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local file:// mirror of tiny MNIST files, registered as the only MNIST source."""
    folder = tmp_path / "mirror"
    write_mnist_folder(folder, marker=5)
    checksums = {
        name: hashlib.sha256((folder / f"{name}.gz").read_bytes()).hexdigest()
        for name in FILE_NAMES
    }
    source = dataclasses.replace(
        datasets.SOURCES["mnist"],
        mirrors=((tmp_path / "dead-mirror").as_uri() + "/", folder.as_uri() + "/"),
        sha256=checksums,
    )
    monkeypatch.setitem(datasets.SOURCES, "mnist", source)
    return folder


def test_download_fetches_verifies_and_reports(tmp_path, places, mirror, capsys):
    target = tmp_path / "downloaded"
    (x_train, t_train), _ = load_mnist(root=target, download=True)
    assert x_train.shape == (N_TRAIN, 784) and set(t_train) == {5}
    for name in FILE_NAMES:
        assert (target / f"{name}.gz").read_bytes() == (mirror / f"{name}.gz").read_bytes()
    assert "Downloading" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.gz" for n in FILE_NAMES)


def test_download_defaults_to_the_cache(places, mirror):
    assert train_marker(download=True) == 5
    assert all((places["cache"] / f"{name}.gz").is_file() for name in FILE_NAMES)


def test_download_fetches_only_missing_files(tmp_path, places, mirror):
    target = tmp_path / "partial"
    write_mnist_folder(target, marker=5)
    kept = (target / f"{TRAIN_IMAGES}.gz").read_bytes()
    for name in FILE_NAMES[1:]:
        (target / f"{name}.gz").unlink()
    (mirror / f"{TRAIN_IMAGES}.gz").unlink()
    load_mnist(root=target, download=True)
    assert (target / f"{TRAIN_IMAGES}.gz").read_bytes() == kept


def test_checksum_mismatch_leaves_nothing_on_disk(tmp_path, places, mirror, monkeypatch):
    source = datasets.SOURCES["mnist"]
    wrong = {**source.sha256, TEST_IMAGES: "0" * 64}
    monkeypatch.setitem(datasets.SOURCES, "mnist", dataclasses.replace(source, sha256=wrong))
    target = tmp_path / "downloaded"
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_mnist(root=target, download=True)
    names = [p.name for p in target.iterdir()]
    assert all(TEST_IMAGES not in name for name in names)
    assert not any(name.endswith(".part") for name in names)


def test_every_mirror_failing_lists_each_attempt(tmp_path, places, mirror):
    for name in FILE_NAMES:
        (mirror / f"{name}.gz").unlink()
    with pytest.raises(OSError) as raised:
        load_mnist(root=tmp_path / "downloaded", download=True)
    for url in datasets.SOURCES["mnist"].mirrors:
        assert url in str(raised.value)


def test_published_checksums_are_sha256_hex():
    for source in datasets.SOURCES.values():
        assert set(source.sha256) == set(FILE_NAMES)
        assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in source.sha256.values())


SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_real_fashion_mnist_from_the_system_location(tmp_path, monkeypatch):
    if not all((SYSTEM_FASHION / f"{name}.gz").is_file() for name in FILE_NAMES):
        message = f"Fashion-MNIST is not installed in {SYSTEM_FASHION}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{message}; CI must provide it (apt-get install dataset-fashion-mnist)")
        pytest.skip(message)
    # An empty home and no $GRAPHKIT_DATA make the search fall through to the system folder.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    (x_train, t_train), (x_test, t_test) = load_mnist(kind="fashion")
    assert x_train.shape == (60000, 784) and x_train.dtype == np.float64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert x_test.shape == (10000, 784)
    assert t_test.shape == (10000,)
    assert set(np.unique(t_train)) == set(range(10))
    np.testing.assert_array_equal(np.bincount(t_test), np.full(10, 1000))


def test_load_digits():
    pytest.importorskip("sklearn")
    x, t = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert x.min() == 0.0 and x.max() == 1.0
    assert t.shape == (1797,) and t.dtype == np.int64
    assert set(t) == set(range(10))
    images, _ = load_digits(normalize=False, flatten=False)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), x * 16)


def test_load_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"graphkit\[data\]"):
        load_digits()
