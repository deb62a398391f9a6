"""The toolkit-sklearn plugin: adapts scikit-learn style estimators and builds them from a config."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from toolkit.plugin import ESTIMATOR_SOURCES, hookimpl, import_class

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
    estimator = spec.get("estimator")
    # A class comes from Python code or from a config that named a plugin-registered class (the
    # config resolved it); text may name scikit-learn's estimators only.
    estimator_class = estimator if isinstance(estimator, type) else _sklearn_estimator(estimator)
    options = spec.get("options") or {}
    if not isinstance(options, Mapping):
        raise ValueError(f"model.options must be a mapping of parameter to value, got {options!r}")
    if seed is not None and "random_state" not in options and "random_state" in _parameters(estimator_class):
        options = {**options, "random_state": seed}
    try:
        return estimator_class(**options)
    except TypeError as error:
        raise ValueError(f"model.options do not fit {estimator_class.__name__}: {error}") from None


def _sklearn_estimator(path: Any) -> type:
    """The scikit-learn estimator class at ``path``; nothing outside ``sklearn`` is imported."""
    if not isinstance(path, str) or "." not in path:
        raise ValueError(
            "model.estimator must name an estimator class by its import path, "
            "for example sklearn.linear_model.LogisticRegression"
        )
    if not path.startswith("sklearn."):
        raise ValueError(f"model.estimator {path!r} is not allowed: name {ESTIMATOR_SOURCES}")
    from sklearn.base import BaseEstimator

    found = import_class(path)
    if not issubclass(found, BaseEstimator):
        raise ValueError(f"model.estimator {path!r} is not a scikit-learn estimator (it does not derive "
                         f"from sklearn.base.BaseEstimator): name {ESTIMATOR_SOURCES}")
    return found


def _parameters(estimator_class: type) -> set:
    import inspect

    try:
        return set(inspect.signature(estimator_class).parameters)
    except (TypeError, ValueError):
        return set()
