"""Every lesson script in docs/lessons/ runs and passes its own assertions.

Each script runs in a fresh Python process in fast mode (GRAPHKIT_FAST=1) with its
pictures going to a temporary folder (GRAPHKIT_LESSON_OUT), so the pictures committed in
docs/lessons/images/ are left alone; they come from full runs of the same scripts.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphkit.data.datasets import FILE_NAMES, candidate_folders

ROOT = Path(__file__).resolve().parents[2]
LESSONS_DIR = ROOT / "docs" / "lessons"
LESSONS = sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))
IMAGES_DIR = LESSONS_DIR / "images"
# The lessons that read Fashion-MNIST, and the one that renders with Graphviz's dot.
NEEDS_FASHION_MNIST = {"06_training.py", "07_regularization.py", "08_data.py"}
NEEDS_DOT = {"05_graphs.py"}
TIMEOUT_S = 180


def fashion_mnist_installed() -> bool:
    """Whether gk.data.load_mnist(kind="fashion") would find all four files."""
    return any(
        all((folder / name).is_file() or (folder / f"{name}.gz").is_file() for name in FILE_NAMES)
        for folder in candidate_folders("fashion")
    )


def missing_requirement(script: Path) -> str | None:
    """Why ``script`` cannot run on this machine, or None."""
    if script.name in NEEDS_FASHION_MNIST and not fashion_mnist_installed():
        return f"{script.name} needs Fashion-MNIST (apt-get install dataset-fashion-mnist)"
    if script.name in NEEDS_DOT and shutil.which("dot") is None:
        return f"{script.name} needs the Graphviz `dot` program (apt-get install graphviz)"
    return None


def pictures_on_page(script: Path) -> set[str]:
    """The file names under images/ that the script's page shows."""
    page = script.with_suffix(".md").read_text(encoding="utf-8")
    return set(re.findall(r"\(images/([^)\s]+)\)", page))


def test_the_lessons_are_found():
    assert len(LESSONS) >= 10
    assert len({lesson.stem[:2] for lesson in LESSONS}) == len(LESSONS), "duplicate numbers"


@pytest.mark.parametrize("script", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_lesson_runs(script, tmp_path):
    missing = missing_requirement(script)
    if missing:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{missing}; CI must provide it")
        pytest.skip(missing)
    out = tmp_path / "images"
    env = {
        **os.environ,
        "GRAPHKIT_FAST": "1",
        "GRAPHKIT_LESSON_OUT": str(out),
        "MPLBACKEND": "Agg",
        # The scripts import graphkit and models from the checkout, installed or not.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    # Run from tmp_path, so that nothing a script might write lands in the checkout.
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, (
        f"{script.name} exited with {done.returncode}\n"
        f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-5000:]}"
    )
    # The page shows what the script draws, and the drawing is committed.
    for name in pictures_on_page(script):
        assert (out / name).is_file(), f"{script.name} did not write images/{name}"
        assert (IMAGES_DIR / name).is_file(), f"docs/lessons/images/{name} is not committed"


@pytest.mark.parametrize("script", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_every_lesson_has_a_page_listed_in_the_index(script):
    page = script.with_suffix(".md")
    assert page.is_file(), f"{script.name} has no page {page.name}"
    assert page.name in (LESSONS_DIR / "index.md").read_text(encoding="utf-8")
