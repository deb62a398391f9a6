"""The toolkit-sklearn plugin: adapts scikit-learn style estimators and builds them from a config."""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Mapping, Optional

from toolkit.plugin import hookimpl

from toolkit_sklearn.adapter import EstimatorAdapter

_SPEC_KEYS = ("estimator", "options")


@hookimpl
def toolkit_model_adapter(model: Any) -> Optional[EstimatorAdapter]:
    # get_params is the scikit-learn estimator API; Keras models also have fit and predict.
    if callable(getattr(model, "fit", None)) and callable(getattr(model, "get_params", None)) and (
        callable(getattr(model, "predict", None)) or callable(getattr(model, "predict_proba", None))
    ):
        return EstimatorAdapter(model)
    return None


@hookimpl
def toolkit_build_model(framework: str, spec: Mapping[str, Any], seed: Optional[int]) -> Any:
    if framework != "sklearn":
        return None
    unknown = [key for key in spec if key not in _SPEC_KEYS]
    if unknown:
        raise ValueError(f"model.{unknown[0]} is not a sklearn model key; use {list(_SPEC_KEYS)}")
    path = spec.get("estimator")
    if not isinstance(path, str) or "." not in path:
        raise ValueError(
            "model.estimator must name an estimator class by its import path, "
            "for example sklearn.linear_model.LogisticRegression"
        )
    options = spec.get("options") or {}
    if not isinstance(options, Mapping):
        raise ValueError(f"model.options must be a mapping of parameter to value, got {options!r}")
    estimator_class = _import_class(path)
    if seed is not None and "random_state" not in options and "random_state" in _parameters(estimator_class):
        options = {**options, "random_state": seed}
    try:
        return estimator_class(**options)
    except TypeError as error:
        raise ValueError(f"model.options do not fit {path}: {error}") from None


def _import_class(path: str) -> type:
    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"model.estimator {path!r}: cannot import {module_name}: {error}") from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type):
        close = difflib.get_close_matches(class_name, [name for name in dir(module) if name[:1].isupper()], n=1)
        hint = f"; did you mean {module_name}.{close[0]}?" if close else ""
        raise ValueError(f"model.estimator {path!r}: {module_name} has no class {class_name}{hint}")
    return found



def _parameters(estimator_class: type) -> set:
    import inspect

    try:
        return set(inspect.signature(estimator_class).parameters)
    except (TypeError, ValueError):
        return set()
