"""Adam (Kingma & Ba, 2015), step for step as ``torch.optim.Adam``."""

from __future__ import annotations

import math
from collections.abc import Iterable

from graphkit.backend import xp
from graphkit.optim.optimizer import Optimizer, check_nonnegative
from graphkit.tensor import Tensor


class Adam(Optimizer):
    """Adam with bias-corrected moments and L2 weight decay added to the gradient.

    For each parameter ``p`` with gradient ``g = grad + weight_decay * p``, at its
    ``t``-th step (``t`` counts the steps where ``p`` had a gradient)::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g**2
        p <- p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Weight decay is not decoupled (that is AdamW). ``m``, ``v`` and ``t`` are kept in
    ``state`` as ``exp_avg``, ``exp_avg_sq`` and ``step``, with the parameter's shape
    and dtype.

    Args:
        params: Tensors with ``requires_grad=True``.
        lr: the learning rate.
        betas: the decay rates ``(beta1, beta2)`` of the moments, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: the L2 coefficient.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"betas[{i}] must be in [0, 1), got {beta}")
        super().__init__(params)
        self.lr = lr
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay

    def step(self) -> None:
        """Update each parameter whose ``.grad`` is set; one scratch array per parameter
        (two with weight decay)."""
        beta1, beta2 = self.betas
        for array, state, gradient in self.gradients():
            if not state:
                state["step"] = 0
                state["exp_avg"] = xp.zeros_like(array)
                state["exp_avg_sq"] = xp.zeros_like(array)
            state["step"] += 1
            step = state["step"]
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

            scratch = xp.multiply(gradient, 1.0 - beta1)
            exp_avg *= beta1
            exp_avg += scratch
            xp.multiply(gradient, gradient, out=scratch)
            scratch *= 1.0 - beta2
            exp_avg_sq *= beta2
            exp_avg_sq += scratch

            # The bias corrections are folded into two scalars rather than two arrays.
            step_size = self.lr / (1.0 - beta1**step)
            xp.sqrt(exp_avg_sq, out=scratch)
            scratch /= math.sqrt(1.0 - beta2**step)
            scratch += self.eps
            xp.divide(exp_avg, scratch, out=scratch)
            scratch *= step_size
            array -= scratch
