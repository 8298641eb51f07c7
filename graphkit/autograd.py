"""Reverse-mode differentiation: the backward walk and ``gk.grad``.

The walk is Kahn's algorithm run backwards: count, for every op, how many recorded
uses of its output lie between it and the outputs; an op runs once all of them have
sent it their gradient. No recursion, so a chain of any length backprops, in time
linear in the number of ops. ``gk.grad`` runs only the ops between the outputs and the
inputs it was asked for, as PyTorch does.

Along the way the walk runs the hooks on tensors' gradients (``graphkit.hooks``) once a
gradient is complete, restores what saved-tensor hooks packed (``graphkit.saved``), tells
observers what each op returned (anomaly mode, the backprop player), and releases each
op's saved values and the locks on its arrays (``graphkit.write_guard``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from graphkit import hooks as _hooks
from graphkit import saved as _saved
from graphkit.backend import sum_to, xp
from graphkit.graph import RELEASED, Op, enable_grad, listening
from graphkit.tensor import Tensor

#: Called after each op's backward as ``observer(op, gy, grads)``: the op, the gradient
#: of its output, and what its backward returned for each input (a tuple, None where an
#: input gets none, possibly still in the broadcast shape: ``backend.sum_to`` reduces it).
#: Tools watch the engine's own order through it (``observe``).
BackwardObserver = Callable[[Op, Any, tuple[Any, ...]], None]
_observers: list[BackwardObserver] = []


def observe(observer: BackwardObserver) -> AbstractContextManager[None]:
    """Call ``observer`` for every op that backward runs inside the block, in its order."""
    return listening(_observers, observer)


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
        if output.size != 1:
            raise RuntimeError(
                f"backward() needs `grad` for a non-scalar output (shape {output.shape}): "
                "pass a gradient of the output's shape, or reduce the output to a scalar"
            )
        ones = xp.empty(output.shape, dtype=output.dtype)
        ones.fill(1)  # xp.ones is this, behind a Python wrapper, once per backward
        return ones
    if isinstance(g, Tensor):
        g_array = g._data
    else:
        g_array = xp.asarray(g, dtype=output.dtype)
        g = g_array
    if g_array.shape != output.shape:
        raise ValueError(
            f"grad of shape {g_array.shape} does not match the output's shape {output.shape}"
        )
    return g


class _Plan:
    """Which ops a walk runs, and how many uses of each one's output come before it.

    ``uses[op]`` counts the recorded uses of ``op``'s output among the ops reachable from
    the outputs. For ``gk.grad`` (``targets``), ``needed`` holds the ops through which a
    gradient reaches a target; the others are skipped. With ``cut``, a gradient does not
    pass through a target to what made it (``gk.checkpoint`` wants its inputs' own
    gradients). ``leaf_uses`` counts the uses of each leaf with hooks, which run once its
    gradient is complete.
    """

    def __init__(
        self, roots: list[Op], wanted: set[int] | None, cut: bool, hooked: bool
    ) -> None:
        uses: dict[Op, int] = dict.fromkeys(roots, 0)
        self.uses = uses
        self.needed: set[Op] | None = None
        self.leaf_uses: dict[int, int] = {}
        if wanted is None and not hooked:  # plain backward(): only the counts
            stack = list(uses)
            while stack:
                for x in stack.pop().inputs:
                    if isinstance(x, Tensor) and (producer := x.grad_fn) is not None:
                        if producer in uses:
                            uses[producer] += 1
                        else:
                            uses[producer] = 1
                            stack.append(producer)
            return
        consumers: dict[Op, list[Op]] = {}
        seeds: list[Op] = []
        stack = list(uses)
        while stack:
            op = stack.pop()
            for x in op.inputs:
                if not isinstance(x, Tensor):
                    continue
                if wanted is not None and id(x) in wanted:
                    seeds.append(op)
                producer = x.grad_fn
                if producer is None:
                    if hooked and x.requires_grad and getattr(x, "_hooks", None) is not None:
                        self.leaf_uses[id(x)] = self.leaf_uses.get(id(x), 0) + 1
                    continue
                if wanted is not None:
                    consumers.setdefault(producer, []).append(op)
                if producer in uses:
                    uses[producer] += 1
                else:
                    uses[producer] = 1
                    if not (cut and id(x) in wanted):  # type: ignore[operator]
                        stack.append(producer)
        if wanted is not None:
            needed = set(seeds)
            stack = seeds
            while stack:
                for consumer in consumers.get(stack.pop(), ()):
                    if consumer not in needed:
                        needed.add(consumer)
                        stack.append(consumer)
            self.needed = needed


def _walk(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any],
    retain_graph: bool | None,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
    cut: bool = False,
) -> dict[int, Any]:
    """Propagate gradients from ``outputs`` to the leaves (or to ``targets``)."""
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    hooked = _hooks.hooked()
    leaves = _Leaves(create_graph, targets, hooked and not cut)
    pending: dict[Op, Any] = {}  # op -> the gradient of its output, summed so far
    roots: list[Op] = []
    root_leaves = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                "backward through a tensor that does not require grad: it has no grad_fn "
                "(was it computed under no_grad, or from inputs without requires_grad=True?)"
            )
        g = _root_gradient(out, g)
        if create_graph != isinstance(g, Tensor):  # Tensors to record a graph, else arrays
            g = Tensor._from_op(g, None) if create_graph else g._data
        leaves.handed_out.add(id(g))  # the caller's array: never give it away as a .grad
        if out.grad_fn is None:
            root_leaves.append((out, g))
        else:
            op = out.grad_fn
            pending[op] = pending[op] + g if op in pending else g
            roots.append(op)
    plan = _Plan(roots, leaves.wanted, cut, leaves.hooked)
    for leaf, _ in root_leaves:
        plan.leaf_uses[id(leaf)] = plan.leaf_uses.get(id(leaf), 0) + 1
    leaves.waiting = plan.leaf_uses
    for leaf, g in root_leaves:
        leaves.deliver(leaf, g)
    ready = [op for op in dict.fromkeys(roots) if plan.uses[op] == 0]
    # First-order backward computes on arrays, which record nothing whatever the grad
    # mode; only create_graph needs recording switched on.
    if create_graph:
        with enable_grad():
            _propagate(ready, pending, plan, leaves, retain_graph, create_graph, cut, hooked)
    else:
        _propagate(ready, pending, plan, leaves, retain_graph, create_graph, cut, hooked)
    return leaves.found


def _propagate(
    ready: list[Op],
    pending: dict[Op, Any],
    plan: _Plan,
    leaves: _Leaves,
    retain_graph: bool,
    create_graph: bool,
    cut: bool,
    hooked: bool,
) -> None:
    """Run each ready op's backward, passing gradients on until every op has run."""
    uses, needed, wanted = plan.uses, plan.needed, leaves.wanted
    leaf_hooks = leaves.hooked
    deliver = leaves.delivery()
    observers = _observers
    packed = _saved.Packed
    while ready:
        op = ready.pop()
        inputs = op.inputs
        gy = pending.pop(op, None)
        if gy is not None:
            y: Tensor = op.output()  # type: ignore[assignment]  # alive: a consumer holds it
            if wanted is None:
                if hooked and getattr(y, "_hooks", None) is not None:
                    gy = _hooks.run(y, gy, create_graph)
            else:
                target = id(y) in wanted
                if (hooked and (target or op in needed)  # type: ignore[operator]
                        and not (cut and target)
                        and getattr(y, "_hooks", None) is not None):
                    gy = _hooks.run(y, gy, create_graph)
                if target:
                    leaves.found[id(y)] = gy
                if op not in needed:  # type: ignore[operator]
                    continue  # no target lies below it
            if op.saved is RELEASED:
                raise RuntimeError(
                    f"backward through the graph a second time: the saved values of "
                    f"{op.name} were freed by the first backward; call backward(retain_graph"
                    "=True) the first time if you need to backpropagate twice"
                )
            arrays = op.arrays
            if type(arrays) is packed:
                grads = _unpacked_backward(op, gy, y, create_graph)
            elif create_graph:
                grads = op.backward(gy, y, *inputs)
            else:
                grads = op.backward(gy, y._data, *arrays)
            if not retain_graph:
                # What forward kept for backward is garbage from here on, and the
                # arrays it computed with may be written into again.
                op.saved = RELEASED
                op.arrays = op.locks = None
            if len(inputs) == 1:
                grads = (grads,)
            if observers:
                for observer in observers:
                    observer(op, gy, grads)
        else:
            grads = (None,) * len(inputs)
        for x, gx in zip(inputs, grads):
            if not isinstance(x, Tensor):
                continue
            producer = x.grad_fn
            if gx is not None and x.requires_grad:
                data = x._data
                if gx.shape != data.shape:
                    gx = sum_to(gx, data.shape)
                if gx.dtype != data.dtype:
                    gx = gx.astype(data.dtype)
                if producer is None:
                    deliver(x, gx)
                elif producer in pending:
                    pending[producer] = pending[producer] + gx
                else:
                    pending[producer] = gx
            elif leaf_hooks and producer is None and x.requires_grad:
                leaves.deliver(x, None)
            if producer is not None:
                uses[producer] -= 1
                if uses[producer] == 0:
                    ready.append(producer)


