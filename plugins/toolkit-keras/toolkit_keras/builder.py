"""Builds and compiles a Keras Sequential model from a config's ``model:`` section.

    model:
      framework: keras
      layers:
        - Conv2D: {filters: 32, kernel_size: [3, 3], activation: relu}
        - MaxPooling2D: {pool_size: [2, 2]}
        - Flatten
        - Dense: {units: 10, activation: softmax}
      optimizer: {name: adam, learning_rate: 0.001}   # or just: adam
      loss: categorical_crossentropy
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any, Mapping, Optional, Sequence

SPEC_KEYS = ("layers", "optimizer", "loss")


def build_model(spec: Mapping[str, Any], input_shape: tuple, labels: Sequence, seed: Optional[int] = None) -> Any:
    """A compiled ``keras.Sequential``; every mistake is a ValueError naming its config key."""
    import keras

    if seed is not None:  # Python, NumPy and TensorFlow random numbers, for repeatable runs
        keras.utils.set_random_seed(seed)

    unknown = [key for key in spec if key not in SPEC_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], SPEC_KEYS, n=1)
        hint = f"did you mean model.{close[0]}? " if close else ""
        raise ValueError(f"model.{unknown[0]} is not a Keras model key; {hint}use {list(SPEC_KEYS)}")
    layer_specs = spec.get("layers")
    if not isinstance(layer_specs, list) or not layer_specs:
        raise ValueError("model.layers must be a non-empty list, for example [Flatten, {Dense: {units: 10}}]")
    layers = [_layer(keras, entry, f"model.layers[{index}]") for index, entry in enumerate(layer_specs)]
    try:
        model = keras.Sequential([keras.Input(shape=tuple(input_shape)), *layers])
    except (ValueError, TypeError) as error:
        raise ValueError(f"model.layers do not fit inputs of shape {tuple(input_shape)}: {_first_line(error)}") from None
    outputs = int(model.outputs[0].shape[-1])
    expected = 1 if len(labels) == 2 and outputs == 1 else len(labels)
    if outputs != expected:
        raise ValueError(
            f"model.layers: the last layer outputs {outputs} values but the data has {len(labels)} "
            f"classes; end with Dense: {{units: {len(labels)}, activation: softmax}}"
        )
    model.compile(
        optimizer=_optimizer(keras, spec.get("optimizer", "adam")),
        loss=_loss(keras, spec.get("loss", "sparse_categorical_crossentropy")),
        metrics=["accuracy"],
    )
    return model


def _layer(keras: Any, entry: Any, key: str) -> Any:
    if isinstance(entry, str):
        name, options = entry, {}
    elif isinstance(entry, Mapping) and len(entry) == 1:
        name, options = next(iter(entry.items()))
        options = options or {}
    else:
        raise ValueError(f"{key} must be a layer name or {{LayerName: {{option: value}}}}, got {entry!r}")
    if not isinstance(options, Mapping):
        raise ValueError(f"{key} {name}: options must be a mapping, got {options!r}")
    layer_class = getattr(keras.layers, str(name), None)
    if not (inspect.isclass(layer_class) and issubclass(layer_class, keras.layers.Layer)):
        known = [item for item in dir(keras.layers) if item[:1].isupper()]
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"{key}: {name!r} is not a Keras layer{hint}")
    arguments = {option: tuple(value) if isinstance(value, list) else value for option, value in options.items()}
    try:
        return layer_class(**arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{key} {name}: {_first_line(error)}") from None


def _optimizer(keras: Any, entry: Any) -> Any:
    if isinstance(entry, str):
        name, options = entry, {}
    elif isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        name, options = entry["name"], {key: value for key, value in entry.items() if key != "name"}
    else:
        raise ValueError(f"model.optimizer must be a name or {{name: adam, learning_rate: 0.001}}, got {entry!r}")
    classes = {
        item.lower(): value for item, value in vars(keras.optimizers).items()
        if inspect.isclass(value) and issubclass(value, keras.optimizers.Optimizer)
        and value is not keras.optimizers.Optimizer
    }
    optimizer_class = classes.get(name.lower())
    if optimizer_class is None:
        close = difflib.get_close_matches(name.lower(), classes, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"model.optimizer: {name!r} is not a Keras optimizer{hint}")
    try:
        return optimizer_class(**options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"model.optimizer {name}: {_first_line(error)}") from None


def _loss(keras: Any, name: Any) -> Any:
    if not isinstance(name, str):
        raise ValueError(f"model.loss must be a loss name such as categorical_crossentropy, got {name!r}")
    try:
        keras.losses.get(name)
    except (ValueError, TypeError):
        known = [item for item in dir(keras.losses) if item.islower() and not item.startswith("_")]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"model.loss: {name!r} is not a Keras loss{hint}") from None
    return name


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
