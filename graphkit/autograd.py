"""Reverse-mode differentiation: the backward walk and ``gk.grad``.

The walk is Kahn's algorithm run backwards: count, for every op, how many recorded
uses of its output lie between it and the outputs; an op runs once all of them have
sent it their gradient. No recursion, so a chain of any length backprops, in time
linear in the number of ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from graphkit.backend import sum_to, xp
from graphkit.graph import RELEASED, Op, enable_grad
from graphkit.tensor import Tensor

#: Called after each op's backward as ``observer(op, gy, grads)``: the op, the gradient
#: of its output, and what its backward returned for each input (a tuple, None where an
#: input gets none, possibly still in the broadcast shape: ``backend.sum_to`` reduces it).
#: Tools watch the engine's own order through it (``observe``).
BackwardObserver = Callable[[Op, Any, tuple[Any, ...]], None]
_observers: list[BackwardObserver] = []


@contextmanager
def observe(observer: BackwardObserver) -> Iterator[None]:
    """Call ``observer`` for every op that backward runs inside the block, in its order."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


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
        return xp.ones(output.data.shape, dtype=output.data.dtype)
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
    leaves = _Leaves(create_graph, targets)
    pending: dict[Op, Any] = {}  # op -> the gradient of its output, summed so far
    roots: list[Op] = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                "backward through a tensor that does not require grad: it has no grad_fn "
                "(was it computed under no_grad, or from inputs without requires_grad=True?)"
            )
        g = _root_gradient(out, g)
        if create_graph != isinstance(g, Tensor):  # Tensors to record a graph, else arrays
            g = Tensor._from_op(g, None) if create_graph else g.data
        leaves.handed_out.add(id(g))  # the caller's array: never give it away as a .grad
        if out.grad_fn is None:
            leaves.deliver(out, g)
        else:
            op = out.grad_fn
            pending[op] = pending[op] + g if op in pending else g
            roots.append(op)
    uses = _count_uses(roots)
    ready = [op for op in dict.fromkeys(roots) if uses[op] == 0]
    # First-order backward computes on arrays, which record nothing whatever the grad
    # mode; only create_graph needs recording switched on.
    if create_graph:
        with enable_grad():
            _propagate(ready, pending, uses, leaves, retain_graph, create_graph)
    else:
        _propagate(ready, pending, uses, leaves, retain_graph, create_graph)
    return leaves.found


def _propagate(
    ready: list[Op],
    pending: dict[Op, Any],
    uses: dict[Op, int],
    leaves: _Leaves,
    retain_graph: bool,
    create_graph: bool,
) -> None:
    """Run each ready op's backward, passing gradients on until every op has run."""
    wanted = leaves.wanted
    observers = _observers
    while ready:
        op = ready.pop()
        inputs = op.inputs
        gy = pending.pop(op, None)
        if gy is not None:
            if op.saved is RELEASED:
                raise RuntimeError(
                    f"backward through the graph a second time: the saved values of "
                    f"{op.name} were freed by the first backward; call backward(retain_graph"
                    "=True) the first time if you need to backpropagate twice"
                )
            y = op.output()
            assert y is not None  # an op with a pending gradient was reached from its output
            if wanted is not None and id(y) in wanted:
                leaves.found[id(y)] = gy
            if create_graph:
                grads = op.backward(gy, y, *inputs)
            else:
                grads = op.backward(
                    gy, y.data, *[x.data if isinstance(x, Tensor) else x for x in inputs]
                )
            if not retain_graph:
                op.saved = RELEASED  # what forward kept for backward is garbage from here on
            if len(inputs) == 1:
                grads = (grads,)
        else:
            grads = (None,) * len(inputs)
        if observers and gy is not None:
            for observer in observers:
                observer(op, gy, grads)
        for x, gx in zip(inputs, grads):
            if not isinstance(x, Tensor):
                continue
            producer = x.grad_fn
            if gx is not None and x.requires_grad:
                data = x.data
                if gx.shape != data.shape:
                    gx = sum_to(gx, data.shape)
                if gx.dtype != data.dtype:
                    gx = gx.astype(data.dtype)
                if producer is None:
                    leaves.deliver(x, gx)
                elif producer in pending:
                    pending[producer] = pending[producer] + gx
                else:
                    pending[producer] = gx
            if producer is not None:
                uses[producer] -= 1
                if uses[producer] == 0:
                    ready.append(producer)


class _Leaves:
    """Where one backward pass puts leaf gradients: into ``.grad``, or, for ``grad()``,
    into ``found`` for the requested inputs only."""

    def __init__(self, create_graph: bool, targets: Sequence[Tensor] | None) -> None:
        self.create_graph = create_graph
        self.wanted = None if targets is None else {id(t) for t in targets}
        self.found: dict[int, Any] = {}
        # Arrays given out already. Ops pass gradients through unchanged (add hands gy to
        # both inputs) and views (sum's broadcast, reshape), so a leaf gets a copy only
        # when its gradient is a view or is someone else's too: never two owners of one
        # buffer, and no copy of the fresh arrays most weight gradients are.
        self.handed_out: set[int] = set()

    def deliver(self, leaf: Tensor, g: Any) -> None:
        if self.create_graph:
            if not isinstance(g, Tensor):
                g = Tensor._from_op(g, None)
        elif not g.flags.owndata or id(g) in self.handed_out:
            g = g.copy()
        if self.wanted is not None:
            if id(leaf) in self.wanted:
                key = id(leaf)
                self.found[key] = self.found[key] + g if key in self.found else g
                self.handed_out.add(id(self.found[key]))
            return
        if leaf.grad is None:
            leaf.grad = g if isinstance(g, Tensor) else Tensor._from_op(g, None)
            self.handed_out.add(id(g))
        elif self.create_graph:
            leaf.grad = leaf.grad + g
        else:
            leaf.grad.data = xp.asarray(leaf.grad.data + g)  # 0-d + 0-d is a NumPy scalar
