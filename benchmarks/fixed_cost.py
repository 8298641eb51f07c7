"""FIXED: the part of W3's step that does not grow with the batch (issue 19).

W3's network is timed at batch 1, 8 and 64: graphkit's step against the tuned
hand-written one (``benchmarks.tuned_numpy``), in one process, batch size by batch size,
the two in interleaved blocks so that the machine's drift hits both alike. At batch 1,
where the arrays cost almost nothing, a third variant calls graphkit's own ops straight
on arrays, in the order the engine calls them, with the SGD update written out: no
Tensors, no recording, no walk, no optimizer. The full step's time less this one's is
the engine's share of the fixed cost; this one's less the tuned step's is what the ops'
generality costs (argument checks, buffers looked up by shape, views built at every call).

W3's arrays are small (the largest is 1 MB), so the steps can share a process without
shaping the allocator for one another, which the LeNet steps cannot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import graphkit as gk
from benchmarks.conv_steps import LR, TINYNET_PADS, graphkit_cnn_step_fn, tinynet_setup
from benchmarks.harness import Result, check_same_step, time_variants
from benchmarks.tuned_numpy import TunedCNN
from graphkit.graph import Op
from graphkit.ops.arithmetic import Linear
from graphkit.ops.conv import Conv2d
from graphkit.ops.elementwise import Relu
from graphkit.ops.loss import SoftmaxCrossEntropy
from graphkit.ops.pooling import MaxPool2d

BATCHES = (1, 8, 64)

# What ``Op.needs_grad`` reads off an op's inputs: which of them want a gradient.
_CONSTANT = gk.Tensor(0.0)
_WANTS_GRAD = gk.Tensor(0.0, requires_grad=True)


def _run(op_class: type[Op], roles: tuple, arrays: tuple, **params) -> tuple[Op, np.ndarray]:
    """A new ``op_class`` op, its forward run on ``arrays``; ``roles`` stand in for the
    inputs, as the engine's recorded Tensors would, for its backward's ``needs_grad``."""
    op = op_class(**params)
    op.saved = None
    op.inputs = roles
    return op, op.forward(*arrays)


class ArrayOpsStep:
    """The step of ``conv_steps.graphkit_cnn_step_fn`` as graphkit's ops on arrays.

    ``x`` (B, C, H, W), labels ``t`` (B,), ``params`` the six arrays w1, b1, w2, b2,
    wf (F, 10), bf (10,), updated in place by ``step``.
    """

    def __init__(self, x: np.ndarray, t: np.ndarray, params: list[np.ndarray]) -> None:
        self.x, self.t, self.params = x, t, params

    def step(self) -> float:
        """One SGD step; returns the loss before it."""
        x, t = self.x, self.t
        w1, b1, w2, b2, wf, bf = self.params
        wants, const = _WANTS_GRAD, _CONSTANT
        conv1_geometry, conv2_geometry = ({"stride": (1, 1), "pad": (pad, pad)}
                                          for pad in TINYNET_PADS)
        pool = {"kernel_size": (2, 2), "stride": (2, 2), "pad": (0, 0)}
        conv1, a1 = _run(Conv2d, (const, wants, wants), (x, w1, b1), **conv1_geometry)
        relu1, h1 = _run(Relu, (wants,), (a1,))
        pool1, q1 = _run(MaxPool2d, (wants,), (h1,), **pool)
        conv2, a2 = _run(Conv2d, (wants, wants, wants), (q1, w2, b2), **conv2_geometry)
        relu2, h2 = _run(Relu, (wants,), (a2,))
        pool2, q2 = _run(MaxPool2d, (wants,), (h2,), **pool)
        flat = q2.reshape(len(q2), -1)
        linear, z = _run(Linear, (wants, wants, wants), (flat, wf, bf))
        loss_op, loss = _run(SoftmaxCrossEntropy, (wants, t), (z, t))

        g_z, _ = loss_op.backward(np.ones_like(loss), loss, z, t)
        g_flat, g_wf, g_bf = linear.backward(g_z, z, flat, wf, bf)
        g_h2 = pool2.backward(g_flat.reshape(q2.shape), q2, h2)
        g_q1, g_w2, g_b2 = conv2.backward(relu2.backward(g_h2, h2, a2), a2, q1, w2, b2)
        g_h1 = pool1.backward(g_q1, q1, h1)
        _, g_w1, g_b1 = conv1.backward(relu1.backward(g_h1, h1, a1), a1, x, w1, b1)
        for p, g in zip(self.params, (g_w1, g_b1, g_w2, g_b2, g_wf, g_bf)):
            p -= LR * g
        return float(loss)


def fixed_cost(repeats: int) -> Result:
    times = {batch: time_variants(_variants(batch), 20 * repeats, scale=1e6)
             for batch in BATCHES}
    extra = {}
    for batch, at in times.items():
        extra[f"graphkit step us @batch {batch}"] = at["graphkit"]
        extra[f"tuned step us @batch {batch}"] = at["tuned"]
        extra[f"graphkit - tuned us @batch {batch}"] = at["graphkit"] - at["tuned"]
    at_1 = times[1]
    extra["graphkit's ops on arrays us @batch 1"] = at_1["ops on arrays"]
    extra["engine's share us @batch 1"] = at_1["graphkit"] - at_1["ops on arrays"]
    extra["ops' share over tuned us @batch 1"] = at_1["ops on arrays"] - at_1["tuned"]
    return Result("FIXED", "W3's network at batch 1 (fixed cost per step), float64", "us/step",
                  {"graphkit": at_1["graphkit"], "numpy": at_1["tuned"]}, extra)


def _variants(batch: int) -> dict[str, Callable[[], float]]:
    """The steps timed at ``batch``, each checked against the tuned step first. One batch
    size at a time: the buffer cache keeps a few dozen shapes, fewer than three batch
    sizes' steps use, and interleaving them would time fresh allocations."""
    x, t, arrays = tinynet_setup(batch)
    gk_step, gk_params = graphkit_cnn_step_fn(x, t, arrays, TINYNET_PADS)
    tuned_params = [a.copy() for a in arrays]
    tuned_step = TunedCNN(x, t, tuned_params, LR, TINYNET_PADS).step
    check_same_step(gk_step(), tuned_step(), gk_params, tuned_params, x.dtype)
    variants = {"graphkit": gk_step, "tuned": tuned_step}
    if batch == 1:
        array_params, reference = [a.copy() for a in arrays], [a.copy() for a in arrays]
        array_step = ArrayOpsStep(x, t, array_params).step
        check_same_step(array_step(), TunedCNN(x, t, reference, LR, TINYNET_PADS).step(),
                        [gk.Tensor(a) for a in array_params], reference, x.dtype)
        variants["ops on arrays"] = array_step
    return variants
