"""MNIST, Fashion-MNIST and the 8x8 digits, as NumPy arrays.

``load_mnist`` returns the data the way "Deep Learning from Scratch" does:
``((x_train, t_train), (x_test, t_test))``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphkit.data.idx import load_idx
from graphkit.data.loader import one_hot as encode_one_hot
from graphkit.files import atomic_output

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

DATA_ENV_VAR = "GRAPHKIT_DATA"
# Debian and Ubuntu install packaged data sets here (apt-get install dataset-fashion-mnist).
SYSTEM_DATA_ROOT = Path("/usr/share/datasets")
NUM_CLASSES = 10
_DOWNLOAD_CHUNK = 1 << 16
_DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class MnistSource:
    """Where a data set of the MNIST layout comes from and how to recognise its files."""

    title: str
    system_dir_name: str
    mirrors: tuple[str, ...]
    # SHA-256 of each published .gz file, as downloaded from the mirrors.
    sha256: dict[str, str]
    apt_package: str | None = None


SOURCES: dict[str, MnistSource] = {
    "mnist": MnistSource(
        title="MNIST",
        system_dir_name="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            TRAIN_IMAGES: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            TRAIN_LABELS: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            TEST_IMAGES: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            TEST_LABELS: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
    "fashion": MnistSource(
        title="Fashion-MNIST",
        system_dir_name="fashion-mnist",
        mirrors=(
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        sha256={
            TRAIN_IMAGES: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            TRAIN_LABELS: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            TEST_IMAGES: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            TEST_LABELS: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        apt_package="dataset-fashion-mnist",
    ),
}

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    kind: str = "mnist",
    normalize: bool = True,
    flatten: bool = True,
    one_hot: bool = False,
    download: bool = False,
) -> tuple[Split, Split]:
    """Load MNIST (``kind="mnist"``) or Fashion-MNIST (``kind="fashion"``).

    Returns ``((x_train, t_train), (x_test, t_test))`` with 60,000 and 10,000
    examples. x is float64 in [0, 1] when ``normalize`` (else the stored uint8
    0..255), shaped (N, 784) when ``flatten`` else (N, 1, 28, 28). t is int64
    class indices of shape (N,), or float64 one-hot rows (N, 10) with ``one_hot``.

    The four IDX files (each ``.gz`` or uncompressed) are looked for in ``root``
    (and ``root/<kind>``) when given, and only there. Otherwise in
    ``$GRAPHKIT_DATA/<kind>``, ``$GRAPHKIT_DATA``, ``~/.cache/graphkit/<kind>``
    and the Debian location ``/usr/share/datasets/fashion-mnist`` (``.../mnist``
    for MNIST), in that order; the first folder holding all four wins. With
    ``download=True`` missing files are fetched into ``root``, else
    ``$GRAPHKIT_DATA/<kind>``, else ``~/.cache/graphkit/<kind>``, and checked
    against their published SHA-256.

    Raises:
        FileNotFoundError: no folder holds the files and ``download`` is False;
            the message lists every folder looked in and how to get the files.
        ValueError: an unknown ``kind``, a file that is not valid IDX, or a
            download whose checksum does not match.
        OSError: ``download`` is True and every mirror failed for some file.
    """
    if kind not in SOURCES:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(SOURCES)}")
    source = SOURCES[kind]
    folders = candidate_folders(kind, root)
    paths = next((found for found in map(_find_files, folders) if found is not None), None)
    if paths is None:
        if not download:
            raise FileNotFoundError(_not_found_message(kind, folders, download_folder(kind, root)))
        paths = _download_missing(source, download_folder(kind, root))

    x_train, t_train = _load_split(paths[TRAIN_IMAGES], paths[TRAIN_LABELS])
    x_test, t_test = _load_split(paths[TEST_IMAGES], paths[TEST_LABELS])
    splits = []
    for images, labels in ((x_train, t_train), (x_test, t_test)):
        if normalize:
            images = images.astype(np.float64)
            images /= 255.0
        images = images.reshape(len(images), -1) if flatten else images[:, None]
        labels = encode_one_hot(labels, NUM_CLASSES) if one_hot else labels.astype(np.int64)
        splits.append((images, labels))
    return splits[0], splits[1]


def candidate_folders(kind: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders ``load_mnist`` searches, in order."""
    if root is not None:
        return [Path(root), Path(root) / kind]
    folders = []
    data_dir = os.environ.get(DATA_ENV_VAR)
    if data_dir:
        folders += [Path(data_dir) / kind, Path(data_dir)]
    folders.append(_cache_folder(kind))
    folders.append(SYSTEM_DATA_ROOT / SOURCES[kind].system_dir_name)
    return folders


