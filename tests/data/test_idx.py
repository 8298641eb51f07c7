import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from graphkit.data import idx
from graphkit.data.idx import load_idx, save_idx

IDX_DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]


def _example(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    values = np.arange(int(np.prod(shape))) - 7
    if np.dtype(dtype).kind == "u":
        values = values % 256
    return (values * (0.5 if np.dtype(dtype).kind == "f" else 1)).astype(dtype).reshape(shape)


@pytest.mark.parametrize("dtype", IDX_DTYPES)
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4)])
@pytest.mark.parametrize("name", ["array.idx", "array.idx.gz"])
def test_round_trip(tmp_path, dtype, shape, name):
    array = _example(dtype, shape)
    save_idx(tmp_path / name, array)
    loaded = load_idx(tmp_path / name)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)


@settings(max_examples=60, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from(IDX_DTYPES),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
    ),
    compress=st.booleans(),
    big_endian=st.booleans(),
)
def test_round_trip_property(array, compress, big_endian):
    if big_endian:
        array = array.astype(array.dtype.newbyteorder(">"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "array.idx"
        save_idx(path, array, compress=compress)
        loaded = load_idx(path)
    assert loaded.shape == array.shape
    assert loaded.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(loaded, array)


def test_writes_the_documented_layout(tmp_path):
    save_idx(tmp_path / "a.idx", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int16))
    expected_header = bytes([0, 0, 0x0B, 2]) + struct.pack(">2I", 2, 3)
    expected_data = b"".join(struct.pack(">h", value) for value in range(1, 7))
    assert (tmp_path / "a.idx").read_bytes() == expected_header + expected_data


def test_reads_a_handmade_file(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 4) + bytes([7, 0, 255, 3]))
    np.testing.assert_array_equal(load_idx(path), np.array([7, 0, 255, 3], dtype=np.uint8))


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = _example("float32", (3, 2))
    save_idx(tmp_path / "compressed.idx", array, compress=True)
    save_idx(tmp_path / "plain.gz", array, compress=False)
    assert (tmp_path / "compressed.idx").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(load_idx(tmp_path / "compressed.idx"), array)
    np.testing.assert_array_equal(load_idx(tmp_path / "plain.gz"), array)


def test_loaded_array_is_writable(tmp_path):
    save_idx(tmp_path / "a.idx", np.zeros(3, dtype=np.uint8))
    loaded = load_idx(tmp_path / "a.idx")
    loaded[0] = 1
    assert loaded[0] == 1


def test_accepts_str_paths(tmp_path):
    save_idx(str(tmp_path / "a.idx"), np.ones(2, dtype=np.int32))
    assert load_idx(str(tmp_path / "a.idx")).tolist() == [1, 1]


GOOD_HEADER = bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 2, 3)

BAD_FILES = {
    "empty": (b"", "empty"),
    "shorter than the magic": (b"\x00\x00", "truncated"),
    "wrong magic": (b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
    "unknown dtype code": (bytes([0, 0, 0x0A, 1]) + struct.pack(">I", 1) + b"\x00", "0x0A"),
    "truncated header": (bytes([0, 0, 0x08, 3]) + struct.pack(">I", 2), "truncated"),
    "truncated data": (GOOD_HEADER + bytes(5), "truncated"),
    "too much data": (GOOD_HEADER + bytes(7), "size mismatch"),
    "corrupt gzip": (b"\x1f\x8b" + b"not really gzip", "gzip"),
    "truncated gzip": (gzip.compress(GOOD_HEADER + bytes(6))[:-12], "gzip"),
    "gzipped empty file": (gzip.compress(b""), "empty"),
    "gzipped truncated data": (gzip.compress(GOOD_HEADER + bytes(2)), "truncated"),
}


@pytest.mark.parametrize("content, problem", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_raise_value_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "bad-file.idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=problem) as raised:
        load_idx(path)
    assert str(path) in str(raised.value)


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nowhere.idx"
    with pytest.raises(FileNotFoundError) as raised:
        load_idx(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float16", "complex128"])
def test_save_rejects_types_idx_cannot_hold(tmp_path, dtype):
    path = tmp_path / "a.idx"
    with pytest.raises(TypeError, match=dtype):
        save_idx(path, np.zeros(2, dtype=dtype))
    assert not path.exists()


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.idx"
    save_idx(path, np.array([1, 2], dtype=np.uint8))
    before = path.read_bytes()

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(idx.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        save_idx(path, np.array([3, 4, 5], dtype=np.uint8))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.idx"]
