"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the rank),
then one big-endian uint32 per dimension, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from graphkit.files import atomic_output

GZIP_MAGIC = b"\x1f\x8b"

# Every element type the format defines, as stored on disk (big-endian).
DTYPE_BY_CODE: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODE_BY_KIND_AND_SIZE: dict[tuple[str, int], int] = {
    (dtype.kind, dtype.itemsize): code for code, dtype in DTYPE_BY_CODE.items()
}

_MAX_RANK = 255
_MAX_DIM = 2**32 - 1


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw, into a new array.

    Compression is recognised by the gzip magic bytes, not by the file name.
    The result has the shape the header declares (any rank, rank 0 included)
    and the file's element type in native byte order.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is empty, truncated, not valid gzip, has a wrong
            magic number or an unknown dtype code, or holds more or fewer
            values than its header declares. The message names the file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt gzip data ({error})") from error
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if not raw:
        raise ValueError(f"{path}: empty file, expected an IDX header")
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, the magic alone is 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file (magic number 0x{raw[:4].hex()} does not start with 0x0000)"
        )
    code, rank = raw[2], raw[3]
    if code not in DTYPE_BY_CODE:
        known = ", ".join(f"0x{known:02X}" for known in DTYPE_BY_CODE)
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    header_size = 4 + 4 * rank
    if len(raw) < header_size:
        raise ValueError(
            f"{path}: truncated IDX header (rank {rank} needs {header_size} bytes, "
            f"file has {len(raw)})"
        )
    shape = struct.unpack(f">{rank}I", raw[4:header_size])
    dtype = DTYPE_BY_CODE[code]
    expected = math.prod(shape) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "size mismatch"
        raise ValueError(
            f"{path}: {problem}: header declares shape {shape} of {dtype.name} "
            f"({expected} data bytes), file holds {actual} data bytes"
        )
    values = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    # astype copies, so the result is writable and no longer pins the file's bytes.
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def save_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` (any rank up to 255) to ``path`` as an IDX file.

    ``compress=None`` gzips when the name ends in ``.gz``. The dtype must be one
    the format has: uint8, int8, int16, int32, float32 or float64 (any byte
    order). The file appears atomically: it is written to a temporary file in
    the same folder and renamed, so an interrupted write leaves nothing behind.

    Raises:
        TypeError: the dtype has no IDX code (e.g. int64, bool).
        ValueError: the rank or a dimension does not fit the IDX header.
    """
    path = Path(path)
    array = np.asarray(array)
    code = CODE_BY_KIND_AND_SIZE.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError(
            f"cannot write {path}: IDX has no type for dtype {array.dtype} "
            "(use uint8, int8, int16, int32, float32 or float64)"
        )
    if array.ndim > _MAX_RANK or any(dim > _MAX_DIM for dim in array.shape):
        raise ValueError(f"cannot write {path}: shape {array.shape} does not fit an IDX header")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=DTYPE_BY_CODE[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        # mtime=0 makes the bytes depend on the data only, so equal arrays give equal files.
        payload = gzip.compress(payload, mtime=0)
    with atomic_output(path) as out:
        out.write(payload)
