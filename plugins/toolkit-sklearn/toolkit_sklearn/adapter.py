"""EstimatorAdapter: the trainer's view of a scikit-learn style estimator (one fit = one epoch)."""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

_PARAM_TYPES = (str, int, float, bool, type(None))


class EstimatorAdapter:
    """Adapts an object with ``fit``, ``get_params`` and ``predict``/``predict_proba``."""

    framework = "sklearn"

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self._labels: Optional[list] = None

    def labels(self, y: Any) -> list:
        present = np.unique(np.asarray(y)).tolist()
        fitted = getattr(self.estimator, "classes_", None)
        if fitted is not None and self._labels is None:
            known = np.asarray(fitted).tolist()
            unknown = sorted(set(present) - set(known), key=repr)
            if unknown:
                raise ValueError(f"y holds labels {unknown} that the fitted estimator never saw ({known})")
            present = known
        self._labels = present
        return present

    def describe(self) -> Mapping[str, Any]:
        cls = type(self.estimator)
        params: dict[str, Any] = {"estimator": f"{cls.__module__}.{cls.__qualname__}"}
        for name, value in sorted(self.estimator.get_params(deep=False).items()):
            params[f"estimator.{name}"] = value if isinstance(value, _PARAM_TYPES) else repr(value)
        return params

    def check_fit(self, epochs: int, batch_size: int) -> None:
        if epochs > 1 and not hasattr(self.estimator, "partial_fit"):
            raise ValueError(
                f"epochs is {epochs}, but {type(self.estimator).__name__} has no partial_fit: "
                "one fit is one epoch, so use epochs=1 (or an estimator with partial_fit)"
            )

    def fit(
        self, x: Any, y: Any, *, epochs: int, batch_size: int,
        epoch_ended: Callable[[int, Mapping[str, float]], None],
    ) -> None:
        self.check_fit(epochs=epochs, batch_size=batch_size)
        rows = _as_rows(x)
        incremental = hasattr(self.estimator, "partial_fit")
        classes = np.asarray(self._labels if self._labels is not None else np.unique(y))
        for epoch in range(epochs):
            if incremental and epochs > 1:
                for start in range(0, len(rows), batch_size):
                    stop = start + batch_size
                    self.estimator.partial_fit(rows[start:stop], y[start:stop], classes=classes)
            else:
                self.estimator.fit(rows, y)
            logs = {"accuracy": float(np.mean(self.estimator.predict(rows) == y))}
            loss = getattr(self.estimator, "loss_", None)
            if isinstance(loss, (int, float, np.floating)):
                logs["loss"] = float(loss)
            epoch_ended(epoch, logs)

    def predict_proba(self, x: Any) -> Optional[np.ndarray]:
        try:
            proba = self.estimator.predict_proba(_as_rows(x))
        except AttributeError:  # no probabilities (SVC without probability=True, Perceptron)
            return None
        classes = np.asarray(self.estimator.classes_).tolist()
        labels = self._labels or classes
        if classes == labels:
            return np.asarray(proba, dtype=float)
        # The estimator saw fewer classes than the data has: place its columns by label.
        scores = np.zeros((proba.shape[0], len(labels)))
        for column, label in enumerate(classes):
            scores[:, labels.index(label)] = proba[:, column]
        return scores

    def predict(self, x: Any) -> np.ndarray:
        return np.asarray(self.estimator.predict(_as_rows(x)))

    def model_description(self, x_example: Any) -> Any:
        """The fitted estimator for trackers, with examples as rows (what it was fitted on)."""
        from toolkit.plugin import ModelDescription

        rows = _as_rows(x_example)
        # getattr: predict_proba is absent when unavailable (SVC without probability=True)
        predict = getattr(self.estimator, "predict_proba", None) or self.estimator.predict
        output = predict(rows)
        return ModelDescription(framework=self.framework, model=self.estimator, input_example=rows,
                                output_example=np.asarray(output), save=self.save)

    def save(self, folder: str) -> str:
        """Write the estimator with joblib (scikit-learn's own way to persist) into ``folder``."""
        import joblib

        path = os.path.join(folder, "model.joblib")
        joblib.dump(self.estimator, path)
        return path

    def artifacts(
        self, x: Any, y: np.ndarray, y_score: Optional[np.ndarray], labels: Sequence, folder: str
    ) -> Mapping[str, str]:
        return {}


def _as_rows(x: Any) -> np.ndarray:
    """Examples as rows: images and other n-D examples are flattened."""
    array = np.asarray(x)
    return array.reshape(len(array), -1) if array.ndim > 2 else array
