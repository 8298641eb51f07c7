"""A training run from the command line's options, and its folder of results.

``train_run`` trains and writes everything into the run folder; ``evaluate_run``
rebuilds the model from that folder and measures it on the same test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphkit import __version__, metrics, nn, optim, viz
from graphkit import functional as F
from graphkit.cli import zoo
from graphkit.cli.datasets import ImageDataset, load_dataset
from graphkit.data import Compose, DataLoader, RandomRotation, RandomShift, train_test_split
from graphkit.files import atomic_output
from graphkit.onnx import export as onnx_export
from graphkit.tensor import Tensor
from graphkit.train import EarlyStopping, History, fit, plots, predict

WEIGHTS_FILE = "model.npz"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
#: The metadata keys ``export_run`` writes into an ONNX file.
ONNX_MODEL_KEY = "graphkit.model"
ONNX_DATASET_KEY = "graphkit.dataset"
ONNX_ACCURACY_KEY = "graphkit.test_accuracy"
#: Evaluation runs this many examples at a time; it does not change the results.
EVAL_BATCH_SIZE = 256
#: Optimizer -> learning rate used when --lr is not given.
DEFAULT_LR = {"sgd": 0.01, "adam": 1e-3}
DEFAULT_MOMENTUM = 0.9


class RunError(Exception):
    """A problem with the user's input that ends the command with a one-line message."""


def as_command(
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.ArgumentParser, argparse.Namespace], None],
) -> Callable[[argparse.Namespace], int]:
    """``command`` as an ``args.run`` function returning the exit status: 1 with a
    one-line message on stderr when it raises ``RunError`` (a reason the user can fix)."""

    def run(args: argparse.Namespace) -> int:
        try:
            command(parser, args)
        except RunError as error:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
            return 1
        return 0

    return run


@dataclass(frozen=True)
class RunResult:
    """What a training run produced: its test accuracy and where its files are."""

    test_accuracy: float
    out: Path
    history: History


def default_out(args: argparse.Namespace) -> Path:
    """``runs/<model>-<dataset>``, the dataset named by its folder's name for a path."""
    return Path("runs") / f"{args.model}-{Path(args.dataset).name}"


def train_run(args: argparse.Namespace) -> RunResult:
    """Train ``args.model`` on ``args.dataset`` as the options say; write the run folder.

    The folder ``args.out`` gets ``model.npz`` (the weights), ``config.json`` (what
    ``evaluate_run`` needs to rebuild the model), ``history.json``, ``curves.svg/png``,
    ``confusion.svg/png``, ``misclassified.png`` and ``graph.svg`` (``graph.dot``
    when Graphviz's ``dot`` program is missing), and with ``--grad-flow``
    ``grad_flow.png`` (each layer's gradient norm per step; the numbers in history.json).

    Raises:
        RunError: the data set is missing, or too small for ``--val-fraction``.
    """
    dtype = np.dtype(args.dtype)
    dataset = _load(args.dataset, dtype)
    train_loader, evaluation_loaders = _loaders(args, dataset)
    np.random.seed(args.seed)  # parameter init and dropout draw from the global RNG
    model = zoo.build_model(args.model, dataset.input_shape, dataset.num_classes, args)
    callbacks = []
    if args.early_stopping is not None:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.early_stopping))
    history = fit(
        model,
        F.softmax_cross_entropy,
        _optimizer(args, model),
        train_loader,
        val_loader=evaluation_loaders,
        epochs=args.epochs,
        callbacks=callbacks,
        progress=args.progress,
        grad_flow=getattr(args, "grad_flow", False),
    )
    if history.stop_reason:
        print(f"stopped after epoch {len(history)}: {history.stop_reason}")
    scores = predict(model, dataset.x_test, EVAL_BATCH_SIZE)
    test_accuracy = metrics.accuracy(scores, dataset.t_test)

    out = Path(args.out) if args.out is not None else default_out(args)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / WEIGHTS_FILE)
    _write_json(out / CONFIG_FILE, _config(args, dataset, dtype, test_accuracy))
    history.save(out / HISTORY_FILE)
    _write_plots(out, history, dataset, scores.argmax(axis=1))
    _write_graph(model, dataset, out)
    print(f"wrote {out}/")
    print(f"test accuracy: {test_accuracy:.4f}")
    return RunResult(test_accuracy, out, history)


