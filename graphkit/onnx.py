"""``gk.onnx.export``: a ``gk.nn`` network as an ONNX model that onnxruntime runs.

Export runs the network once on the example input in eval mode and records the layers it
calls, in order, with the tensors that flow between them. Each layer becomes ONNX nodes
through the converter of its exact type (``CONVERTERS``); containers such as ``Sequential``
or a model class with its own ``forward`` need none, since only the layers they call are
recorded. What a ``forward`` computes between layers with other ops cannot be seen this
way, so export refuses a network whose layers do not feed one another directly.

The model is float32 (weights of other dtypes are rounded to it), opset ``OPSET``, with
one input ``input`` and one output ``output`` whose first axis, the batch, may have any
size. Needs the ``onnx`` package: ``pip install graphkit[onnx]``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphkit import nn
from graphkit.files import atomic_output
from graphkit.graph import no_grad
from graphkit.ops.im2col import pair
from graphkit.tensor import Tensor

#: The ONNX operator set the models use (GELU is written with Erf, which it has).
OPSET = 17
INPUT = "input"
OUTPUT = "output"


class ExportError(ValueError):
    """The network holds a layer export has no converter for, or computes outside layers."""


def export(
    module: nn.Module,
    example_input: Any,
    path: str | os.PathLike[str],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``module`` as an ONNX model to ``path`` (atomically).

    ``example_input`` (a Tensor or array, e.g. (B, C, H, W) for a convolutional network)
    fixes every axis of the model's input but the first, the batch. The network runs once
    on it in eval mode (dropout off, batch norm on its running statistics) and is left in
    the mode it was in. ``metadata`` goes into the model's ``metadata_props`` (what it was
    trained on, say). The model passes ``onnx.checker`` before it is written.

    Raises:
        ExportError: a layer the network calls has no converter (its type and place are
            named), or a layer's input does not come from the previous layers.
        ImportError: the ``onnx`` package is missing.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"gk.onnx.export takes a gk.nn.Module, got {type(module).__name__}; a network that "
            "keeps its weights in plain arrays must be rebuilt from gk.nn layers first"
        )
    onnx = _import_onnx()
    x = example_input if isinstance(example_input, Tensor) else Tensor(np.asarray(example_input))
    calls, output = _trace(module, x)
    graph = _Graph()
    names = {id(x): INPUT}
    shapes = {id(x): x.shape}
    for call in calls:
        source = names.get(id(call.input))
        if source is None:
            raise ExportError(
                f"cannot export {type(module).__name__}: the input of {call.path} "
                f"({type(call.module).__name__}) is not the network's input nor the output "
                "of a layer called before it, so the forward computes it with ops export "
                "cannot see. Build that step from gk.nn layers (nn.Flatten for a reshape, "
                f"nn.ReLU for F.relu, ...); supported layers: {', '.join(supported_layers())}"
            )
        names[id(call.output)] = CONVERTERS[type(call.module).__name__](
            call.module, graph, source, call.path, shapes[id(call.input)]
        )
        shapes[id(call.output)] = call.output.shape
    if id(output) not in names:
        raise ExportError(
            f"cannot export {type(module).__name__}: its output is not the output of one of "
            "its layers (its forward computes the result with ops export cannot see)"
        )
    graph.rename(names[id(output)], OUTPUT)
    model = graph.model(onnx, x.shape, output.shape)
    onnx.helper.set_model_props(model, dict(metadata or {}))
    onnx.checker.check_model(model)
    with atomic_output(path) as file:
        file.write(model.SerializeToString())


def supported_layers() -> list[str]:
    """The names of the ``gk.nn`` layers export converts (containers need no converter)."""
    return [name for name in CONVERTERS if hasattr(nn, name)]


@dataclass
class _Call:
    """One call of a layer during the trace: its input and output Tensors."""

    module: nn.Module
    path: str
    input: Any
    output: Any


def _trace(module: nn.Module, x: Tensor) -> tuple[list[_Call], Any]:
    """Run ``module(x)`` in eval mode and record each call of a converted layer.

    A layer called inside another converted layer is part of that one and not recorded.
    Raises ExportError when a module with no sub-modules and no converter is called.
    """
    paths = {id(child): path or type(module).__name__ for path, child in module.named_modules()}
    calls: list[_Call] = []
    inside_layer = False
    patched = []

    def recording(child: nn.Module, forward: Callable[..., Any]) -> Callable[..., Any]:
        def forward_and_record(*args: Any, **kwargs: Any) -> Any:
            nonlocal inside_layer
            if inside_layer:
                return forward(*args, **kwargs)
            inside_layer = True
            try:
                out = forward(*args, **kwargs)
            finally:
                inside_layer = False
            if len(args) != 1 or kwargs:
                raise ExportError(f"{paths[id(child)]} was called with {len(args)} inputs, not 1")
            calls.append(_Call(child, paths[id(child)], args[0], out))
            return out

        return forward_and_record

    def refusing(child: nn.Module) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            kind = type(child)
            raise ExportError(
                f"cannot export {kind.__module__}.{kind.__qualname__} (at {paths[id(child)]!r}): "
                "ONNX export has no converter for it; supported gk.nn layers: "
                f"{', '.join(supported_layers())}"
            )

        return refuse

    modes = {id(child): child.training for child in module.modules()}
    try:
        for child in module.modules():
            if type(child).__name__ in CONVERTERS and type(child) is getattr(
                nn, type(child).__name__, None
            ):
                replacement = recording(child, child.forward)
            elif next(child.children(), None) is None:
                replacement = refusing(child)
            else:
                continue
            # An instance attribute shadows the class's forward for this call only.
            patched.append((child, child.__dict__.get("forward")))
            object.__setattr__(child, "forward", replacement)
        module.eval()
        with no_grad():
            output = module(x)
    finally:
        for child, previous in patched:
            del child.__dict__["forward"]
            if previous is not None:
                object.__setattr__(child, "forward", previous)
        for child in module.modules():
            child.training = modes[id(child)]
    return calls, output


@dataclass
class _Graph:
    """The nodes and weights of the model being built; every name is unique."""

    nodes: list[Any] = field(default_factory=list)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    _used: set[str] = field(default_factory=lambda: {INPUT, OUTPUT})

    def unique(self, name: str) -> str:
        candidate, count = name, 1
        while candidate in self._used:
            count += 1
            candidate = f"{name}_{count}"
        self._used.add(candidate)
        return candidate

    def weight(self, name: str, value: Any) -> str:
        """A float32 initializer holding ``value``; returns its name."""
        name = self.unique(name)
        self.weights[name] = np.asarray(value, dtype=np.float32)
        return name

    def node(self, op_type: str, inputs: list[str], name: str, **attributes: Any) -> str:
        """Append one node; returns the name of its (single) output."""
        name = self.unique(name)
        self.nodes.append((op_type, inputs, name, attributes))
        return name

    def rename(self, value: str, new: str) -> None:
        """Make ``value`` the graph's output ``new``: rename what produces it, or copy the
        input to it when it is the input."""
        for i, (op_type, inputs, output, attributes) in enumerate(self.nodes):
            if output == value:
                self.nodes[i] = (op_type, inputs, new, attributes)
                return
        self.nodes.append(("Identity", [value], new, {}))

    def model(self, onnx: Any, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> Any:
        helper, float32 = onnx.helper, onnx.TensorProto.FLOAT
        nodes = [
            helper.make_node(op_type, inputs, [output], name=output, **attributes)
            for op_type, inputs, output, attributes in self.nodes
        ]
        initializers = [
            onnx.numpy_helper.from_array(value, name) for name, value in self.weights.items()
        ]
        graph = helper.make_graph(
            nodes,
            "graphkit",
            [helper.make_tensor_value_info(INPUT, float32, ["batch", *input_shape[1:]])],
            [helper.make_tensor_value_info(OUTPUT, float32, ["batch", *output_shape[1:]])],
            initializers,
        )
        opset = helper.make_opsetid("", OPSET)
        # Here, not at the top: graphkit/__init__.py imports this module before __version__.
        from graphkit import __version__

        return helper.make_model(
            graph,
            opset_imports=[opset],
            ir_version=helper.find_min_ir_version_for([opset]),
            producer_name="graphkit",
            producer_version=__version__,
        )


# ----- converters: (layer, graph, input name, path, input shape) -> output name ----------
Converter = Callable[[Any, _Graph, str, str, tuple[int, ...]], str]


def _linear(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
    # gk.nn.Linear's weight is (in, out), so no transpose: y = x @ W + b.
    weight = graph.weight(f"{path}.weight", layer.weight.data)
    bias = None if layer.bias is None else graph.weight(f"{path}.bias", layer.bias.data)
    if len(shape) == 2:
        return graph.node("Gemm", [x, weight] + ([bias] if bias else []), path)
    product = graph.node("MatMul", [x, weight], f"{path}.matmul" if bias else path)
    return graph.node("Add", [product, bias], path) if bias else product


def _window_attributes(layer: Any, kernel: tuple[int, int]) -> dict[str, Any]:
    ph, pw = pair(layer.pad, "pad", minimum=0)
    return {"kernel_shape": list(kernel), "strides": list(pair(layer.stride, "stride")),
            "pads": [ph, pw, ph, pw]}  # fmt: skip


def _convolution(op_type: str) -> Converter:
    def convert(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
        # Conv2d's weight is (out, in, KH, KW), ConvTranspose2d's (in, out, KH, KW): both as
        # ONNX's Conv and ConvTranspose take them.
        weight = graph.weight(f"{path}.weight", layer.weight.data)
        inputs = [x, weight]
        if layer.bias is not None:
            inputs.append(graph.weight(f"{path}.bias", layer.bias.data))
        attributes = _window_attributes(layer, layer.weight.shape[2:])
        return graph.node(op_type, inputs, path, **attributes)

    return convert


def _pooling(op_type: str, **extra: Any) -> Converter:
    def convert(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
        attributes = _window_attributes(layer, pair(layer.kernel_size, "kernel_size"))
        return graph.node(op_type, [x], path, **attributes, **extra)

    return convert


def _batch_norm(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
    """Eval mode: (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    channels = len(layer.running_mean)
    weight = np.ones(channels) if layer.weight is None else layer.weight.data
    bias = np.zeros(channels) if layer.bias is None else layer.bias.data
    inputs = [
        x,
        graph.weight(f"{path}.weight", weight),
        graph.weight(f"{path}.bias", bias),
        graph.weight(f"{path}.running_mean", layer.running_mean),
        graph.weight(f"{path}.running_var", layer.running_var),
    ]
    return graph.node("BatchNormalization", inputs, path, epsilon=float(layer.eps))


def _layer_norm(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
    """Each sample standardised over its last len(normalized_shape) axes."""
    ones = np.ones(layer.normalized_shape)
    inputs = [
        x,
        graph.weight(f"{path}.weight", ones if layer.weight is None else layer.weight.data),
        graph.weight(f"{path}.bias", 0 * ones if layer.bias is None else layer.bias.data),
    ]
    axis = -len(layer.normalized_shape)
    return graph.node("LayerNormalization", inputs, path, axis=axis, epsilon=float(layer.eps))


def _elementwise(op_type: str, **attributes: Callable[[Any], Any]) -> Converter:
    """One ONNX op; each attribute is read from the layer by the function given for it."""

    def convert(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
        values = {name: read(layer) for name, read in attributes.items()}
        return graph.node(op_type, [x], path, **values)

    return convert


def _gelu(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
    """The exact form, x * (1 + erf(x / sqrt 2)) / 2 (ONNX has no Gelu before opset 20)."""
    scaled = graph.node("Div", [x, graph.weight(f"{path}.sqrt2", math.sqrt(2.0))], f"{path}.div")
    shifted = graph.node("Add", [graph.node("Erf", [scaled], f"{path}.erf"),
                                 graph.weight(f"{path}.one", 1.0)], f"{path}.add")  # fmt: skip
    half = graph.node("Mul", [x, graph.weight(f"{path}.half", 0.5)], f"{path}.half_x")
    return graph.node("Mul", [half, shifted], path)


def _silu(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
    return graph.node("Mul", [x, graph.node("Sigmoid", [x], f"{path}.sigmoid")], path)


def _identity(layer: Any, graph: _Graph, x: str, path: str, shape: tuple[int, ...]) -> str:
    return x


#: gk.nn layer class name -> its converter; a layer converts when its type is exactly
#: that gk.nn class. Names gk.nn does not (yet) define are skipped.
CONVERTERS: dict[str, Converter] = {
    "Linear": _linear,
    "Conv2d": _convolution("Conv"),
    "ConvTranspose2d": _convolution("ConvTranspose"),
    "MaxPool2d": _pooling("MaxPool"),
    "AvgPool2d": _pooling("AveragePool", count_include_pad=1),
    "BatchNorm1d": _batch_norm,
    "BatchNorm2d": _batch_norm,
    "LayerNorm": _layer_norm,
    "ReLU": _elementwise("Relu"),
    "Sigmoid": _elementwise("Sigmoid"),
    "Tanh": _elementwise("Tanh"),
    "LeakyReLU": _elementwise("LeakyRelu", alpha=lambda layer: float(layer.negative_slope)),
    "ELU": _elementwise("Elu", alpha=lambda layer: float(layer.alpha)),
    "GELU": _gelu,
    "SiLU": _silu,
    "Softplus": _elementwise("Softplus"),
    "Dropout": _identity,  # eval mode
    "Flatten": _elementwise("Flatten", axis=lambda layer: 1),
}


def _import_onnx() -> Any:
    try:
        import onnx
        import onnx.checker
        import onnx.numpy_helper
    except ImportError as error:
        raise ImportError(
            "gk.onnx.export needs the onnx package: pip install 'graphkit[onnx]'"
        ) from error
    return onnx
