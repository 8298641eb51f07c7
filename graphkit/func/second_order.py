"""Second-order transforms: the Hessian (forward over reverse) and Hessian-vector products."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphkit.func.forward_mode import jacfwd, jvp
from graphkit.func.inputs import Argnums
from graphkit.func.reverse_mode import grad_and_value, jacrev


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function returning the Hessian of a scalar-valued ``f``: ``jacfwd(jacrev(f))``.

    Its shape is ``input.shape + input.shape`` (tuples of tuples when ``argnums`` is a
    tuple). Forward over reverse: one backward pass, differentiated by one forward pass
    per input element.
    """
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """``(f(*primals), H·tangents)`` for a scalar-valued ``f``, without forming H.

    Forward over reverse: the jvp of the gradient, one pass, whatever the input's size.
    ``primals`` and ``tangents`` are tuples (the product is then a tuple) or single values.
    """
    single = not isinstance(primals, (tuple, list))
    primals = (primals,) if single else tuple(primals)
    tangents = (tangents,) if single else tuple(tangents)
    gradient_and_value = grad_and_value(f, argnums=tuple(range(len(primals))))

    def gradient(*xs: Any) -> tuple[Any, ...]:
        grads, value = gradient_and_value(*xs)
        return (*grads, value)

    outputs, out_tangents = jvp(gradient, primals, tangents)
    products = out_tangents[:-1]
    return outputs[-1], products[0] if single else tuple(products)
