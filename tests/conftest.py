"""Settings and fixtures for the whole suite.

Hypothesis: no deadline (CI machines stall), few examples. ``dot_program``: for the tests
that render with Graphviz (tests/viz, tests/cli).
"""

import os
import shutil

import pytest
from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=40)
settings.load_profile("ci")


@pytest.fixture
def dot_program() -> None:
    """Skip without Graphviz's dot, except in CI, where it is installed and required."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Graphviz, but the `dot` program is not on PATH")
        pytest.skip("the Graphviz `dot` program is not installed")
