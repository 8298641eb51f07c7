"""The classic networks, written on graphkit.

``TwoLayerNet`` and ``TinyNet`` keep their weights in plain arrays, as the book's
networks do; ``MLP``, ``LeNet`` and the batch-normalised ``BNCNN`` are ``gk.nn.Module`` s;
``MPNeuron`` is the McCulloch-Pitts neuron.
"""

from models.bn_cnn import BNCNN
from models.lenet import LeNet
from models.mlp import MLP
from models.mp_neuron import MPNeuron
from models.tinynet import TinyNet, train_one_iter
from models.twolayernet import TwoLayerNet

__all__ = ["BNCNN", "MLP", "LeNet", "MPNeuron", "TinyNet", "TwoLayerNet", "train_one_iter"]