def load_run(run: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """The model of a saved run (a run folder or the ``model.npz`` in one), rebuilt from
    ``config.json`` beside the weights, and that config.

    Raises:
        RunError: the weights or their config are missing.
    """
    weights = Path(run) / WEIGHTS_FILE if Path(run).is_dir() else Path(run)
    config_path = weights.parent / CONFIG_FILE
    for path in (weights, config_path):
        if not path.is_file():
            raise RunError(f"{path} not found; give a run folder written by `graphkit train`")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    args = argparse.Namespace(**config["args"])
    input_shape = tuple(config["input_shape"])
    model = zoo.build_model(config["model"], input_shape, config["num_classes"], args)
    model.load_state_dict(weights)
    return model, config


def evaluate_run(run: str | Path, dataset_name: str | None = None) -> float:
    """The test accuracy of a saved run: a run folder or the ``model.npz`` in one.

    The model is rebuilt by ``load_run`` and measured on the test set of ``dataset_name``
    (default: the data set it was trained on), exactly as ``train_run`` measured it.

    Raises:
        RunError: the weights, their config or the data set are missing, or the
            data set's images do not fit the model.
    """
    model, config = load_run(run)
    dataset = _test_set(
        dataset_name or config["dataset"],
        np.dtype(config["dtype"]),
        tuple(config["input_shape"]),
        config["num_classes"],
    )
    scores = predict(model, dataset.x_test, EVAL_BATCH_SIZE)
    return _report(metrics.accuracy(scores, dataset.t_test))


def export_run(run: str | Path, out: str | Path) -> Path:
    """Write the model of a saved run as an ONNX file ``out``; returns its path.

    The file's metadata names the model, the data set it was trained on (which
    ``evaluate_onnx`` measures it on by default) and the test accuracy ``train`` measured.

    Raises:
        RunError: the weights or their config are missing.
    """
    model, config = load_run(run)
    example = np.zeros((1, *config["input_shape"]), dtype=config["dtype"])
    metadata = {
        ONNX_MODEL_KEY: config["model"],
        ONNX_DATASET_KEY: config["dataset"],
        ONNX_ACCURACY_KEY: repr(config["test_accuracy"]),
    }
    out = Path(out)
    try:
        onnx_export(model, example, out, metadata=metadata)
    except ImportError as error:
        raise RunError(str(error)) from None
    print(f"wrote {out}")
    return out


def evaluate_onnx(path: str | Path, dataset_name: str | None = None) -> float:
    """The test accuracy of an ONNX classifier run in onnxruntime, on float32 images.

    The data set is ``dataset_name``, or the one named in the file's metadata (as
    ``export_run`` writes it); its images must have the shape the model takes.

    Raises:
        RunError: the file is missing or not an ONNX model onnxruntime can run, it names
            no data set and none is given, or the data set is missing or does not fit.
    """
    ort = _import_onnxruntime()
    if not Path(path).is_file():
        raise RunError(f"{path} not found; write one with `graphkit export RUN_DIR --out FILE`")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own classes for unreadable files
        raise RunError(f"onnxruntime cannot load {path}: {error}".splitlines()[0]) from None
    name = dataset_name or session.get_modelmeta().custom_metadata_map.get(ONNX_DATASET_KEY)
    if name is None:
        raise RunError(f"{path} does not say what it was trained on: give --dataset")
    (model_input,), (model_output,) = session.get_inputs(), session.get_outputs()
    dataset = _test_set(
        name, np.dtype(np.float32), tuple(model_input.shape[1:]), model_output.shape[-1]
    )
    batches = (
        dataset.x_test[start : start + EVAL_BATCH_SIZE]
        for start in range(0, len(dataset.x_test), EVAL_BATCH_SIZE)
    )
    scores = np.concatenate([session.run(None, {model_input.name: x})[0] for x in batches])
    return _report(metrics.accuracy(scores, dataset.t_test))


def _test_set(
    name: str, dtype: np.dtype, input_shape: tuple[Any, ...], num_classes: Any
) -> ImageDataset:
    """The data set ``name``; RunError unless its images are ``input_shape`` in
    ``num_classes`` classes."""
    dataset = _load(name, dtype)
    if dataset.input_shape != input_shape or dataset.num_classes != num_classes:
        raise RunError(
            f"the model takes {num_classes} classes of images {input_shape}, "
            f"{dataset.name} has {dataset.num_classes} of {dataset.input_shape}"
        )
    return dataset


def _report(test_accuracy: float) -> float:
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise RunError(
            "scoring an ONNX file needs onnxruntime: pip install 'graphkit[onnx]'"
        ) from None
    return onnxruntime


def _load(name_or_path: str, dtype: np.dtype) -> ImageDataset:
    try:
        return load_dataset(name_or_path, dtype)
    except FileNotFoundError as error:
        raise RunError(str(error)) from None


def _loaders(
    args: argparse.Namespace, dataset: ImageDataset
) -> tuple[DataLoader, dict[str, DataLoader]]:
    """The training loader (shuffled, augmented with ``--augment``) and the evaluation
    loaders: ``val`` (carved from the training set by ``--val-fraction``) and ``test``."""
    x_train, t_train = dataset.x_train, dataset.t_train
    if args.limit_train is not None:
        x_train, t_train = x_train[: args.limit_train], t_train[: args.limit_train]
    evaluation_loaders = {}
    if args.val_fraction:
        (x_train, t_train), (x_val, t_val) = train_test_split(
            x_train, t_train, train=1 - args.val_fraction, seed=args.seed
        )
        if len(x_train) == 0 or len(x_val) == 0:
            raise RunError(
                f"--val-fraction {args.val_fraction} of {len(x_train) + len(x_val)} "
                "training examples leaves one of the two parts empty"
            )
        evaluation_loaders["val"] = DataLoader(x_val, t_val, EVAL_BATCH_SIZE, shuffle=False)
    evaluation_loaders["test"] = DataLoader(
        dataset.x_test, dataset.t_test, EVAL_BATCH_SIZE, shuffle=False
    )
    augment = None
    if args.augment:
        # Shifts in proportion to the image: 2 pixels of a 28x28 digit, 1 of an 8x8 one
        # (2 of 8 pixels moves a digit off its own frame).
        side = dataset.input_shape[-1]
        augment = Compose([RandomRotation(10), RandomShift(max(1, round(side / 14)))])
    train_loader = DataLoader(
        x_train, t_train, args.batch_size, shuffle=True, transform=augment, seed=args.seed
    )
    return train_loader, evaluation_loaders


def _optimizer(args: argparse.Namespace, model: nn.Module) -> optim.Optimizer:
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=lr, weight_decay=args.weight_decay)
    momentum = args.momentum if args.momentum is not None else DEFAULT_MOMENTUM
    return optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=args.weight_decay)


