"""check_op's cost: one call with the defaults on unary elementwise ops, and the
registry-wide run of tests/testing/test_registry.py (every op of graphkit.ops on its
case, ``EXAMPLES_PER_OP`` examples each).

``python -m benchmarks.check_op [--calls N]`` prints wall-clock and CPU seconds (the
machines are shared: CPU time moves less); docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import statistics
import time

from hypothesis import settings

import graphkit as gk
from graphkit.cli.arguments import positive_int
from graphkit.testing import check_op
from graphkit.testing import strategies as gst
from graphkit.testing.op_cases import CASES, EXAMPLES_PER_OP

UNARY = {"tanh": gk.ops.tanh, "exp": gk.ops.exp, "sigmoid": gk.ops.sigmoid,
         "relu (kinks at 0 rejected)": gk.ops.relu}


def timed(call) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.check_op", description=__doc__)
    parser.add_argument("--calls", type=positive_int, default=5, help="default: 5")
    args = parser.parse_args(argv)
    # Nothing written to an example database; everything else as check_op's defaults.
    settings.register_profile("benchmarks-check-op", database=None)
    settings.load_profile("benchmarks-check-op")

    print(f"check_op(op, gst.tensors()) with the defaults (100 examples, order 2, float64 "
          f"and float32), {args.calls} calls:")
    for name, op in UNARY.items():
        runs = [timed(lambda op=op: check_op(op, gst.tensors())) for _ in range(args.calls)]
        walls, cpus = zip(*runs)
        print(f"  {name:28} median {statistics.median(walls):5.2f} s wall, "
              f"{statistics.median(cpus):5.2f} s CPU (max {max(walls):.2f} s wall)")

    per_op = {}
    for name, build in sorted(CASES.items()):
        case = build()
        per_op[name] = timed(lambda case=case: check_op(
            case.fn, *case.inputs, max_examples=EXAMPLES_PER_OP, order=case.order,
            dtypes=case.dtypes))
    wall = sum(w for w, _ in per_op.values())
    cpu = sum(c for _, c in per_op.values())
    print(f"registry: {len(per_op)} ops, {EXAMPLES_PER_OP} examples each: {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU")
    slowest = sorted(per_op.items(), key=lambda item: -item[1][1])[:5]
    print("  slowest (CPU s): " + ", ".join(f"{name} {c:.2f}" for name, (_, c) in slowest))


if __name__ == "__main__":
    main()
