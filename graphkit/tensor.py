"""The Tensor: an array, its gradient, and the op that made it.

A Tensor routes: every operator and method hands its work to an op in
``graphkit.ops``. It knows no calculus; the ops do, and ``autograd`` knows the order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphkit.backend import STRONG_PYTHON_SCALARS, axes_of, ndarray, xp

if TYPE_CHECKING:
    from collections.abc import Callable

    from graphkit.graph import Op
    from graphkit.hooks import RemovableHandle

Axis = int | tuple[int, ...] | None
_PASS_THROUGH: tuple[type, ...] = (int, float, bool)  # Tensor is added once the class exists


def _as_array(data: Any, dtype: Any = None) -> ndarray:
    """Follow the dtype rules: lists and Python scalars become float64, a floating
    ndarray keeps its dtype, integer and bool data become float64, unless ``dtype``."""
    if isinstance(data, Tensor):
        data = data._data
    data = _guard.unwrap(data)  # x.data while locked: the array itself, as unlocked
    if isinstance(data, (ndarray, np.generic)):
        array = xp.asarray(data)
        if dtype is not None:
            return array.astype(dtype, copy=False)
        if array.dtype.kind in "biu":
            return array.astype(xp.float64)
        if array.dtype.kind != "f":
            raise TypeError(f"Tensor data must be numeric, got an array of dtype {array.dtype}")
        return array
    try:
        array = xp.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {err}") from None
    if dtype is None:
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"Tensor data must be numeric, got {type(data).__name__} of dtype {array.dtype}"
            )
        if array.dtype != xp.float64:
            array = array.astype(xp.float64)
    return array


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a new Tensor wrapping it (no copy of arrays)."""
    return x if isinstance(x, Tensor) else Tensor(x)


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Args:
        data: a list, a scalar or an ndarray; wrapped without a copy where possible.
        requires_grad: whether gradients flow back to this tensor.
        name: a label for graph drawings and error messages.
        dtype: the NumPy dtype to store (default: float64, or the dtype of a floating array).
    """

    # _data is the array (``data`` guards it); _lock a weak reference to the lock on it
    # (graphkit.write_guard) or None; _hooks the hooks on this tensor's gradient
    # (graphkit.hooks), set when first needed: ops make many tensors that never get one.
    __slots__ = ("__weakref__", "_data", "_hooks", "_lock", "_tangents", "grad", "grad_fn",
                 "name", "requires_grad")
    # Makes ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of NumPy's own loop.
    __array_priority__ = 1000

    _data: ndarray
    _hooks: Any
    _lock: Any
    grad: Tensor | None
    grad_fn: Op | None
    # Forward mode's tangents by level (graphkit.forward); None outside gk.func.jvp.
    _tangents: dict[int, Any] | None

    def __init__(
        self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None
    ) -> None:
        self._data = _as_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, not {self.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._lock = None
        self.grad_fn = None
        self.name = name
        self._tangents = None

    @classmethod
    def _from_op(cls, data: Any, grad_fn: Op | None) -> Tensor:
        """The output of an op: no dtype conversion, grad_fn set when it was recorded."""
        t = object.__new__(Tensor)
        t._data = data if type(data) is ndarray else xp.asarray(data)
        t.requires_grad = grad_fn is not None
        t.grad = None
        t._lock = None
        t.grad_fn = grad_fn
        t.name = None
        t._tangents = None
        return t

    # ----- array facts -------------------------------------------------------------
    @property
    def data(self) -> ndarray:
        """The array (shared, not copied). While a graph that may still run backward keeps
        it, a read-only view: writing into it would make that backward wrong, so a write
        raises an error that names the tensor and the op that saved it (``graphkit.write_guard``).
        Assigning a new array to ``data`` is fine for a leaf."""
        if self.grad_fn is None and id(self._data) not in _locks:
            return self._data
        return _guard.read(self)

    @data.setter
    def data(self, value: Any) -> None:
        if value is not self._data:  # ``x.data -= u`` writes in place, then sets the same array
            _guard.write(self, value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self, axes=None)

    def numpy(self) -> ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor of one element, got shape {self.shape}")
        return self._data.item()

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._from_op(self._data, None)

    def astype(self, dtype: Any) -> Tensor:
        """This tensor cast to ``dtype``; gradients are cast back."""
        return _ops.cast(self, dtype=xp.dtype(dtype))

    # ----- autograd ---------------------------------------------------------------
    def backward(
        self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``grad`` is needed when this tensor has more than one element. The graph's saved
        arrays are freed afterwards unless ``retain_graph`` (default: ``create_graph``).
        """
        _autograd.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def register_hook(self, hook: Callable[[Tensor], Any]) -> RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient with respect to this tensor is computed
        (by ``backward``, ``gk.grad``, also under ``create_graph``), as PyTorch does.

        ``grad`` is a Tensor; ``hook`` may return a replacement (a Tensor or an array of the
        same shape), which is what flows on, or None to leave it. For a leaf, hooks see the
        gradient summed over every use, before it is added to ``.grad``. Hooks run in the
        order registered. Returns a handle whose ``remove()`` unregisters the hook.
        """
        return _hooks.register(self, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor too (a leaf keeps it anyway): the
        gradient after every hook, accumulated over backward calls as a leaf's is."""
        _hooks.retain(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return _hooks.retains(self)

    # ----- arithmetic -------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, _operand(other, self))

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(_operand(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, _operand(other, self))

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(_operand(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, _operand(other, self))

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(_operand(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, _operand(other, self))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(_operand(other, self), self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, _operand(other, self))

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(_operand(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, _operand(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(_operand(other, self), self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    # ----- comparisons: elementwise bool tensors, outside the graph ---------------
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._from_op(self._data == array_of(other), None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._from_op(self._data != array_of(other), None)

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._from_op(self._data < array_of(other), None)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._from_op(self._data <= array_of(other), None)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._from_op(self._data > array_of(other), None)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._from_op(self._data >= array_of(other), None)

    # Elementwise ``==`` would make tensors unhashable; they hash by identity instead.
    __hash__ = object.__hash__

    # ----- indexing and shape -----------------------------------------------------
    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index=index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "a Tensor does not support item assignment (x[index] = value), which would "
            "change a value the graph may depend on: build a new Tensor instead, e.g. "
            "gk.where(mask, value, x), or gk.F.concatenate / gk.F.pad of pieces"
        )

    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in ``shape`` (``reshape(2, 3)`` or ``reshape((2, 3))``; -1 infers)."""
        return _ops.reshape(self, shape=dims_of(shape))

    def transpose(self, *axes: Any) -> Tensor:
        """Axes permuted as NumPy does: reversed when none are given."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            return _ops.transpose(self, axes=tuple(axes[0]) if axes[0] else None)
        return _ops.transpose(self, axes=tuple(axes) if axes else None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Axes ``axis1`` and ``axis2`` exchanged."""
        axis1, axis2 = (axes_of(a, self.ndim)[0] for a in (axis1, axis2))  # AxisError
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return _ops.transpose(self, axes=tuple(axes))

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Without the axes of length 1 (only those in ``axis`` when given)."""
        return _ops.squeeze(self, axis=axis)

    def unsqueeze(self, axis: int | tuple[int, ...]) -> Tensor:
        """With a new axis of length 1 at position ``axis`` of the result."""
        return _ops.expand_dims(self, axis)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Axes ``start_axis`` to ``end_axis`` merged into one (all by default)."""
        return _ops.flatten(self, start_axis=start_axis, end_axis=end_axis)

    def flip(self, axis: Axis = None) -> Tensor:
        """The elements in reverse order along ``axis`` (all axes by default)."""
        return _ops.flip(self, axis=axis)

    def tile(self, *reps: Any) -> Tensor:
        """Repeated ``reps[k]`` times along axis k (``tile(2, 3)`` or ``tile((2, 3))``)."""
        return _ops.tile(self, dims_of(reps))

    def broadcast_to(self, *shape: Any) -> Tensor:
        """Repeated along new leading axes and axes of length 1 to ``shape``."""
        return _ops.broadcast_to(self, shape=dims_of(shape))

    def split(self, sections_or_indices: Any, axis: int = 0) -> list[Tensor]:
        """NumPy's ``split`` (not PyTorch's, whose int is a part's length): an int k gives k
        equal parts, a list of indices cuts before each."""
        return _ops.split(self, sections_or_indices, axis=axis)

    # ----- reductions -------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The largest element; ties share the gradient equally."""
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The smallest element; ties share the gradient equally."""
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.prod(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """The variance over N - ddof (NumPy's ``ddof``)."""
        return _ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis: int) -> Tensor:
        return _ops.cumsum(self, axis=axis)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> ndarray:
        """The index of the first largest element, an integer array (not differentiable)."""
        return _ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> ndarray:
        """The index of the first smallest element, an integer array (not differentiable)."""
        return _ops.argmin(self, axis=axis, keepdims=keepdims)

    # ----- elementwise functions --------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def expm1(self) -> Tensor:
        return _ops.expm1(self)

    def square(self) -> Tensor:
        return _ops.square(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element; the gradient is 0."""
        return _ops.sign(self)

    def erf(self) -> Tensor:
        return _ops.erf(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Elements limited to [min, max], as ``torch.clamp`` (gradient 1 at a bound itself)."""
        return _ops.clip(self, min=min, max=max)

    clamp = clip

    # ----- Python and NumPy protocols ---------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> ndarray:
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(", threshold=64)
        facts = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.grad_fn is not None:
            facts.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            facts.append("requires_grad=True")
        if self.name:
            facts.append(f"name={self.name!r}")
        return f"Tensor({body}, {', '.join(facts)})"


def _operand(other: Any, like: Tensor) -> Any:
    """The other side of a binary operator: Tensors and Python numbers pass as they are
    (so float32 stays float32), arrays become constants; non-floating arrays take
    ``like``'s dtype, as PyTorch's type promotion would give."""
    if isinstance(other, _PASS_THROUGH):
        if STRONG_PYTHON_SCALARS and type(other) in _PYTHON_NUMBERS and like.dtype != xp.float64:
            return like.dtype.type(other)  # keep float32 float32 on NumPy 1.x too
        return other
    if isinstance(other, (ndarray, np.generic, list, tuple)):
        array = xp.asarray(other)
        if array.dtype.kind in "biu" and like.dtype.kind == "f":
            return array.astype(like.dtype)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"unsupported operand of dtype {array.dtype} for a Tensor")
        return array
    raise TypeError(f"unsupported operand type for a Tensor: {type(other).__name__}")


_PYTHON_NUMBERS = _PASS_THROUGH
_PASS_THROUGH = (Tensor, *_PASS_THROUGH)


def dims_of(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A shape given as ints or as one tuple or list, PyTorch's two spellings
    (``reshape(2, 3)``, ``reshape((2, 3))``), as one tuple."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def array_of(x: Any) -> Any:
    """The array inside a Tensor, or ``x`` itself: for values that are constants to
    the graph (masks, signs, indices) in backward code that sees arrays or Tensors."""
    return x._data if isinstance(x, Tensor) else x



# The ops and the walk are imported last: they in turn need the Tensor class above.
from graphkit import autograd as _autograd  # noqa: E402
from graphkit import hooks as _hooks  # noqa: E402
from graphkit import ops as _ops  # noqa: E402
from graphkit import write_guard as _guard  # noqa: E402
from graphkit.write_guard import _locks  # noqa: E402
