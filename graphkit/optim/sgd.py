"""Stochastic gradient descent with momentum and L2 weight decay, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Iterable

from graphkit.optim.optimizer import Optimizer, check_nonnegative
from graphkit.tensor import Tensor


class SGD(Optimizer):
    """``p <- p - lr * v`` with ``v <- momentum * v + g`` and ``g = grad + weight_decay * p``.

    With ``momentum=0`` this is plain gradient descent ``p <- p - lr * g``. The first
    step starts the velocity at ``g`` (PyTorch's convention, no dampening). Weight
    decay is applied to every parameter the optimizer was given.

    Args:
        params: Tensors with ``requires_grad=True``.
        lr: the learning rate.
        momentum: the velocity's decay factor, in [0, 1).
        weight_decay: the L2 coefficient.
    """

    hyperparameters = ("lr", "momentum", "weight_decay")

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        check_nonnegative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay

    def step(self) -> None:
        """Update each parameter whose ``.grad`` is set; at most two temporaries each."""
        for array, state, update in self.gradients():
            if self.momentum:
                velocity = state.get("momentum_buffer")
                if velocity is None:
                    # The gradient's array belongs to the caller: the buffer needs its own.
                    velocity = state["momentum_buffer"] = update.copy()
                else:
                    velocity *= self.momentum
                    velocity += update
                update = velocity
            array -= self.lr * update
