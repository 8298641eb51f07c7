"""Run the benchmark suite: ``python -m benchmarks [--only W1,W5] [--quick] [--out DIR]``.

Prints a Markdown table of medians and ratios to the hand-written numpy version (and to
PyTorch CPU when it is installed) and writes it, with a JSON copy, to ``--out``.

PyTorch is timed in a second process of its own: merely importing it made the numpy
work of graphkit and of the hand-written steps in the same process slower (LeNet's
step 27 instead of 18 ms, with 3,171 page faults a step instead of none).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

from benchmarks import conv_steps, drawing, graph_overhead, memory, mlp_steps
from benchmarks.harness import Result, blas_threads, enter_torch_phase, to_markdown, write_reports

WORKLOADS = {
    "W1": mlp_steps.w1,
    "W2": mlp_steps.w2,
    "W3": conv_steps.w3,
    "W4": conv_steps.w4,
    "W5": graph_overhead.w5,
    "W6": graph_overhead.w6,
    "W7": graph_overhead.w7,
    "MEM": memory.peak_memory,
    "VIZ": drawing.drawing,
}
WITH_TORCH = ("W1", "W2", "W3", "W4", "W5", "W6")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W5")
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"),
                        help="the page whose results table is rewritten (JSON goes beside it)")
    parser.add_argument("--torch-phase", action="store_true",
                        help="time the PyTorch variants only and print them as JSON "
                             "(what the suite runs in its second process)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    repeats = 3 if args.quick else 30
    if args.torch_phase:
        enter_torch_phase()
        times = {name: WORKLOADS[name](repeats).times for name in names if name in WITH_TORCH}
        print(json.dumps({name: t["torch"] for name, t in times.items() if "torch" in t}))
        return
    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(WORKLOADS[name](repeats))
    add_torch_times(results, args.quick)
    machine = f"{platform.processor() or platform.machine()}, {blas_threads()} BLAS threads, " \
              f"Python {platform.python_version()}"
    print(to_markdown(results))
    write_reports(results, args.out, machine)


def add_torch_times(results: list[Result], quick: bool) -> None:
    """Time the PyTorch variants in a process of their own, when PyTorch is installed."""
    names = [r.workload for r in results if r.workload in WITH_TORCH]
    if not names or importlib.util.find_spec("torch") is None:
        return
    print("running PyTorch ...", file=sys.stderr, flush=True)
    command = [sys.executable, "-m", "benchmarks", "--torch-phase", "--only", ",".join(names)]
    done = subprocess.run(command + ["--quick"] * quick, capture_output=True, text=True,
                          check=True)
    torch_times = json.loads(done.stdout.splitlines()[-1])
    for result in results:
        if result.workload in torch_times:
            result.times["torch"] = torch_times[result.workload]


if __name__ == "__main__":
    main()
