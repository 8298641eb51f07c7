"""einsum: NumPy's Einstein summation, with its gradient and tangent as einsums too.

``einsum`` rewrites the subscripts into NumPy's explicit form without ``...`` (the
ellipsis axes get letters of their own, the implicit output is spelled out), so the op
and its rules only ever see terms of plain letters such as ``"bij,bjk->bik"``.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from graphkit.backend import xp
from graphkit.graph import Op
from graphkit.ops.shape import broadcast_to
from graphkit.ops.tangents import total

_LETTERS = string.ascii_letters  # the labels NumPy's einsum accepts


class Einsum(Op):
    """``numpy.einsum`` with explicit subscripts of letters only (``"ij,jk->ik"``)."""

    __slots__ = ("subscripts",)

    def __init__(self, subscripts: str):
        self.subscripts = subscripts

    def forward(self, *xs):
        # optimize: contractions of two or more operands go through BLAS (tensordot).
        return xp.einsum(self.subscripts, *xs, optimize=len(xs) > 1)

    def backward(self, gy, y, *xs):
        terms, output = _terms(self.subscripts)
        grads = tuple(
            _operand_gradient(k, gy, terms, output, xs) if self.needs_grad(k) else None
            for k in range(len(xs))
        )
        return grads if len(grads) > 1 else grads[0]  # a one-input op returns one gradient

    def jvp(self, dxs, y, *xs):
        # Linear in each operand: the tangent is the sum of the einsums with one operand
        # replaced by its tangent.
        return total(*(
            None if dx is None
            else Einsum.apply(*xs[:k], dx, *xs[k + 1:], subscripts=self.subscripts)
            for k, dx in enumerate(dxs)
        ))


def _terms(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _operand_gradient(k: int, gy: Any, terms: list[str], output: str, xs: Sequence[Any]) -> Any:
    """The gradient of operand ``k``: the einsum of ``gy`` with the other operands, written
    out to operand k's term."""
    target = terms[k]
    shape = xp.shape(xs[k])
    size = dict(zip(target, shape))
    operands = [gy, *(x for j, x in enumerate(xs) if j != k)]
    subs = [output, *(t for j, t in enumerate(terms) if j != k)]
    fresh = (letter for letter in _LETTERS if letter not in "".join(terms) + output)
    result = []
    for position, letter in enumerate(target):
        if letter in target[:position]:
            # A repeated letter reads a diagonal ("ii->i"): an output may not repeat a
            # letter, so the repeat gets a fresh one tied to the first by an identity
            # matrix, which puts the gradient on the diagonal and zeros elsewhere.
            twin = next(fresh)
            operands.append(xp.eye(size[letter], dtype=gy.dtype))
            subs.append(letter + twin)
            result.append(twin)
        else:
            result.append(letter)
    present = set("".join(subs))
    for letter in dict.fromkeys(target):
        if letter not in present:
            # Summed away in this operand alone: the gradient is the same all along it.
            operands.append(xp.ones(size[letter], dtype=gy.dtype))
            subs.append(letter)
    g = Einsum.apply(*operands, subscripts=",".join(subs) + "->" + "".join(result))
    # Where only another operand had an axis of length 1 that broadcast, the einsum
    # leaves it 1; widen it here (the engine sums the opposite case back).
    full = xp.broadcast_shapes(g.shape, shape)
    return g if g.shape == full else broadcast_to(g, shape=full)


def explicit_subscripts(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> str:
    """``subscripts`` for operands of ``shapes`` in explicit form with letters only.

    The ellipsis takes unused letters, aligned from the right across the operands as
    NumPy broadcasts them; without ``->`` the output is the ellipsis axes, then the letters
    that occur once, in alphabetical order (NumPy's implicit mode).
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise ValueError(f"einsum: {subscripts!r} has more than one '->'")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} has {len(terms)} operand terms but "
                         f"{len(shapes)} operands were given")
    for term in (*terms, output):
        letters = term.replace("...", "", 1)
        bad = [c for c in letters if c not in _LETTERS]
        if bad:
            raise ValueError(f"einsum: {subscripts!r} has {bad[0]!r} where only letters and "
                             "one '...' per term may stand")
    used = set(text)
    free = [letter for letter in _LETTERS if letter not in used]
    extra = []
    for term, shape in zip(terms, shapes):
        named = len(term) - 3 if "..." in term else len(term)
        if named > len(shape) or ("..." not in term and named != len(shape)):
            raise ValueError(f"einsum: term {term!r} of {subscripts!r} names {named} axes but "
                             f"its operand has shape {shape}")
        extra.append(len(shape) - named)
    widest = max(extra, default=0)
    if widest > len(free):
        raise ValueError(f"einsum: {subscripts!r} leaves too few unused letters for the "
                         f"{widest} axes of its '...'")
    ellipsis = "".join(free[:widest])
    terms = [term.replace("...", ellipsis[widest - n:]) for term, n in zip(terms, extra)]
    if not arrow:
        counts = Counter("".join(terms))
        output = ellipsis + "".join(sorted(c for c in counts if counts[c] == 1
                                           and c not in ellipsis))
    elif "..." in output:
        output = output.replace("...", ellipsis)
    elif widest:
        raise ValueError(f"einsum: the operands of {subscripts!r} have '...' axes but the "
                         "output has no '...' to put them in")
    for position, letter in enumerate(output):
        if letter in output[:position]:
            raise ValueError(f"einsum: the output of {subscripts!r} repeats {letter!r}")
        if not any(letter in term for term in terms):
            raise ValueError(f"einsum: the output of {subscripts!r} has {letter!r}, which no "
                             "operand term has")
    return ",".join(terms) + "->" + output


def einsum(subscripts: str, *operands: Any) -> Any:
    """``numpy.einsum(subscripts, *operands)``, differentiable in every operand."""
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    explicit = explicit_subscripts(subscripts, [xp.shape(x) for x in operands])
    return Einsum.apply(*operands, subscripts=explicit)
