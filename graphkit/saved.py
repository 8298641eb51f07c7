"""``gk.saved_tensors_hooks(pack_hook, unpack_hook)``: what backward keeps, through your functions.

While the block is active, every op recorded keeps, in place of each array its backward
needs (its inputs, its output and what forward left in ``op.saved``), whatever
``pack_hook(array)`` returns; backward hands ``unpack_hook(packed)`` to the op instead,
as PyTorch does. The innermost block applies; blocks are local to the thread (and the
async task) that opens them.

The op's input and output tensors still hold their own arrays (they are part of the
graph's structure, and code may read them), so packing changes what backward computes
with and lets ``op.saved`` go, but does not by itself free the inputs' memory. Under
``create_graph`` the op's backward receives the input and output tensors themselves,
because its result must be differentiable with respect to them; ``op.saved`` is still
restored through ``unpack_hook``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from graphkit import graph
from graphkit.backend import ndarray

PackHook = Callable[[ndarray], Any]
UnpackHook = Callable[[Any], ndarray]

_hooks: ContextVar[tuple[tuple[PackHook, UnpackHook], ...]] = ContextVar(
    "graphkit_saved_tensors_hooks", default=()
)
_open = 0  # blocks open in any thread: the tap that packs is installed while there are


class saved_tensors_hooks:
    """``with gk.saved_tensors_hooks(pack_hook, unpack_hook):`` every array an op saves
    for backward inside the block is kept as ``pack_hook(array)`` and given back to
    backward as ``unpack_hook(that)``.

    Example: keep float32 copies of what backward needs::

        with gk.saved_tensors_hooks(lambda a: a.astype(np.float32), lambda p: p):
            loss = model(x).sum()
    """

    def __init__(self, pack_hook: PackHook, unpack_hook: UnpackHook) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks(pack_hook, unpack_hook) takes two functions")
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook
        self._tokens: list[Token] = []

    def __enter__(self) -> saved_tensors_hooks:
        global _open
        self._tokens.append(_hooks.set((*_hooks.get(), (self.pack_hook, self.unpack_hook))))
        if _open == 0:
            graph._taps.append(_pack)
        _open += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _open
        _hooks.reset(self._tokens.pop())
        _open -= 1
        if _open == 0:
            graph._taps.remove(_pack)


def _pack(op: graph.Op, inputs: tuple[Any, ...], out: Any) -> None:
    """The tap: pack what a just-recorded op keeps, when a block is active here."""
    hooks = _hooks.get()
    if hooks and out.grad_fn is op:
        pack, unpack = hooks[-1]
        op.arrays = Packed(pack, unpack, op.arrays, out._data, op.saved)
        op.saved = None


class Packed:
    """What a recorded op keeps for backward inside a ``saved_tensors_hooks`` block: the
    packed form of each array (other inputs, such as Python numbers, as they are)."""

    __slots__ = ("inputs", "output", "saved", "unpack_hook")

    def __init__(
        self, pack: PackHook, unpack: UnpackHook, arrays: list[Any], output: ndarray, saved: Any
    ) -> None:
        self.unpack_hook = unpack
        self.inputs = [(True, pack(a)) if isinstance(a, ndarray) else (False, a) for a in arrays]
        self.output = pack(output)
        if isinstance(saved, ndarray):
            self.saved: Any = (True, pack(saved))
        elif isinstance(saved, (tuple, list)):
            self.saved = (False, type(saved)(
                (True, pack(s)) if isinstance(s, ndarray) else (False, s) for s in saved))
        else:
            self.saved = (False, saved)

    def restore(self, op: graph.Op) -> tuple[ndarray, list[Any]]:
        """Unpack into ``op.saved``; return the output's array and the inputs' arrays."""
        unpack = self.unpack_hook
        packed, saved = self.saved
        if packed:
            op.saved = unpack(saved)
        elif isinstance(saved, (tuple, list)):
            op.saved = type(saved)(unpack(s) if p else s for p, s in saved)
        else:
            op.saved = saved
        return unpack(self.output), [unpack(a) if p else a for p, a in self.inputs]

    def values(self) -> list[Any]:
        """Everything packed: the inputs', the output's and the saved values' packed forms."""
        packed, saved = self.saved
        if packed:
            extra = [saved]
        elif isinstance(saved, (tuple, list)):
            extra = [s for p, s in saved if p]
        else:
            extra = []
        return [a for p, a in self.inputs if p] + [self.output, *extra]
