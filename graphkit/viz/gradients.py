"""What ``backward=True`` draws: the graph that computes the gradients.

The gradients of the outputs with respect to every leaf that requires grad are
computed with ``create_graph=True``, which records the backward pass as ops; drawing
those gradient tensors then shows the backward ops and, where they reuse forward
values (``y`` in ``tanh``'s ``1 - y * y``), the forward graph they depend on.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphkit.autograd import grad
from graphkit.backend import xp
from graphkit.tensor import Tensor
from graphkit.viz.walk import walk


def gradient_outputs(
    outputs: Sequence[Tensor], titles: Sequence[str]
) -> tuple[list[Tensor], dict[int, str]]:
    """The gradient tensors of ``outputs`` (titled ``titles``) and a title for each.

    Each output is seeded with ones (the gradient of the sum of its elements), held in
    a tensor named ``grad <title>`` so the seed is labelled in the drawing. Titles are
    keyed by ``id`` of the gradient tensor; one tensor can be the gradient of several
    leaves (``x + W`` hands both the same gradient), and then lists them all.
    """
    differentiable = [(out, title) for out, title in zip(outputs, titles) if out.requires_grad]
    if not differentiable:
        raise ValueError(
            "backward=True draws the gradient computation, but no output requires grad: "
            "compute the output from tensors created with requires_grad=True"
        )
    roots = [out for out, _ in differentiable]
    seeds = [
        Tensor(xp.ones_like(out.data), name=f"grad {title}", dtype=out.dtype)
        for out, title in differentiable
    ]
    leaves = [t for t in walk(roots).tensors if t.grad_fn is None and t.requires_grad]
    gradients = grad(roots, leaves, grad_outputs=seeds, create_graph=True, allow_unused=True)
    tensors: list[Tensor] = []
    names: dict[int, list[str]] = {}
    for leaf, gradient in zip(leaves, gradients):
        if gradient is None:  # the leaf's only uses have no gradient (e.g. an index)
            continue
        if id(gradient) not in names:
            tensors.append(gradient)
            names[id(gradient)] = []
        names[id(gradient)].append(f"grad {leaf.name}" if leaf.name else f"grad {leaf.shape}")
    return tensors, {key: ", ".join(labels) for key, labels in names.items()}
