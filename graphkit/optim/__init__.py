"""Optimizers: ``SGD`` and ``Adam`` for training, ``steepest_descent`` for minimising
a function written with graphkit ops."""

from graphkit.optim.adam import Adam
from graphkit.optim.optimizer import Optimizer
from graphkit.optim.sgd import SGD
from graphkit.optim.steepest_descent import OptimizeResult, steepest_descent

__all__ = ["SGD", "Adam", "OptimizeResult", "Optimizer", "steepest_descent"]
