"""ANOMALY: the cost of anomaly mode on W5's chain; CKPT: checkpointing a 20-block MLP.

ANOMALY times W5's chain of 1000 add/mul/tanh ops, forward and backward, with anomaly mode
off and on, in blocks within one process. CKPT trains a 20-block MLP (blocks of
Linear-ReLU-Linear-ReLU, 512 wide, batch 256, float32) one SGD step at a time, without and
with ``gk.checkpoint`` around each block, and reports the bytes the graph keeps for
backward (``gk.viz.saved_memory``, measured just before backward) and the step time.
"""

from __future__ import annotations

import numpy as np

import graphkit as gk
from benchmarks.graph_overhead import CHAIN, _chain_graphkit
from benchmarks.harness import Result, time_variants

BLOCKS = 20
WIDTH = 512
BATCH = 256
CLASSES = 10


def anomaly(repeats: int) -> Result:
    def with_anomaly() -> np.ndarray:
        with gk.detect_anomaly():
            return _chain_graphkit()

    np.testing.assert_allclose(with_anomaly(), _chain_graphkit(), rtol=0)
    times = time_variants({"off": _chain_graphkit, "on": with_anomaly}, repeats,
                          scale=1e6 / CHAIN)
    extra = {"anomaly on / off": times["on"] / times["off"]}
    return Result("ANOMALY", f"W5's chain of {CHAIN} ops, anomaly mode off and on", "us/op",
                  {"graphkit": times["off"]}, {**{f"anomaly {k} us/op": v for k, v in
                                                  times.items()}, **extra})


def _mlp(seed: int = 0):
    gk.manual_seed(seed)
    blocks = [gk.nn.Sequential(gk.nn.Linear(WIDTH, WIDTH, dtype=np.float32), gk.nn.ReLU(),
                               gk.nn.Linear(WIDTH, WIDTH, dtype=np.float32), gk.nn.ReLU())
              for _ in range(BLOCKS)]
    head = gk.nn.Linear(WIDTH, CLASSES, dtype=np.float32)
    params = [p for block in blocks for p in block.parameters()] + list(head.parameters())
    return blocks, head, params


def _step_fn(checkpointed: bool, seed: int = 0):
    """A function doing one SGD step, and one returning the loss before backward."""
    blocks, head, params = _mlp(seed)
    rng = np.random.default_rng(seed)
    x = gk.Tensor(rng.standard_normal((BATCH, WIDTH)).astype(np.float32))
    t = rng.integers(0, CLASSES, BATCH)
    optimizer = gk.optim.SGD(params, lr=1e-3)

    def loss():
        h = x
        for block in blocks:
            h = gk.checkpoint(block, h) if checkpointed else block(h)
        return gk.F.softmax_cross_entropy(head(h), t)

    def step() -> float:
        value = loss()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return value.item()

    return step, loss, params


def checkpointing(repeats: int) -> Result:
    plain_step, plain_loss, plain_params = _step_fn(False)
    ckpt_step, ckpt_loss, ckpt_params = _step_fn(True)
    assert plain_step() == ckpt_step()  # the same forward pass, bit for bit
    for p, q in zip(plain_params, ckpt_params):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-5, atol=1e-6)
    saved = {"plain": gk.viz.saved_memory(plain_loss()).total,
             "checkpoint": gk.viz.saved_memory(ckpt_loss()).total}
    times = time_variants({"plain": plain_step, "checkpoint": ckpt_step}, max(3, repeats // 3),
                          warmup=1)
    extra = {
        "saved MB without checkpoint": saved["plain"] / 2**20,
        "saved MB with checkpoint": saved["checkpoint"] / 2**20,
        "saved memory plain / checkpoint": saved["plain"] / saved["checkpoint"],
        "step ms without checkpoint": times["plain"],
        "step ms with checkpoint": times["checkpoint"],
        "step time checkpoint / plain": times["checkpoint"] / times["plain"],
    }
    return Result("CKPT", f"{BLOCKS}-block MLP {WIDTH} wide, batch {BATCH}, float32, SGD step, "
                  "checkpoint per block", "ms/step", {"graphkit": times["checkpoint"]}, extra)