def _unpacked_backward(op: Op, gy: Any, y: Tensor, create_graph: bool) -> Any:
    """``op``'s backward with what saved-tensor hooks packed, unpacked."""
    y_array, arrays = op.arrays.restore(op)
    if create_graph:
        return op.backward(gy, y, *op.inputs)
    return op.backward(gy, y_array, *arrays)


class _Leaves:
    """Where one backward pass puts leaf gradients: into ``.grad``, or, for ``grad()``,
    into ``found`` for the requested inputs only. A leaf with hooks waits until every use
    has sent its share (``waiting``), then goes through its hooks."""

    __slots__ = ("create_graph", "found", "handed_out", "hooked", "sums", "waiting", "wanted")

    def __init__(
        self, create_graph: bool, targets: Sequence[Tensor] | None, hooked: bool
    ) -> None:
        self.create_graph = create_graph
        self.wanted = None if targets is None else {id(t) for t in targets}
        self.found: dict[int, Any] = {}
        self.hooked = hooked
        self.waiting: dict[int, int] = {}  # the plan's counts, when hooked
        self.sums: dict[int, Any] = {}  # a hooked leaf's gradient, summed over its uses
        # Arrays given out already. Ops pass gradients through unchanged (add hands gy to
        # both inputs) and views (sum's broadcast, reshape), so a leaf gets a copy only
        # when its gradient is a view or is someone else's too: never two owners of one
        # buffer, and no copy of the fresh arrays most weight gradients are.
        self.handed_out: set[int] = set()

    def deliver(self, leaf: Tensor, g: Any) -> None:
        """Hand ``leaf`` the gradient ``g`` that one of its uses sent (None: no gradient)."""
        if self.hooked and id(leaf) in self.waiting:
            key = id(leaf)
            if g is not None:
                self.sums[key] = self.sums[key] + g if key in self.sums else g
            self.waiting[key] -= 1
            if self.waiting[key]:
                return
            del self.waiting[key]
            g = self.sums.pop(key, None)
            if g is None or (self.wanted is not None and key not in self.wanted):
                return  # grad() runs the hooks of the inputs it was asked for only
            g = _hooks.run(leaf, g, self.create_graph)
        if g is None:
            return
        if not self.create_graph:
            if self.wanted is None:
                self.into_grad(leaf, g)
                return
            g = self._owned(g)
        elif not isinstance(g, Tensor):
            g = Tensor._from_op(g, None)
        if self.wanted is not None:
            if id(leaf) in self.wanted:
                key = id(leaf)
                self.found[key] = self.found[key] + g if key in self.found else g
                self.handed_out.add(id(self.found[key]))
            return
        leaf.grad = g if leaf.grad is None else leaf.grad + g  # create_graph: a Tensor

    def delivery(self) -> Callable[[Tensor, Any], None]:
        """What the walk calls with each leaf's gradient: ``into_grad`` where ``deliver``
        would only pass it on there (first order, no hooks, no targets), else ``deliver``."""
        if self.hooked or self.create_graph or self.wanted is not None:
            return self.deliver
        return self.into_grad

    def into_grad(self, leaf: Tensor, g: Any) -> None:
        """Add the array ``g`` into ``leaf.grad``: the whole of ``deliver`` in the usual
        backward() (first order, no hooks, into every leaf)."""
        g = self._owned(g)
        if leaf.grad is None:
            leaf.grad = Tensor._from_op(g, None)
            self.handed_out.add(id(g))
        else:
            leaf.grad.data = xp.asarray(leaf.grad._data + g)  # 0-d + 0-d is a NumPy scalar

    def _owned(self, g: Any) -> Any:
        """The array ``g``, or a copy where it is a view or was handed out already."""
        return g.copy() if g.base is not None or id(g) in self.handed_out else g
