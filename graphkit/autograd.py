"""Reverse-mode differentiation: the backward walk and ``gk.grad``.

The walk is Kahn's algorithm run backwards: count, for every op, how many recorded
uses of its output lie between it and the outputs; an op runs once all of them have
sent it their gradient. No recursion, so a chain of any length backprops, in time
linear in the number of ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphkit.backend import xp
from graphkit.graph import RELEASED, Op, enable_grad, no_grad
from graphkit.ops.arithmetic import sum_to
from graphkit.tensor import Tensor


def backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any],
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradients of ``outputs`` into the ``.grad`` of every leaf."""
    _walk(outputs, grad_outputs, retain_graph, create_graph, targets=None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    Nothing is written into ``.grad``. With ``create_graph=True`` the returned
    gradients are themselves differentiable (second derivatives, Hessian-vector
    products). An input the outputs do not depend on raises, unless ``allow_unused``,
    which returns None for it.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, xp.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for x in inputs:
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError("every input of grad() must be a Tensor that requires grad")
    found = _walk(outputs, list(grad_outputs), retain_graph, create_graph, targets=inputs)
    result = []
    for i, x in enumerate(inputs):
        g = found.get(id(x))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"input {i} of grad() (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g if g is None or isinstance(g, Tensor) else Tensor._from_op(g, None))
    return tuple(result)


def _root_gradient(output: Tensor, g: Any) -> Any:
    if g is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward() needs `grad` for a non-scalar output (shape {output.shape}): "
                "pass a gradient of the output's shape, or reduce the output to a scalar"
            )
        return xp.ones_like(output.data)
    if isinstance(g, Tensor):
        g_array = g.data
    else:
        g_array = xp.asarray(g, dtype=output.dtype)
        g = g_array
    if g_array.shape != output.shape:
        raise ValueError(
            f"grad of shape {g_array.shape} does not match the output's shape {output.shape}"
        )
    return g


def _count_uses(ops: list[Op]) -> dict[Op, int]:
    """For every op reachable from ``ops``: how many recorded uses its output has."""
    uses: dict[Op, int] = dict.fromkeys(ops, 0)
    stack = list(uses)
    while stack:
        op = stack.pop()
        for x in op.inputs:
            if isinstance(x, Tensor) and (producer := x.grad_fn) is not None:
                if producer in uses:
                    uses[producer] += 1
                else:
                    uses[producer] = 1
                    stack.append(producer)
    return uses


def _walk(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any],
    retain_graph: bool | None,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
) -> dict[int, Any]:
    """Propagate gradients from ``outputs`` to the leaves (or to ``targets``)."""
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = None if targets is None else {id(t): t for t in targets}
    found: dict[int, Any] = {}
    pending: dict[Op, Any] = {}  # op -> the gradient of its output, summed so far
    roots: list[Op] = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                "backward through a tensor that does not require grad: it has no grad_fn "
                "(was it computed under no_grad, or from inputs without requires_grad=True?)"
            )
        g = _root_gradient(out, g)
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._from_op(g, None)
        if out.grad_fn is None:
            _deliver(out, g, found, wanted, create_graph)
        else:
            op = out.grad_fn
            pending[op] = pending[op] + g if op in pending else g
            roots.append(op)
    uses = _count_uses(roots)
    ready = [op for op in dict.fromkeys(roots) if uses[op] == 0]
    mode = enable_grad() if create_graph else no_grad()
    with mode:
        while ready:
            op = ready.pop()
            gy = pending.pop(op, None)
            if gy is not None:
                if op.saved is RELEASED:
                    raise RuntimeError(
                        f"backward through the graph a second time: the saved values of "
                        f"{op.name} were freed by the first backward; call backward(retain_graph"
                        "=True) the first time if you need to backpropagate twice"
                    )
                y = op.output()
                if wanted is not None and id(y) in wanted:
                    found[id(y)] = gy
                if create_graph:
                    grads = op.backward(gy, y, *op.inputs)
                else:
                    xs = [x.data if isinstance(x, Tensor) else x for x in op.inputs]
                    grads = op.backward(gy, y.data, *xs)
                if not retain_graph:
                    op.release()
                if len(op.inputs) == 1:
                    grads = (grads,)
            else:
                grads = (None,) * len(op.inputs)
            for x, gx in zip(op.inputs, grads):
                if not isinstance(x, Tensor):
                    continue
                producer = x.grad_fn
                if gx is not None and x.requires_grad:
                    if gx.shape != x.data.shape:
                        gx = sum_to(gx, x.data.shape)
                    if gx.dtype != x.data.dtype:
                        gx = gx.astype(x.data.dtype)
                    if producer is None:
                        _deliver(x, gx, found, wanted, create_graph)
                    elif producer in pending:
                        pending[producer] = pending[producer] + gx
                    else:
                        pending[producer] = gx
                if producer is not None:
                    uses[producer] -= 1
                    if uses[producer] == 0:
                        ready.append(producer)
    return found


def _deliver(leaf: Tensor, g: Any, found: dict[int, Any], wanted: Any, create_graph: bool) -> None:
    """Hand a leaf's gradient to ``grad()``'s results, or accumulate it into ``.grad``."""
    if create_graph and not isinstance(g, Tensor):
        g = Tensor._from_op(g, None)
    elif not create_graph and not g.flags.writeable:
        g = g.copy()  # a broadcast view from sum's backward: give the user a real array
    if wanted is not None:
        if id(leaf) in wanted:
            found[id(leaf)] = found[id(leaf)] + g if id(leaf) in found else g
        return
    if leaf.grad is None:
        leaf.grad = g if isinstance(g, Tensor) else Tensor._from_op(g, None)
    elif create_graph:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad.data = leaf.grad.data + g
