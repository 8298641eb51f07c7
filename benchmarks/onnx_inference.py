"""LeNet inference at batch 256: onnxruntime running the exported model against graphkit's
forward (eval mode, no_grad), both float32 on the same number of threads.

``python -m benchmarks.onnx_inference [--repeats N]`` prints the two medians and their
ratio; docs/benchmarks.md records the figures. The two are checked to agree first.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import graphkit as gk
from benchmarks.harness import blas_threads, time_variants
from graphkit.cli.arguments import positive_int
from models import LeNet

BATCH = 256


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.onnx_inference", description=__doc__
    )
    parser.add_argument("--repeats", type=positive_int, default=50, help="default: 50")
    args = parser.parse_args(argv)
    import onnxruntime

    np.random.seed(0)
    model = LeNet(10, dtype=np.float32).eval()
    x = np.random.default_rng(0).random((BATCH, 1, 28, 28), dtype=np.float32)
    threads = blas_threads()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lenet.onnx"
        gk.onnx.export(model, x[:1], path)
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def graphkit_forward() -> np.ndarray:
        with gk.no_grad():
            return model(gk.Tensor(x)).data

    def onnxruntime_run() -> np.ndarray:
        return session.run(None, {"input": x})[0]

    np.testing.assert_allclose(onnxruntime_run(), graphkit_forward(), rtol=1e-5, atol=1e-5)
    times = time_variants(
        {"graphkit": graphkit_forward, "onnxruntime": onnxruntime_run}, args.repeats
    )
    print(f"LeNet forward, batch {BATCH}, float32, {threads} thread(s), median of {args.repeats}:")
    for name, milliseconds in times.items():
        print(f"  {name:12} {milliseconds:8.2f} ms")
    print(f"  graphkit / onnxruntime: {times['graphkit'] / times['onnxruntime']:.2f}x")


if __name__ == "__main__":
    main()
