"""Scaled dot-product attention, composed of matmul, softmax and a masking bias.

A composition, not an op of its own: every piece already has its backward, jvp and
second derivatives, and the two matrix products dominate the cost either way.
"""

from __future__ import annotations

import math
from typing import Any

from graphkit.backend import xp
from graphkit.ops.arithmetic import add, matmul, mul
from graphkit.ops.loss import softmax
from graphkit.tensor import Tensor, array_of


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None) -> Any:
    """softmax(q kᵀ / sqrt(d)) v over the last two axes, as PyTorch's.

    q (..., L, d), k (..., S, d), v (..., S, dv) -> (..., L, dv); leading axes broadcast.
    ``mask`` is a bool array or Tensor broadcastable to (..., L, S), True where a query may
    attend to a key. Masked scores become -inf before the softmax, so a row with no key
    allowed is 0/0: NaN in the output and in its gradients, as in PyTorch.
    """
    q_shape, k_shape, v_shape = (xp.shape(array_of(t)) for t in (q, k, v))
    if min(len(q_shape), len(k_shape), len(v_shape)) < 2:
        raise ValueError(
            f"scaled_dot_product_attention: q {q_shape}, k {k_shape} and v {v_shape} need "
            "at least two axes: (..., L, d), (..., S, d), (..., S, dv)"
        )
    if q_shape[-1] != k_shape[-1] or k_shape[-2] != v_shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: q {q_shape} and k {k_shape} must share the last "
            f"axis d, and k and v {v_shape} the key axis S"
        )
    scores = mul(matmul(q, k.swapaxes(-1, -2)), 1.0 / math.sqrt(q_shape[-1]))
    if mask is not None:
        scores = add(scores, _mask_bias(mask, xp.shape(array_of(scores)), scores.dtype))
    return matmul(softmax(scores, axis=-1), v)


def _mask_bias(mask: Any, scores_shape: tuple[int, ...], dtype: Any) -> Any:
    """0 where ``mask`` allows attention and -inf where it does not, in the scores' dtype."""
    mask = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if mask.dtype != xp.bool_:
        raise TypeError(
            f"scaled_dot_product_attention: mask must be bool (True where attention is "
            f"allowed), got {mask.dtype}"
        )
    try:
        fits = xp.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"scaled_dot_product_attention: mask of shape {mask.shape} does not broadcast "
            f"to the scores (..., L, S) of shape {scores_shape}"
        )
    return xp.where(mask, 0.0, -xp.inf).astype(dtype)
