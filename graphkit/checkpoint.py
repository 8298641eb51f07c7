"""``gk.checkpoint(fn, *args)``: keep only the inputs of ``fn`` for backward; run it again there.

The graph inside ``fn`` holds every intermediate result until backward. A checkpoint
computes ``fn(*args)``, lets its graph go as soon as it returns, and records one
``Checkpoint`` op in its place, whose inputs are the tensors ``fn`` took from outside (its
arguments, and the parameters or other tensors it uses without taking them as arguments,
found by watching which tensors its ops read). Its backward runs ``fn`` again and
backpropagates through that copy to those inputs: the same gradients for the memory of
one block at a time, at the price of a second forward pass.

NumPy's global random state is put back for the second run, so dropout draws the same
mask (a ``Dropout`` given its own generator would not). Under ``create_graph`` the second
run is recorded against the real inputs, so higher derivatives flow through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from graphkit import autograd, graph
from graphkit.graph import Op, enable_grad, is_grad_enabled
from graphkit.tensor import Tensor


class Checkpoint(Op):
    """``fn(*args)`` as one op; its inputs are the tensors ``fn`` read from outside."""

    __slots__ = ("args", "fn", "random_state")

    def __init__(self, fn: Callable[..., Tensor], args: tuple[Any, ...],
                 random_state: Any) -> None:
        self.fn = fn
        self.args = args
        self.random_state = random_state

    def label(self) -> str:
        return f"checkpoint {getattr(self.fn, '__name__', type(self.fn).__name__)}"

    def params(self) -> dict[str, Any]:
        return {}

    def forward(self, *xs: Any) -> Any:
        raise RuntimeError("a Checkpoint op is made by gk.checkpoint, never applied")

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        create_graph = isinstance(gy, Tensor)
        state = np.random.get_state()
        np.random.set_state(self.random_state)
        try:
            with enable_grad():
                out = self.fn(*self.args)
        finally:
            np.random.set_state(state)
        found = autograd._walk([out], [gy], retain_graph=create_graph,
                               create_graph=create_graph, targets=self.inputs, cut=True)
        grads = tuple(found.get(id(x)) for x in self.inputs)
        return grads[0] if len(grads) == 1 else grads


def checkpoint(fn: Callable[..., Tensor], *args: Any) -> Tensor:
    """``fn(*args)``, keeping nothing of it for backward but its inputs.

    Backward runs ``fn`` a second time; the gradients are those without the checkpoint,
    of the arguments and of any tensor ``fn`` uses without taking it as an argument (a
    module's parameters). ``fn`` returns one Tensor. Outside grad mode it is ``fn(*args)``.
    """
    if not is_grad_enabled():
        return fn(*args)
    random_state = np.random.get_state()
    made: set[int] = set()
    read: dict[int, Tensor] = {}

    def watch(op: Op, inputs: tuple[Any, ...], out: Tensor) -> None:
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad and id(x) not in made:
                read.setdefault(id(x), x)
        made.add(id(out))

    # Recorded, so that fn runs as it will in backward (its hooks see tensors that require
    # grad); the graph goes as soon as fn returns, keeping only its output's array.
    with graph.watch(watch):
        out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"checkpoint: fn must return one Tensor, got {type(out).__name__}")
    if not read or out.grad_fn is None:
        return out
    result = Checkpoint(fn, args, random_state).record(tuple(read.values()), out._data)
    result._tangents = out._tangents  # forward mode ran through fn the first time
    return result
