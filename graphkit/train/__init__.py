"""Training: ``fit`` a model epoch by epoch, with callbacks, a History and plots.

The command-line app's ``train`` and ``evaluate`` (``graphkit.cli``) build on it.
"""

from graphkit.train.callbacks import Callback, EarlyStopping
from graphkit.train.grad_flow import GradFlow
from graphkit.train.history import History
from graphkit.train.loop import evaluate, fit, predict, train_epoch
from graphkit.train.plots import plot_confusion, plot_curves, plot_grad_flow, plot_misclassified

__all__ = [
    "Callback",
    "EarlyStopping",
    "GradFlow",
    "History",
    "evaluate",
    "fit",
    "plot_confusion",
    "plot_curves",
    "plot_grad_flow",
    "plot_misclassified",
    "predict",
    "train_epoch",
]