def download_folder(kind: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where ``load_mnist(download=True)`` saves the files it fetches."""
    if root is not None:
        return Path(root)
    data_dir = os.environ.get(DATA_ENV_VAR)
    return Path(data_dir) / kind if data_dir else _cache_folder(kind)


def _cache_folder(kind: str) -> Path:
    return Path.home() / ".cache" / "graphkit" / kind


def _find_files(folder: Path) -> dict[str, Path] | None:
    """Map each file name to its path in ``folder``; None unless all four are there."""
    found = {name: _find_file(folder, name) for name in FILE_NAMES}
    paths = {name: path for name, path in found.items() if path is not None}
    return paths if len(paths) == len(found) else None


def _find_file(folder: Path, name: str) -> Path | None:
    """``folder/name.gz`` or else ``folder/name``, whichever exists first."""
    return next((p for p in (folder / f"{name}.gz", folder / name) if p.is_file()), None)


def _load_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_idx(images_path), load_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"{images_path}: expected images of shape (N, H, W), got {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected labels of shape (N,), got {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    return images, labels


def _not_found_message(kind: str, folders: list[Path], download_to: Path) -> str:
    source = SOURCES[kind]
    wanted = ", ".join(f"{name}[.gz]" for name in FILE_NAMES)
    looked = "\n".join(f"  {folder}" for folder in folders)
    hints = [
        f"  - load_mnist(..., download=True) fetches them into {download_to}",
        f"  - or put them in a folder and pass root=... or set ${DATA_ENV_VAR}",
    ]
    if source.apt_package:
        system_folder = SYSTEM_DATA_ROOT / source.system_dir_name
        hints.append(
            f"  - or, on Debian/Ubuntu: sudo apt-get install {source.apt_package} "
            f"(installs them into {system_folder})"
        )
    return (
        f"{source.title} files not found. Looked for {wanted} in:\n{looked}\n"
        "To get them:\n" + "\n".join(hints)
    )


def _download_missing(source: MnistSource, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        name: _find_file(folder, name) or _download(source, name, folder) for name in FILE_NAMES
    }


def _download(source: MnistSource, name: str, folder: Path) -> Path:
    """Fetch ``name``.gz from the first mirror that answers, verified by SHA-256."""
    destination = folder / f"{name}.gz"
    failures = []
    for mirror in source.mirrors:
        url = f"{mirror}{name}.gz"
        try:
            _fetch_verified(url, destination, source.sha256[name])
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"  {url}: {error}")
            continue
        return destination
    raise OSError(
        f"could not download {source.title} file {name}.gz from any mirror:\n" + "\n".join(failures)
    )


def _fetch_verified(url: str, destination: Path, expected_sha256: str) -> None:
    """Stream ``url`` into ``destination``; on a checksum mismatch nothing is left on disk."""
    print(f"Downloading {url} -> {destination}", file=sys.stderr)
    digest = hashlib.sha256()
    with (
        urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
        atomic_output(destination) as out,
    ):
        total = int(response.headers.get("Content-Length") or 0)
        received = 0
        while chunk := response.read(_DOWNLOAD_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            received += len(chunk)
            _report_progress(destination.name, received, total)
        print(file=sys.stderr)
        if digest.hexdigest() != expected_sha256:
            raise ValueError(
                f"checksum mismatch for {url}: SHA-256 {digest.hexdigest()}, "
                f"expected {expected_sha256}; the file was not saved"
            )


def _report_progress(name: str, received: int, total: int) -> None:
    done = f"{received / total:6.1%}" if total else f"{received:,} bytes"
    print(f"\r  {name}: {done}", end="", file=sys.stderr, flush=True)


def load_digits(normalize: bool = True, flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits bundled with scikit-learn (no download).

    Returns ``(x, t)``: x float64 of shape (1797, 64), or (1797, 1, 8, 8) when
    not ``flatten``, in [0, 1] when ``normalize`` (else the raw 0..16 counts);
    t int64 labels 0..9 of shape (1797,).

    Raises:
        ImportError: scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            'load_digits needs scikit-learn: pip install "graphkit[data]" '
            "(or pip install scikit-learn)"
        ) from error
    bunch = sklearn_load_digits()
    x = np.asarray(bunch.data, dtype=np.float64)
    if normalize:
        x = x / 16.0
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    return x, np.asarray(bunch.target, dtype=np.int64)
