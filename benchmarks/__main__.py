"""Run the benchmark suite: ``python -m benchmarks [--only W1,W5] [--quick] [--out DIR]``.

Prints a Markdown table of medians and ratios to the hand-written numpy version (and to
PyTorch CPU when it is installed) and writes it, with a JSON copy, to ``--out``.

Each variant of each workload (graphkit, numpy by hand, PyTorch) is timed in fresh
interpreters of its own, in rounds (graphkit, numpy, torch; graphkit, numpy, torch; ...).
A time is the median of the processes' medians; a ratio is the median over rounds of
the ratio within a round, so that the machine's drift from round to round cancels. A
training run is one process stepping one model, and sharing a process distorted the
figures both ways: what one step leaves in the C allocator's free lists slowed the other
(LeNet's step took 18 ms alone, 23 to 31 ms beside the hand-written one or after other
workloads), and merely importing PyTorch made the numpy work of graphkit and of the
hand-written steps slower (27 instead of 18 ms, with 3,171 page faults a step instead of
none).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from benchmarks import (
    conv_steps,
    debugging,
    drawing,
    fixed_cost,
    forward_mode,
    graph_overhead,
    memory,
    mlp_steps,
    normalization,
    window_ops,
)
from benchmarks.harness import Result, blas_threads, time_only, to_markdown, write_reports
from benchmarks.reductions import lse
from graphkit.cli.arguments import positive_int

WORKLOADS = {
    "W1": mlp_steps.w1,
    "W2": mlp_steps.w2,
    "W3": conv_steps.w3,
    "W4": conv_steps.w4,
    "FIXED": fixed_cost.fixed_cost,
    "W5": graph_overhead.w5,
    "W6": graph_overhead.w6,
    "W7": graph_overhead.w7,
    "W8": forward_mode.w8,
    "W9": forward_mode.w9,
    "LSE": lse,
    "BN": normalization.bn,
    "LN": normalization.ln,
    "BNCNN": normalization.bncnn,
    "AVGPOOL": window_ops.avgpool,
    "CONVT": window_ops.convt,
    "ANOMALY": debugging.anomaly,
    "CKPT": debugging.checkpointing,
    "MEM": memory.peak_memory,
    "VIZ": drawing.drawing,
}
# Workloads timed variant by variant; the others (FIXED, W7, ANOMALY, CKPT, MEM, VIZ) run
# once, in one process.
VARIANTS = {"W1", "W2", "W3", "W4", "W5", "W6", "W8", "W9", "LSE", "BN", "LN", "BNCNN",
            "AVGPOOL", "CONVT"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W5")
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--rounds", type=positive_int, default=7,
                        help="fresh processes per variant of W1-W6 (default 7; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"),
                        help="the page whose results table is rewritten (JSON goes beside it)")
    parser.add_argument("--worker", choices=["graphkit", "numpy", "torch", "all"],
                        help="time that variant of the workloads here and print the results "
                             "as JSON: what the suite runs in each of its child processes")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    repeats = 3 if args.quick else 30
    if args.worker:
        if args.worker != "all":
            time_only(args.worker)
        print(json.dumps([asdict(WORKLOADS[name](repeats)) for name in names]))
        return
    variants = ["graphkit", "numpy"]
    if importlib.util.find_spec("torch") is not None:
        variants.append("torch")
    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        if name in VARIANTS:
            results.append(time_in_turns(name, variants, rounds=1 if args.quick else args.rounds,
                                         quick=args.quick))
        else:
            results.append(run_worker(name, "all", args.quick))
    machine = f"{platform.processor() or platform.machine()}, {blas_threads()} BLAS threads, " \
              f"Python {platform.python_version()}"
    print(to_markdown(results))
    write_reports(results, args.out, machine)


def time_in_turns(name: str, variants: list[str], rounds: int, quick: bool) -> Result:
    """Workload ``name`` with each variant timed in ``rounds`` fresh processes, in turns:
    times are the median of the processes' medians, ratios the median of the ratios
    within each round, with their lowest and highest as the spread."""
    runs: dict[str, list[float]] = {variant: [] for variant in variants}
    extras: dict[str, list[float]] = {}
    for _ in range(rounds):
        for variant in variants:
            result = run_worker(name, variant, quick)
            if variant in result.times:  # a workload may have no such variant
                runs[variant].append(result.times[variant])
            for key, value in result.extra.items():
                extras.setdefault(key, []).append(value)
    result.extra = {key: statistics.median(values) for key, values in extras.items()}
    result.times = {variant: statistics.median(times) for variant, times in runs.items() if times}
    ratios = {
        f"graphkit/{other}": [a / b for a, b in zip(runs["graphkit"], times)]
        for other, times in runs.items()
        if other != "graphkit" and runs["graphkit"] and len(times) == len(runs["graphkit"])
    }
    result.paired = {key: statistics.median(values) for key, values in ratios.items()}
    result.spread = {key: [min(values), max(values)] for key, values in ratios.items()}
    return result


def run_worker(name: str, variant: str, quick: bool) -> Result:
    """Workload ``name`` run in a fresh interpreter that times ``variant`` (or "all")."""
    command = [sys.executable, "-m", "benchmarks", "--worker", variant, "--only", name]
    done = subprocess.run(command + ["--quick"] * quick, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark {name} ({variant}) failed:\n{done.stderr}")
    (fields,) = json.loads(done.stdout.splitlines()[-1])
    return Result(**fields)


if __name__ == "__main__":
    main()
