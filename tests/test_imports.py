"""graphkit imports whichever of its modules is loaded first."""

import pkgutil
import subprocess
import sys

import pytest

import graphkit

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(graphkit.__path__, "graphkit.")
    if not name.startswith("graphkit.cli")  # the app may import anything
)

# Load `first` before graphkit/__init__.py runs (a stub package stands in for it), then
# run the real __init__, as if it imported its modules in another order.
PROGRAM = """
import importlib, importlib.util, sys, types
spec = importlib.util.find_spec("graphkit")
stub = types.ModuleType("graphkit")
stub.__path__ = list(spec.submodule_search_locations)
sys.modules["graphkit"] = stub
importlib.import_module(sys.argv[1])
exec(compile(open(spec.origin).read(), spec.origin, "exec"), stub.__dict__)
x = stub.Tensor([1.0, 2.0], requires_grad=True)
(x * x).sum().backward()
assert x.grad.data.tolist() == [2.0, 4.0]
"""


@pytest.mark.parametrize(
    "first",
    [m for m in MODULES if m.split(".")[1] in {"graph", "tensor", "autograd", "forward", "ops",
                                               "backend", "scope", "func", "functional", "nn"}],
)
def test_any_module_may_be_imported_first(first):
    result = subprocess.run([sys.executable, "-c", PROGRAM, first], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
