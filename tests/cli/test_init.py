"""The app apart from the library: the library imports neither ``models`` nor ``graphkit.cli``."""

import subprocess
import sys
from pathlib import Path

import pytest

from graphkit import __version__
from graphkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ["graphkit", "graphkit.data", "graphkit.nn", "graphkit.optim", "graphkit.train",
           "graphkit.viz", "graphkit.testing", "graphkit.metrics", "graphkit.files"]  # fmt: skip


def test_the_library_imports_without_models_or_the_app():
    # models is blocked: any import of it in the library fails.
    script = (
        "import importlib, sys\n"
        "sys.modules['models'] = None\n"
        f"for name in {LIBRARY!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('graphkit.cli')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout == "[]\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"graphkit {__version__}\n"
