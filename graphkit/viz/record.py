"""The backward pass as the engine runs it, recorded op by op through ``autograd.observe``.

The order is the engine's own: every step is one call of the observer, made right after
an op's backward. Nothing is re-derived here: what arrives at each input is what the
op's backward returned, reduced to the input's shape and dtype as the engine reduces it.

The pass runs through ``gk.grad`` with ``retain_graph=True``: ``.grad`` is left as it
was and the graph can still be backpropagated afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphkit.autograd import grad as autograd_grad
from graphkit.autograd import observe
from graphkit.backend import sum_to
from graphkit.graph import RELEASED, Op
from graphkit.tensor import Tensor
from graphkit.viz.walk import Graph, walk


@dataclass
class Arrival:
    """One gradient arriving at one input of an op.

    Attributes:
        tensor: the input it arrives at.
        gradient: what the op's backward sent it, in the input's shape and dtype.
        count: this is the ``count``-th gradient the tensor has received (from 1) ...
        expected: ... of the ``expected`` its uses in the graph send it.
        total: the sum of the gradients it has received so far (``gradient`` when
            ``count`` is 1): at ``count == expected`` its whole gradient.
    """

    tensor: Tensor
    gradient: np.ndarray
    count: int
    expected: int
    total: np.ndarray


@dataclass
class Step:
    """One op's backward: the op, the gradient of its output, what reached its inputs."""

    op: Op
    output_gradient: np.ndarray
    arrivals: list[Arrival]


@dataclass
class Recording:
    """A backward pass: the graph, its steps in the engine's order, every gradient.

    Attributes:
        graph: the graph behind the output, as ``walk`` collects it.
        steps: one per op the engine ran, in its order (empty unless ``keep_steps``).
        gradients: ``id(tensor)`` -> the gradient of the output with respect to it, for
            every tensor that got one (the output's is the seed it was given).
    """

    graph: Graph
    steps: list[Step] = field(default_factory=list)
    gradients: dict[int, np.ndarray] = field(default_factory=dict)


def check_recorded(output: Any, what: str) -> None:
    """Raise, saying why and what to do, unless ``output`` has a graph to backpropagate.

    ``what`` names the caller in the message (``"gk.viz.animate"``).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"{what} takes a Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        if output.requires_grad:
            raise ValueError(
                f"{what}: this tensor is a leaf (no op computed it), so there is no backward "
                "pass to show; pass a tensor computed from it, such as the loss"
            )
        raise ValueError(
            f"{what}: this tensor has no graph: it was computed under gk.no_grad(), or from "
            "tensors none of which has requires_grad=True. Create the parameters with "
            "requires_grad=True and compute it again"
        )
    freed = next((op for op in walk([output]).ops if op.saved is RELEASED), None)
    if freed is not None:
        raise RuntimeError(
            f"{what}: the graph behind this tensor was freed by an earlier backward() (the "
            f"values {freed.name} saved for backward are gone). Call {what} before "
            "backward(), or call backward(retain_graph=True) to keep the graph"
        )


def record_backward(output: Tensor, grad: Any = None, keep_steps: bool = True) -> Recording:
    """Run backward from ``output`` (seeded with ``grad``, default ones for a scalar) and
    record it; ``keep_steps=False`` keeps only the final gradients."""
    check_recorded(output, "recording backward")
    graph = walk([output])
    leaves = [t for t in graph.tensors if t.grad_fn is None and t.requires_grad]
    recording = Recording(graph)
    expected = _expected_arrivals(graph.ops)
    received: dict[int, int] = {}
    gradients = recording.gradients

    def observer(op: Op, gy: Any, grads: tuple[Any, ...]) -> None:
        y = op.output()
        gradients[id(y)] = gy
        arrivals = []
        for x, gx in zip(op.inputs, grads):
            if gx is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            gx = _as_engine_delivers(gx, x)
            key = id(x)
            received[key] = received.get(key, 0) + 1
            # The engine sums these too, but hands the sum on only when the producer
            # runs (and a leaf's not at all): the running sum shows the accumulation.
            gradients[key] = gradients[key] + gx if key in gradients else gx
            if keep_steps:
                arrivals.append(Arrival(x, gx, received[key], expected.get(key, 1), gradients[key]))
        if keep_steps:
            recording.steps.append(Step(op, gy, arrivals))

    with observe(observer):
        autograd_grad(output, leaves, grad_outputs=grad, retain_graph=True, allow_unused=True)
    return recording


def _as_engine_delivers(gx: Any, x: Tensor) -> np.ndarray:
    """An input's gradient as the engine passes it on: in the input's shape and dtype."""
    data = x.data
    if gx.shape != data.shape:
        gx = sum_to(gx, data.shape)
    if gx.dtype != data.dtype:
        gx = gx.astype(data.dtype)
    return np.asarray(gx)


def _expected_arrivals(ops: Sequence[Op]) -> dict[int, int]:
    """``id(tensor)`` -> how many gradients its uses in the graph send it (``x * x``: 2)."""
    counts: dict[int, int] = {}
    for op in ops:
        for x in op.tensor_inputs():
            if x.requires_grad:
                counts[id(x)] = counts.get(id(x), 0) + 1
    return counts


def tensor_gradients(outputs: Sequence[Tensor]) -> dict[int, np.ndarray]:
    """``id(tensor)`` -> its gradient, for drawings that show gradients of every tensor.

    For one output with a live graph the gradients come from a fresh backward pass
    (``record_backward``; a non-scalar output is seeded with ones, the gradient of its
    sum), so intermediate tensors have one too. Otherwise (several outputs, a freed
    graph, an output without a graph) they are the ``.grad`` the tensors hold.
    """
    if len(outputs) == 1:
        (output,) = outputs
        try:
            check_recorded(output, "gradients")
        except (ValueError, RuntimeError, TypeError):
            pass
        else:
            seed = None if output.size == 1 else np.ones(output.shape, dtype=output.dtype)
            return record_backward(output, seed, keep_steps=False).gradients
    return {id(t): t.grad.data for t in walk(outputs).tensors if t.grad is not None}
