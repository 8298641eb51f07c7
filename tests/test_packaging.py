"""The wheel: ``python -m build`` makes one that works installed outside the checkout.

The source tree is copied to tmp_path first, so that a stale ``build/`` folder in the
checkout cannot slip old modules into the wheel. The wheel goes into a fresh virtualenv
with ``--no-deps``; that venv sees the dependencies already installed beside this
interpreter (numpy, scikit-learn, ...) through a ``.pth`` file, so nothing is downloaded.
Everything then runs from tmp_path, outside the repository.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("build")

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "runs", "site", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis", ".device",
)  # fmt: skip


def run(command, cwd, **kwargs):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source") / "graphkit"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    dist = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    run(build, cwd=source)
    (path,) = dist.glob("graphkit-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """The python of a fresh venv holding the wheel and nothing else of graphkit."""
    folder = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(folder)], cwd=folder)
    python = folder / "bin" / "python"
    venv_site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=folder).strip()
    )  # fmt: skip
    # Only the dependencies: a folder added by a .pth line has its own .pth files (this
    # project's editable install among them) left unread.
    (venv_site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    run([*pip, "--no-index", str(wheel)], cwd=folder)
    return python


def test_the_wheel_holds_the_packages_and_py_typed(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {"graphkit/py.typed", "graphkit/cli/__init__.py", "graphkit/onnx.py",
            "models/lenet.py"} <= set(names)  # fmt: skip
    assert not [name for name in names if name.startswith(("tests/", "docs/", "benchmarks/"))]


def test_installed_graphkit_trains_from_outside_the_repository(venv, tmp_path):
    env = {**os.environ, "PYTHONPATH": ""}  # the checkout must not be importable
    command = [str(venv), "-m", "graphkit", "train", "mlp", "--dataset", "digits"]
    out = run([*command, "--epochs", "1", "--out", "run", "--no-progress"], tmp_path, env=env)
    assert "test accuracy: " in out
    assert (tmp_path / "run" / "model.npz").is_file()
    where = run([str(venv), "-c", "import graphkit; print(graphkit.__file__)"], tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv.parent.parent)


def test_installed_graphkit_draws_and_has_its_console_script(venv, tmp_path):
    script = (
        "import graphkit as gk\n"
        "x = gk.Tensor([1.0, 2.0], requires_grad=True, name='x')\n"
        "print(gk.viz.to_dot((x * x).sum()))\n"
    )
    assert run([str(venv), "-c", script], tmp_path).startswith("digraph")
    console = venv.parent / "graphkit"
    assert "train" in run([str(console), "--help"], tmp_path)
