"""Every op as a function that accepts arrays or Tensors (see ``graphkit.graph.Op``).

On arrays these just compute; on Tensors they record the graph. Backward code uses
them in both ways, which is what makes higher-order derivatives free.
"""

from graphkit.backend import sum_to
from graphkit.ops.arithmetic import add, div, linear, matmul, mul, neg, pow, sub
from graphkit.ops.attention import scaled_dot_product_attention
from graphkit.ops.conv import conv2d, conv_transpose2d
from graphkit.ops.dropout import dropout
from graphkit.ops.einsum import einsum
from graphkit.ops.elementwise import abs, cast, exp, log, relu, sigmoid, sqrt, step, tanh
from graphkit.ops.embedding import embedding
from graphkit.ops.im2col import col2im, im2col
from graphkit.ops.interpolate import interpolate
from graphkit.ops.loss import log_softmax, mae, mse, softmax, softmax_cross_entropy
from graphkit.ops.norm import batch_norm, layer_norm
from graphkit.ops.pooling import avg_pool2d, max_pool2d
from graphkit.ops.reduction import max, mean, sum
from graphkit.ops.registry import registered_ops
from graphkit.ops.shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    flip,
    getitem,
    identity,
    pad,
    reshape,
    scatter_add,
    split,
    squeeze,
    stack,
    take_along_axis,
    tile,
    transpose,
)

__all__ = [
    "abs",
    "add",
    "avg_pool2d",
    "batch_norm",
    "broadcast_to",
    "cast",
    "col2im",
    "concatenate",
    "conv2d",
    "conv_transpose2d",
    "div",
    "dropout",
    "einsum",
    "embedding",
    "exp",
    "expand_dims",
    "flatten",
    "flip",
    "getitem",
    "identity",
    "im2col",
    "interpolate",
    "layer_norm",
    "linear",
    "log",
    "log_softmax",
    "mae",
    "matmul",
    "max",
    "max_pool2d",
    "mean",
    "mse",
    "mul",
    "neg",
    "pad",
    "pow",
    "registered_ops",
    "relu",
    "reshape",
    "scaled_dot_product_attention",
    "scatter_add",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "step",
    "sub",
    "sum",
    "sum_to",
    "take_along_axis",
    "tanh",
    "tile",
    "transpose",
]
