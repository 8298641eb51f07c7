"""Peak memory (RSS) of 20 LeNet-style steps at batch 256: graphkit vs the tuned
hand-written numpy step (``benchmarks.tuned_numpy``).

Each variant runs in a fresh interpreter, which reports its own peak RSS, so the two
measurements do not share an allocator's high-water mark. The peak is the kernel's VmHWM:
``getrusage``'s ru_maxrss would carry over the (larger) peak of this runner across exec.
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.harness import Result

STEPS = 20
BATCH = 256

_CHILD = """
import json, sys
from benchmarks.conv_steps import LR, graphkit_cnn_step_fn, lenet_setup
from benchmarks.tuned_numpy import TunedCNN
x, t, arrays = lenet_setup({batch})
if sys.argv[1] == "graphkit":
    step = graphkit_cnn_step_fn(x, t, arrays, (2, 2))[0]
else:
    step = TunedCNN(x, t, [a.copy() for a in arrays], LR, (2, 2)).step
for _ in range({steps}):
    step()
status = open("/proc/self/status").read()
peak_kb = int(status.split("VmHWM:")[1].split()[0])
print(json.dumps({{"peak_mb": peak_kb / 1024}}))
"""


def _measure(variant: str) -> dict[str, float]:
    code = _CHILD.format(batch=BATCH, steps=STEPS)
    out = subprocess.run([sys.executable, "-c", code, variant], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def peak_memory(repeats: int) -> Result:
    gk_mem, np_mem = _measure("graphkit"), _measure("numpy")
    extra = {
        "graphkit peak RSS MB": gk_mem["peak_mb"],
        "numpy peak RSS MB": np_mem["peak_mb"],
        "peak RSS ratio": gk_mem["peak_mb"] / np_mem["peak_mb"],
    }
    return Result("MEM", f"peak RSS of {STEPS} LeNet steps at batch {BATCH}", "MB",
                  {"graphkit": gk_mem["peak_mb"], "numpy": np_mem["peak_mb"]}, extra)
