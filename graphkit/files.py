"""Writing files so that readers never see half of one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` that replaces ``path`` on success.

    If the ``with`` block raises, the temporary file is removed and ``path`` is left as
    it was: an interrupted write (a crash, Ctrl-C, a full disk) leaves no partial file.
    """
    path = Path(path)
    # open(..., "x") rather than mkstemp, so the file gets the usual umask permissions.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(temporary, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