def _config(
    args: argparse.Namespace, dataset: ImageDataset, dtype: np.dtype, test_accuracy: float
) -> dict[str, Any]:
    options = {name: value for name, value in vars(args).items() if _is_json(value)}
    return {
        "model": args.model,
        "dataset": args.dataset,
        "input_shape": list(dataset.input_shape),
        "num_classes": dataset.num_classes,
        "dtype": dtype.name,
        "args": options,
        "test_accuracy": test_accuracy,
        "graphkit_version": __version__,
    }


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _write_json(path: Path, content: dict[str, Any]) -> None:
    with atomic_output(path) as out:
        out.write((json.dumps(content, indent=2) + "\n").encode("utf-8"))


def _write_plots(
    out: Path, history: History, dataset: ImageDataset, predictions: np.ndarray
) -> None:
    plots.plot_curves(history, out / "curves")
    if history.grad_flow:
        plots.plot_grad_flow(history, out / "grad_flow.png")
    matrix = metrics.confusion_matrix(predictions, dataset.t_test, dataset.num_classes)
    plots.plot_confusion(matrix, out / "confusion", dataset.class_names)
    plots.plot_misclassified(
        dataset.x_test, dataset.t_test, predictions, out / "misclassified.png", dataset.class_names
    )


def _write_graph(model: nn.Module, dataset: ImageDataset, out: Path) -> Path:
    """Draw one training example's forward pass and loss: graph.svg, else graph.dot."""
    loss = F.softmax_cross_entropy(model(Tensor(dataset.x_test[:1])), dataset.t_test[:1])
    try:
        return viz.render(loss, out / "graph.svg")
    except RuntimeError as error:
        print(f"note: {error}; writing graph.dot instead", file=sys.stderr)
        return viz.render(loss, out / "graph.dot", format="dot")
