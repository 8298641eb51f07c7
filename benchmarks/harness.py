"""Timing, comparison and reporting shared by every workload.

A workload is a set of named variants ("graphkit", "numpy", "torch") of the same
computation. Each variant is a zero-argument callable doing one unit of work. The
harness checks the variants agree, then times them in interleaved blocks (AAAA BBBB
AAAA BBBB ...) so drift in the machine's speed hits all of them alike, and reports
medians and ratios. ``python -m benchmarks`` goes further and times each variant in
processes of its own (``time_only``).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

BASELINE = "numpy"


@dataclass
class Result:
    workload: str
    description: str
    unit: str  # what one "time" is: "ms/step", "us/op", ...
    times: dict[str, float] = field(default_factory=dict)  # variant -> median, in unit
    extra: dict[str, float] = field(default_factory=dict)  # e.g. peak memory
    # "graphkit/numpy" -> the median over rounds of the two variants' ratio within a round
    paired: dict[str, float] = field(default_factory=dict)
    # "graphkit/numpy" -> [lowest, highest] of those ratios: the spread over rounds
    spread: dict[str, list[float]] = field(default_factory=dict)

    def ratio(self, variant: str, to: str = BASELINE) -> float | None:
        """``variant``'s time over ``to``'s: paired by round when the suite timed rounds."""
        if f"{variant}/{to}" in self.paired:
            return self.paired[f"{variant}/{to}"]
        if variant not in self.times or to not in self.times:
            return None
        return self.times[variant] / self.times[to]


_only: str | None = None


def time_only(variant: str) -> None:
    """From now on this process times ``variant`` of each workload and no other; PyTorch
    is imported only when that variant is "torch" (see ``__main__``)."""
    global _only
    _only = variant


def torch_or_none():
    """PyTorch, set to the threads NumPy's BLAS uses, when this process times it; else None."""
    if _only != "torch":
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(blas_threads())
    return torch


def check_same_step(loss_graphkit: float, loss_numpy: float, params, numpy_params, dtype) -> None:
    """One step of graphkit and of the hand-written version, from the same weights, must
    give the same loss and the same updated parameters (Tensors and arrays)."""
    tol = 1e-4 if dtype == np.float32 else 1e-9
    assert abs(loss_graphkit - loss_numpy) <= tol * max(1, abs(loss_numpy)), (
        loss_graphkit, loss_numpy)
    for p, q in zip(params, numpy_params):
        np.testing.assert_allclose(p.data, q, rtol=tol * 10, atol=tol)


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts, default=os.cpu_count() or 1)


def time_variants(
    variants: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int = 3,
    scale: float = 1e3,
) -> dict[str, float]:
    """Median wall time of each variant over ``repeats`` runs, times ``scale``: of the
    one variant ``time_only`` named, when it did."""
    if _only is not None:
        variants = {name: fn for name, fn in variants.items() if name == _only}
    medians = _interleaved(variants, repeats, warmup)
    return {name: medians[name] * scale for name in variants}


def _interleaved(
    variants: dict[str, Callable[[], object]], repeats: int, warmup: int, rounds: int = 5
) -> dict[str, float]:
    """Median seconds per call of each variant: ``rounds`` rounds, each running every
    variant ``warmup`` times untimed, then about repeats / rounds times timed.

    Blocks rather than alternating single calls: a step that allocates tens of MB leaves
    the C allocator's free lists shaped for itself, and alternating calls made each
    variant pay for the other's (LeNet's step: 31 ms alternating against 18 ms alone,
    the numpy step 76 against 59).
    """
    per_round = max(1, -(-repeats // rounds))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            for _ in range(warmup):
                fn()
            for _ in range(per_round):
                start = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def to_markdown(results: list[Result]) -> str:
    has_torch = any("torch" in r.times for r in results)
    head = "| workload | unit | graphkit | numpy by hand | graphkit / numpy |"
    rule = "| --- | --- | ---: | ---: | ---: |"
    if has_torch:
        head += " torch | graphkit / torch |"
        rule += " ---: | ---: |"
    lines = [head, rule]
    for r in results:
        row = [f"{r.workload}: {r.description}", r.unit, _fmt(r.times.get("graphkit")),
               _fmt(r.times.get("numpy")), _ratio_cell(r, BASELINE)]
        if has_torch:
            row += [_fmt(r.times.get("torch")), _ratio_cell(r, "torch")]
        lines.append("| " + " | ".join(row) + " |")
    extras = [(r, k, v) for r in results for k, v in r.extra.items()]
    if extras:
        lines += ["", "| workload | measure | value |", "| --- | --- | ---: |"]
        lines += [f"| {r.workload} | {k} | {_fmt(v)} |" for r, k, v in extras]
    return "\n".join(lines) + "\n"


def _ratio_cell(r: Result, to: str) -> str:
    """graphkit's ratio to ``to``, with its spread over rounds when the suite timed rounds."""
    cell = _fmt(r.ratio("graphkit", to), "x")
    if f"graphkit/{to}" in r.spread:
        low, high = r.spread[f"graphkit/{to}"]
        cell += f" ({_fmt(low)}–{_fmt(high)})"
    return cell


def _fmt(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:.0f}{suffix}"
    return f"{value:.3g}{suffix}"


def write_reports(results: list[Result], page: Path, machine: str) -> None:
    """Splice the table into ``page`` between its results markers and write a JSON copy
    beside it (``page`` with a .json suffix); both atomically."""
    table = f"Measured on {machine}.\n\n" + to_markdown(results)
    text = page.read_text() if page.exists() else f"{START}\n{END}\n"
    if START not in text or END not in text:
        raise ValueError(f"{page} lacks the markers {START} and {END}")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    payload = {"machine": machine, "results": [asdict(r) for r in results]}
    _write_atomically(page, f"{head}{START}\n{table}{END}{tail}")
    _write_atomically(page.with_suffix(".json"), json.dumps(payload, indent=2) + "\n")


START, END = "<!-- results:start -->", "<!-- results:end -->"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
