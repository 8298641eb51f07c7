"""The write guard: no silently wrong gradient after a write into an array backward needs.

Backward computes with the arrays forward computed with: every input of an op and its
output. Writing into one of them in between would make backward return the derivative of
something that was never computed. graphkit prevents it as MyGrad does, by keeping those
arrays read-only while an op that may still run backward holds them:

* a leaf's array (a parameter, an input batch, a constant, or a plain ndarray handed to
  an op) is locked when a recorded op first takes it, so a write through any reference
  raises, the array the user wrapped with ``gk.Tensor(a)`` included;
* an op's output is locked when code first reads it through ``.data`` while the op is not
  yet released: nothing else can reach an array that an op has just made.

A lock (``Lock``) is held by the ops that need its array. When backward releases them, or
they are freed with their graph, the last one lets go and the array is writable again.
Meanwhile ``x.data`` returns a read-only view (``SavedArray``) that reads as the array does
and answers a write with a ``SavedArrayWriteError`` naming the tensor and the op; a write
through another reference fails with NumPy's own read-only error.

Version counters, as PyTorch has, cannot see a write into a NumPy array, and setting the
flag on every op's output would cost each op two flag changes (see docs/benchmarks.md).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.backend import ndarray

if TYPE_CHECKING:
    from graphkit.graph import Op


class SavedArrayWriteError(ValueError):
    """A write into an array that a live graph saved for backward.

    A ValueError, as NumPy's own error for writing into a read-only array is."""


#: id(array) -> its live lock: one lock per array, whichever tensors share the array.
_locks: dict[int, weakref.ref[Lock]] = {}


class Lock:
    """Keeps ``array`` read-only for as long as an op that needs it holds this object.

    ``saver`` is the class of the first op that saved the array, for error messages. A
    view's lock also holds a lock on the array the view looks into, whose memory it is.
    Made by ``lock_array`` (without ``__init__``: a lock is made for every leaf of every
    graph).
    """

    __slots__ = ("__weakref__", "array", "base", "ref", "restore", "saver", "views")

    array: ndarray
    base: Lock | None
    ref: weakref.ref[Lock]
    restore: bool  # whether the array was writable: made writable again at the end
    saver: type[Op]
    views: list[ndarray] | None  # views to make writable once this array is

    def __del__(self) -> None:
        _locks.pop(id(self.array), None)
        if not self.restore:
            return
        if self.base is None and self.views is None:
            # write=True, positional: a keyword costs a parse (NumPy's stubs say keyword-only)
            self.array.setflags(True)  # type: ignore[call-arg]
            return
        self.base = None  # a view can be writable only once the array it looks into is
        for view in (self.array, *(self.views or ())):
            try:
                view.setflags(write=True)
            except ValueError:  # the array it looks into is still locked: wait for it
                ref = _locks.get(id(view.base))
                base_lock = ref() if ref is not None else None
                if base_lock is not None:
                    if base_lock.views is None:
                        base_lock.views = []
                    base_lock.views.append(view)


_new = object.__new__


def lock_array(array: ndarray, saver: type[Op]) -> Lock:
    """The lock on ``array``: its live one, or a new one."""
    key = id(array)
    ref = _locks.get(key)
    if ref is not None:
        lock = ref()
        if lock is not None:
            return lock
    lock = _new(Lock)
    lock.array = array
    lock.saver = saver
    lock.views = None
    base = array.base
    lock.base = lock_array(base, saver) if isinstance(base, ndarray) else None
    lock.restore = restore = array.flags.writeable
    if restore:
        array.setflags(False)  # type: ignore[call-arg]  # write=False, as in __del__
    lock.ref = _locks[key] = weakref.ref(lock)
    return lock


def lock_inputs(inputs: tuple[Any, ...], saver: type[Op]) -> Any:
    """Lock the arrays of the leaves among a recorded op's ``inputs`` (leaf Tensors and
    plain arrays) that its backward will read (``Op.grad_reads``): what the op must hold
    (None, a lock, or a list of them)."""
    readers = saver.grad_readers
    locks: Any = None
    for j, x in enumerate(inputs):
        if isinstance(x, Tensor):
            if x.grad_fn is not None:
                continue
        elif not isinstance(x, ndarray):
            continue
        if readers is not None:  # read only by gradients nobody wants: no need to lock
            for i in readers[j]:
                reader = inputs[i]
                if isinstance(reader, Tensor) and reader.requires_grad:
                    break
            else:
                continue
        if isinstance(x, Tensor):
            ref = x._lock  # a leaf used again in the same graph: its lock is live already
            lock = ref is not None and ref()
            if not lock:
                lock = lock_array(x._data, saver)
                x._lock = lock.ref  # the tensor remembers its lock
        else:
            lock = lock_array(x, saver)
        if locks is None:
            locks = lock
        elif type(locks) is list:
            locks.append(lock)
        else:
            locks = [locks, lock]
    return locks


class _HoldsOutput:
    """``op.locks`` once the op's output is locked too: the leaves' locks and the output's."""

    __slots__ = ("leaves", "output")

    def __init__(self, leaves: Any, output: Lock) -> None:
        self.leaves = leaves
        self.output = output


def read(t: Tensor) -> ndarray:
    """What ``t.data`` returns: the array, or a ``SavedArray`` view while it is locked."""
    op = t.grad_fn
    if op is None:
        ref = _locks.get(id(t._data))
        lock = ref() if ref is not None else None
        if lock is None:
            return t._data
    elif op.saved is RELEASED:
        return t._data
    elif type(op.locks) is _HoldsOutput:
        lock = op.locks.output
    else:
        lock = lock_array(t._data, type(op))
        op.locks = _HoldsOutput(op.locks, lock)
    view = t._data.view(SavedArray)
    view._saved = (t, lock.saver)
    view._source = t._data
    return view


