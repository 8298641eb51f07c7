"""The benchmark suite runs end to end: a quick pass over a few workloads, each of which
first asserts that graphkit and the hand-written step compute the same result, writes
its table and JSON. Timings are measured, never asserted (CI machines are noisy)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_checks_the_variants_and_writes_the_report(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\nafter\n")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "W1,W4,W7", "--out", str(page)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(page.with_suffix(".json").read_text())
    results = {r["workload"]: r for r in report["results"]}
    assert list(results) == ["W1", "W4", "W7"]
    for name in ("W1", "W4"):
        assert results[name]["times"]["graphkit"] > 0 and results[name]["times"]["numpy"] > 0
        assert results[name]["paired"]["graphkit/numpy"] > 0  # paired by round
    assert results["W7"]["extra"]["chain 100k/1k per-node ratio"] > 0
    text = page.read_text()
    assert "| W4: LeNet-style step" in text and text.endswith("after\n")


def test_unknown_workload_is_a_usage_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "W99", "--out", str(tmp_path / "b.md")],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 2 and "W99" in done.stderr
