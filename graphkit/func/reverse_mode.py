"""Reverse-mode transforms: vjp, grad, grad_and_value and jacrev, built on ``gk.grad``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphkit import forward
from graphkit.autograd import grad as _autograd_grad
from graphkit.backend import xp
from graphkit.func.inputs import (
    Argnums,
    as_output,
    assemble,
    depends_on_leaves,
    outputs_of,
    positions,
    reverse_input,
    split_aux,
)
from graphkit.graph import enable_grad
from graphkit.tensor import Tensor


def _nested(inputs: tuple[Tensor, ...], outputs: tuple[Tensor, ...], extra: Any = None) -> bool:
    """Whether the derivative must itself be differentiable: this transform runs inside
    another (forward mode active, inputs linked to a surrounding graph), or the function
    used tensors that require grad besides its inputs (a model's parameters)."""
    if forward.is_active() or any(x.grad_fn is not None for x in inputs):
        return True
    if isinstance(extra, Tensor) and extra.requires_grad:
        return True
    return depends_on_leaves(outputs, exclude=inputs)


def _gradients(
    outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], cotangents: Any, nested: bool
) -> tuple[Tensor, ...]:
    """d(sum of outputs · cotangents)/d(inputs), zeros for inputs the outputs ignore."""
    used = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    found: tuple[Tensor | None, ...] = (None,) * len(inputs)
    if used:
        found = _autograd_grad(
            [o for o, _ in used],
            list(inputs),
            grad_outputs=[c for _, c in used],
            retain_graph=True,
            create_graph=nested,
            allow_unused=True,
        )
    return tuple(
        Tensor._from_op(xp.zeros(x.shape, dtype=x.dtype), None) if g is None else g
        for x, g in zip(inputs, found)
    )


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns one gradient per primal.

    The cotangent has the output's shape (a tuple of them when ``f`` returns a tuple);
    ``vjp_fn`` may be called many times. With ``has_aux``, ``f`` returns
    ``(output, aux)`` and the result is ``(output, vjp_fn, aux)``.
    """
    inputs = tuple(reverse_input(p) for p in primals)
    with enable_grad():
        result, aux = split_aux(f(*inputs), has_aux, "vjp")
    outputs, is_tuple = outputs_of(result, "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        cotangents = tuple(cotangent) if is_tuple else (cotangent,)
        if len(cotangents) != len(outputs):
            raise ValueError(f"vjp: {len(cotangents)} cotangents for {len(outputs)} outputs")
        for out, c in zip(outputs, cotangents):
            if xp.shape(c) != out.shape:
                raise ValueError(
                    f"vjp: cotangent of shape {xp.shape(c)} for an output of shape {out.shape}"
                )
        extra = next((c for c in cotangents if isinstance(c, Tensor)), None)
        return _gradients(outputs, inputs, cotangents, _nested(inputs, outputs, extra))

    shown = outputs if _nested(inputs, outputs) else tuple(o.detach() for o in outputs)
    value = shown if is_tuple else shown[0]
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def _call(
    f: Callable[..., Any], args: tuple[Any, ...], argnums: Argnums, has_aux: bool, transform: str
) -> tuple[tuple[Tensor, ...], Any, Any]:
    """Run ``f`` with the arguments ``argnums`` as tensors to differentiate:
    ``(those tensors, f's output, its aux)``."""
    chosen = positions(argnums, len(args), transform)
    args_in = list(args)
    for i in chosen:
        args_in[i] = reverse_input(args[i])
    inputs = tuple(args_in[i] for i in chosen)
    with enable_grad():
        result, aux = split_aux(f(*args_in), has_aux, transform)
    return inputs, result, aux


def grad_and_value(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning ``(df/dx, f(x))`` for a scalar-valued ``f``, as
    ``torch.func.grad_and_value``; with ``has_aux`` it returns ``(grad, (value, aux))``.
    The gradient is a tuple when ``argnums`` is a tuple."""

    def transformed(*args: Any) -> Any:
        inputs, result, aux = _call(f, args, argnums, has_aux, "grad")
        value = as_output(result, "grad")
        if value.size != 1:
            raise RuntimeError(
                f"grad: the function must return a scalar (one element), got shape "
                f"{value.shape}; use jacrev or vjp for a non-scalar output"
            )
        seed = xp.ones(value.shape, dtype=value.dtype)
        nested = _nested(inputs, (value,))
        grads = _gradients((value,), inputs, (seed,), nested)
        if not nested:  # the caller sees plain values: nothing outside differentiates them
            value = value.detach()
        g = grads[0] if isinstance(argnums, int) else grads
        return (g, (value, aux)) if has_aux else (g, value)

    return transformed


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning df/dx (x the argument ``argnums``) for a scalar-valued ``f``,
    as ``torch.func.grad``; ``(grad, aux)`` with ``has_aux``."""
    with_value = grad_and_value(f, argnums, has_aux)

    def transformed(*args: Any) -> Any:
        g, value = with_value(*args)
        return (g, value[1]) if has_aux else g

    return transformed


def jacrev(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by reverse mode, one vjp per output element.

    The Jacobian of an output with respect to an input has shape
    ``output.shape + input.shape``; a tuple over inputs when ``argnums`` is a tuple, and
    over outputs when ``f`` returns a tuple.
    """

    def transformed(*args: Any) -> Any:
        inputs, result, aux = _call(f, args, argnums, has_aux, "jacrev")
        outputs, is_tuple = outputs_of(result, "jacrev")
        nested = _nested(inputs, outputs)
        per_output = []
        for k, out in enumerate(outputs):
            rows: list[list[Any]] = [[] for _ in inputs]
            for flat in range(out.size):
                seed = xp.zeros(out.size, dtype=out.dtype)
                seed[flat] = 1
                cotangents = tuple(
                    seed.reshape(out.shape) if j == k else xp.zeros(o.shape, dtype=o.dtype)
                    for j, o in enumerate(outputs)
                )
                for row, g in zip(rows, _gradients(outputs, inputs, cotangents, nested)):
                    row.append(g if nested else g._data)
            jacobians = tuple(
                assemble(row, out.shape + x.shape, axis=0, dtype=x.dtype)
                for row, x in zip(rows, inputs)
            )
            per_output.append(jacobians[0] if isinstance(argnums, int) else jacobians)
        jac = tuple(per_output) if is_tuple else per_output[0]
        return (jac, aux) if has_aux else jac

    return transformed
