"""Forward-mode transforms: jvp and jacfwd, one pass with tangents beside the values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphkit import forward
from graphkit.backend import xp
from graphkit.func.inputs import (
    Argnums,
    any_linked,
    as_tensor_result,
    assemble,
    depends_on_leaves,
    forward_input,
    now,
    outputs_of,
    positions,
    split_aux,
)
from graphkit.tensor import Tensor


def _as_sequence(values: Any, what: str) -> tuple[Any, ...]:
    if isinstance(values, (tuple, list)):
        return tuple(values)
    if isinstance(values, (Tensor, xp.ndarray, int, float)):
        return (values,)
    raise TypeError(f"jvp: {what} must be a tuple of Tensors, arrays or numbers")


def _tangents_out(
    f: Callable[..., Any], args: Sequence[Any], tangents: dict[int, Any], has_aux: bool
) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...], bool, Any]:
    """Run ``f(*args)`` once with ``tangents[i]`` beside argument ``i``: the outputs, their
    tangents (zeros where an output does not depend on them), tuple-ness, and aux."""
    with forward.dual_level() as level:
        args_in = list(args)
        for i, tangent in tangents.items():
            args_in[i] = forward_input(args[i])
            forward.attach(args_in[i], level, tangent)
        result, aux = split_aux(f(*args_in), has_aux, "jvp")
        outputs, is_tuple = outputs_of(result, "jvp")
        out_tangents = tuple(
            Tensor._from_op(xp.zeros(out.shape, dtype=out.dtype), None)
            if (t := forward.tangent_of(out, level)) is None
            else as_tensor_result(t)
            for out in outputs
        )
        for out in outputs:  # after reading them all: an output may appear twice
            forward.detach_tangent(out, level)
    return outputs, out_tangents, is_tuple, aux


def _differentiated_outside(inputs: Sequence[Any], results: Sequence[Any], start: int) -> bool:
    """Whether anything outside a forward-mode transform begun at tick ``start`` may
    differentiate its ``results``: its inputs belong to a surrounding transform, or the
    results were computed from tensors that require grad other than the leaves that
    transforms inside it made for themselves."""
    return any_linked(inputs) or depends_on_leaves(results, made_after=start)


def jvp(
    f: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False
) -> tuple[Any, ...]:
    """``(f(*primals), J·tangents)`` by forward mode: one pass of ``f`` that carries each
    value's tangent beside it, with no backward pass and no graph kept.

    ``primals`` and ``tangents`` are tuples of one entry per argument, each tangent of its
    primal's shape (it takes the primal's dtype). With ``has_aux``, ``f`` returns
    ``(output, aux)`` and the result is ``(output, tangent, aux)``.
    """
    primals = _as_sequence(primals, "primals")
    tangents = _as_sequence(tangents, "tangents")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(tangents)} tangents for {len(primals)} primals")
    start = now()
    outputs, out_tangents, is_tuple, aux = _tangents_out(
        f, primals, dict(enumerate(tangents)), has_aux
    )
    if not _differentiated_outside((*primals, *tangents), (*outputs, *out_tangents), start):
        # Nothing outside differentiates these: plain values, no graph kept.
        outputs = tuple(o.detach() for o in outputs)
        out_tangents = tuple(t.detach() for t in out_tangents)
    value, tangent = (outputs, out_tangents) if is_tuple else (outputs[0], out_tangents[0])
    return (value, tangent, aux) if has_aux else (value, tangent)


def jacfwd(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` by forward mode, one jvp per input element.

    Same layout as ``jacrev``: ``output.shape + input.shape``, tuples over inputs when
    ``argnums`` is a tuple and over outputs when ``f`` returns a tuple.
    """

    def transformed(*args: Any) -> Any:
        chosen = positions(argnums, len(args), "jacfwd")
        primals = [forward_input(a) if not isinstance(a, Tensor) else a for a in args]
        start = now()
        # Tensors, or their arrays once nothing outside needs their graph (below).
        columns: dict[int, list[tuple[Any, ...]]] = {i: [] for i in chosen}
        outputs: tuple[Tensor, ...] = ()
        is_tuple, aux = False, None
        for i in chosen:
            x = primals[i]
            for flat in range(x.size):
                seed = xp.zeros(x.size, dtype=x.dtype)
                seed[flat] = 1
                outputs, out_tangents, is_tuple, aux = _tangents_out(
                    f, primals, {i: seed.reshape(x.shape)}, has_aux
                )
                columns[i].append(out_tangents)
        if not outputs:  # every chosen input is empty: run f once for the output shapes
            outputs, _, is_tuple, aux = _tangents_out(f, primals, {}, has_aux)
        computed = [t for column in columns.values() for ts in column for t in ts]
        if not _differentiated_outside(primals, computed, start):
            columns = {i: [tuple(t._data for t in ts) for ts in column]
                       for i, column in columns.items()}
        per_output = []
        for k, out in enumerate(outputs):
            jacobians = tuple(
                assemble(
                    [column[k] for column in columns[i]],
                    out.shape + primals[i].shape,
                    axis=-1,
                    dtype=out.dtype,
                )
                for i in chosen
            )
            per_output.append(jacobians[0] if isinstance(argnums, int) else jacobians)
        jac = tuple(per_output) if is_tuple else per_output[0]
        return (jac, aux) if has_aux else jac

    return transformed