def refuse_if_saved(tensors: Iterable[Tensor]) -> None:
    """Raise, before anything is written, the error a write into the first of ``tensors``
    that a live graph saved would raise: for writes into several tensors that must happen
    all or not at all (an optimizer's step, ``load_state_dict``)."""
    for t in tensors:
        if t.grad_fn is None and id(t._data) not in _locks:
            continue
        view = read(t)
        if type(view) is SavedArray:
            raise _refuse(view)


def unwrap(value: Any) -> Any:
    """The array itself for what ``x.data`` returned while it was locked (so that
    ``y.data = x.data`` and ``gk.Tensor(x.data)`` share the array, as they would unlocked);
    anything else as it is."""
    if isinstance(value, SavedArray) and value._source is not None:
        return value._source
    return value


def write(t: Tensor, value: Any) -> None:
    """``t.data = value``: a leaf may take a new array (ops keep the one they computed
    with); an op's output keeps its array until the op's backward has run."""
    if type(value) is not ndarray:
        value = np.asarray(unwrap(value))
    if value is t._data:
        return
    op = t.grad_fn
    if op is not None and op.saved is not RELEASED:
        raise SavedArrayWriteError(
            f"cannot replace the array of {describe(t)}: {op.name}'s backward still reads "
            "it. Call backward() first, or make a new tensor from the new array"
        )
    t._data = value
    t._lock = None


def describe(t: Tensor) -> str:
    """The tensor in words, for error messages: its name, or what made it, and its shape."""
    facts = f"shape {t.shape}, {t.dtype}"
    if t.name:
        return f"{t.name!r} ({facts})"
    if t.grad_fn is not None:
        return f"the output of {t.grad_fn.name} ({facts})"
    return f"a tensor of {facts}"


def _refuse(array: SavedArray) -> SavedArrayWriteError:
    tensor, saver = array._saved
    return SavedArrayWriteError(
        f"cannot write into {describe(tensor)}: {saver.name} saved it for backward, and "
        "writing now would make that backward silently wrong. Call backward() first (or "
        "let the graph go), or write into a copy: x.data.copy(), gk.Tensor(x.data.copy())"
    )


def _plain(value: Any) -> Any:
    """``value`` with SavedArray views (also inside a list or tuple) as plain ndarrays."""
    if isinstance(value, SavedArray):
        return value.view(ndarray)
    if isinstance(value, (list, tuple)) and any(isinstance(v, SavedArray) for v in value):
        return type(value)(v.view(ndarray) if isinstance(v, SavedArray) else v for v in value)
    return value


def _locked(value: Any) -> SavedArray | None:
    """The read-only SavedArray in ``value`` (an array or a tuple of them), if any."""
    for v in value if isinstance(value, tuple) else (value,):
        if isinstance(v, SavedArray) and not v.flags.writeable:
            return v
    return None


class SavedArray(ndarray):
    """``x.data`` while a live graph keeps ``x``'s array for backward: a read-only view.

    It reads as the array does (NumPy functions and operators return plain arrays), and a
    write into it (``x.data[...] = v``, ``x.data += v``, ``np.copyto(x.data, v)``, ``out=``,
    ``fill``, ``sort``, ``put``) raises a ``SavedArrayWriteError`` naming the tensor and
    the op. Copies are plain arrays.
    """

    _saved: tuple[Tensor, type[Op]]
    _source: ndarray | None  # the locked array itself, for the view ``x.data`` returned

    def __array_finalize__(self, obj: Any) -> None:
        self._saved = getattr(obj, "_saved", None)  # type: ignore[assignment]
        self._source = None

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        target = _locked(kwargs.get("out", ()))
        if target is None and method == "at":
            target = _locked(inputs[0])
        if target is not None:
            raise _refuse(target)
        if "out" in kwargs:
            kwargs["out"] = _plain(kwargs["out"])
        return getattr(ufunc, method)(*map(_plain, inputs), **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        target = _locked(kwargs.get("out", ()))
        if target is None and func in _WRITE_INTO_FIRST and args:
            target = _locked(args[0])
        if target is not None:
            raise _refuse(target)
        return func(*map(_plain, args), **{k: _plain(v) for k, v in kwargs.items()})

    def __setitem__(self, index: Any, value: Any) -> None:
        if not self.flags.writeable:
            raise _refuse(self)
        super().__setitem__(index, value)

    def _refuse_if_locked(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.flags.writeable:
            raise _refuse(self)
        return getattr(ndarray, name)(self, *args, **kwargs)

    def fill(self, value: Any) -> None:
        self._refuse_if_locked("fill", value)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_locked("sort", *args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_locked("put", *args, **kwargs)

    def copy(self, order: Any = "C") -> ndarray:  # type: ignore[override]
        return self.view(ndarray).copy(order)

    def astype(self, *args: Any, **kwargs: Any) -> ndarray:  # type: ignore[override]
        return self.view(ndarray).astype(*args, **kwargs)

    def __reduce__(self) -> Any:
        return self.view(ndarray).__reduce__()

    def __repr__(self) -> str:
        return repr(self.view(ndarray))

    def __str__(self) -> str:
        return str(self.view(ndarray))


#: NumPy functions that write into their first argument.
_WRITE_INTO_FIRST = frozenset(
    (np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis)
)

# Imported last: the graph module imports this one.
from graphkit.graph import RELEASED  # noqa: E402
from graphkit.tensor import Tensor  # noqa: E402
