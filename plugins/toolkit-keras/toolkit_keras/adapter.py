"""KerasAdapter: the trainer's view of a compiled Keras model."""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

# The layer settings worth a glance in the one-line layer summary.
_LAYER_KEYS = ("units", "filters", "kernel_size", "pool_size", "rate", "activation")
# Predicting in chunks this large calls the model directly: for small validation sets this is
# much cheaper than model.predict, which builds its own data pipeline on every call.
_PREDICT_CHUNK = 2048


class KerasAdapter:
    """Adapts a compiled ``keras.Model`` whose last layer outputs one score per class."""

    framework = "keras"

    def __init__(self, model: Any) -> None:
        self.model = model

    # --- what the model is ------------------------------------------------------------------------

    @property
    def _outputs(self) -> int:
        return int(self.model.outputs[0].shape[-1])

    def _check_compiled(self) -> None:
        if getattr(self.model, "optimizer", None) is None or not getattr(self.model, "compiled", True):
            raise ValueError(
                "model: the Keras model is not compiled; call model.compile(optimizer=..., "
                "loss=..., metrics=['accuracy']) first"
            )

    def labels(self, y: Any) -> list:
        self._check_compiled()
        labels = [0, 1] if self._outputs == 1 else list(range(self._outputs))
        values = np.asarray(y)
        if values.dtype.kind == "f" and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        if values.dtype.kind not in "iub":
            raise ValueError(
                f"y must hold integer class indices 0..{len(labels) - 1} for a Keras model, "
                f"got {values.dtype} values such as {values.flat[0]!r}"
            )
        outside = np.unique(values[(values < 0) | (values >= len(labels))]).tolist()
        if outside:
            raise ValueError(
                f"y holds classes {outside[:5]} but the model's last layer outputs {self._outputs} "
                f"value(s), i.e. classes 0..{len(labels) - 1}; give the last layer one unit per class"
            )
        return labels

    def describe(self) -> Mapping[str, Any]:
        self._check_compiled()
        optimizer = self.model.optimizer
        params: dict[str, Any] = {
            "optimizer": type(optimizer).__name__,
            "learning_rate": _learning_rate(optimizer),
            "loss": _loss_name(self.model.loss),
            "layers": " > ".join(_layer_text(layer) for layer in self.model.layers),
            "parameter_count": int(self.model.count_params()),
        }
        return params

    # --- training and predicting ------------------------------------------------------------------

    def check_fit(self, *, epochs: int, batch_size: int) -> None:
        """Keras trains any number of epochs at any batch size: nothing to refuse."""

    def fit(
        self, x: Any, y: Any, *, epochs: int, batch_size: int,
        epoch_ended: Callable[[int, Mapping[str, float]], None],
    ) -> None:
        from toolkit_keras.callback import ToolkitCallback

        self.model.fit(
            np.asarray(x), self._targets(np.asarray(y)), epochs=epochs, batch_size=batch_size,
            verbose=0, callbacks=[ToolkitCallback(epoch_ended)],
        )

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """``y`` as the loss expects it: class indices for sparse losses, one-hot otherwise."""
        y = y.astype(np.int64)
        if self._outputs == 1:
            return y.astype("float32")
        if "sparse" in _loss_name(self.model.loss).lower():
            return y
        return np.eye(self._outputs, dtype="float32")[y]

    def predict_proba(self, x: Any) -> np.ndarray:
        import keras

        x = np.asarray(x)
        chunks = [
            keras.ops.convert_to_numpy(self.model(x[start:start + _PREDICT_CHUNK], training=False))
            for start in range(0, len(x), _PREDICT_CHUNK)
        ]
        scores = np.concatenate(chunks).astype(np.float64)
        activation = getattr(self.model.layers[-1], "activation", None)
        if getattr(activation, "__name__", "") == "linear":  # a model trained on logits
            scores = _sigmoid(scores) if self._outputs == 1 else _softmax(scores)
        if self._outputs == 1:
            positive = scores.reshape(-1)
            return np.column_stack((1 - positive, positive))
        return scores

    def predict(self, x: Any) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    def artifacts(
        self, x: Any, y: np.ndarray, y_score: Optional[np.ndarray], labels: Sequence, folder: str
    ) -> Mapping[str, str]:
        files = {"model_summary": os.path.join(folder, "model_summary.txt")}
        lines: list[str] = []
        self.model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
        with open(files["model_summary"], "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        x = np.asarray(x)
        if y_score is not None and _looks_like_images(x):
            from toolkit_keras.samples import save_sample_grid

            predicted = np.asarray(labels)[np.asarray(y_score).argmax(axis=1)]
            files["sample_predictions"] = save_sample_grid(
                x, np.asarray(y), predicted, os.path.join(folder, "sample_predictions.png")
            )
        return files


def _looks_like_images(x: np.ndarray) -> bool:
    return x.ndim == 3 or (x.ndim == 4 and x.shape[-1] in (1, 3))


def _learning_rate(optimizer: Any) -> Any:
    rate = getattr(optimizer, "learning_rate", None)
    try:
        # float32 in the optimizer: 7 significant digits give back the value the user set.
        return float(f"{float(np.asarray(rate)):.7g}")
    except (TypeError, ValueError):  # a schedule: its class says more than a number would
        return type(rate).__name__


def _loss_name(loss: Any) -> str:
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _layer_text(layer: Any) -> str:
    config = layer.get_config()
    shown = []
    for key in _LAYER_KEYS:
        value = config.get(key)
        if value is None or value == "linear":
            continue
        if isinstance(value, (list, tuple)):
            value = "x".join(str(part) for part in value)
        elif isinstance(value, dict):  # a serialised activation object
            value = value.get("config", {}).get("name", value.get("class_name"))
        shown.append(str(value))
    return f"{type(layer).__name__}({', '.join(shown)})" if shown else type(layer).__name__


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))
