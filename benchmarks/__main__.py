"""Run the benchmark suite: ``python -m benchmarks [--only W1,W5] [--quick] [--out DIR]``.

Prints a Markdown table of medians and ratios to the hand-written numpy version (and to
PyTorch CPU when it is installed) and writes it, with a JSON copy, to ``--out``.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from benchmarks import conv_steps, drawing, graph_overhead, memory, mlp_steps
from benchmarks.harness import blas_threads, to_markdown, write_reports

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W5")
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"),
                        help="the page whose results table is rewritten (JSON goes beside it)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    repeats = 3 if args.quick else 30
    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(WORKLOADS[name](repeats))
    machine = f"{platform.processor() or platform.machine()}, {blas_threads()} BLAS threads, " \
              f"Python {platform.python_version()}"
    print(to_markdown(results))
    write_reports(results, args.out, machine)


if __name__ == "__main__":
    main()
