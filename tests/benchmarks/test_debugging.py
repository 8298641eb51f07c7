"""ANOMALY and CKPT (benchmarks/debugging.py) run, check their variants agree and report."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_anomaly_and_checkpoint_workloads_report_their_figures(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "ANOMALY,CKPT", "--out",
         str(page)], cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(page.with_suffix(".json").read_text())
    results = {r["workload"]: r for r in report["results"]}
    assert results["ANOMALY"]["extra"]["anomaly on / off"] > 0
    extra = results["CKPT"]["extra"]
    assert extra["saved memory plain / checkpoint"] > 3  # measured, not timed: deterministic
    assert extra["step time checkpoint / plain"] > 0
