"""Settings and fixtures for the whole suite.

Hypothesis: no deadline (CI machines stall), few examples. ``dot_program``: for the tests
that render with Graphviz (tests/viz, tests/cli). ``fashion``: the real data set for the
accuracy tests.
"""

import os
import shutil

import numpy as np
import pytest
from hypothesis import settings

from graphkit.data import load_mnist

settings.register_profile("ci", deadline=None, max_examples=40)
settings.load_profile("ci")


@pytest.fixture
def dot_program() -> None:
    """Skip without Graphviz's dot, except in CI, where it is installed and required."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Graphviz, but the `dot` program is not on PATH")
        pytest.skip("the Graphviz `dot` program is not installed")


@pytest.fixture(scope="session")
def fashion():
    """((x_train, t_train), (x_test, t_test)) with images (N, 1, 28, 28) in float32.

    From Debian's dataset-fashion-mnist package; skipped without it, except on CI
    (CI=true), where a missing data set is a failure.
    """
    try:
        (x_train, t_train), (x_test, t_test) = load_mnist(kind="fashion", flatten=False)
    except FileNotFoundError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Fashion-MNIST must be installed on CI:\n{error}")
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    return (x_train.astype(np.float32), t_train), (x_test.astype(np.float32), t_test)
