"""Fixtures shared by the graph-drawing tests."""

import os
import shutil

import pytest


@pytest.fixture
def dot_program() -> None:
    """Skip without Graphviz's dot, except in CI, where it is installed and required."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Graphviz, but the `dot` program is not on PATH")
        pytest.skip("the Graphviz `dot` program is not installed")
