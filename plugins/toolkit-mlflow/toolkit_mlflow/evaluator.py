"""The toolkit as an MLflow model evaluator: ``mlflow.models.evaluate(..., evaluators=["toolkit"])``.

Registered under the ``mlflow.model_evaluator`` entry point ``toolkit``. It computes every
toolkit metric that applies (every installed metric plugin, or ``evaluator_config["metrics"]``)
from the model's probabilities when the model has ``predict_proba`` (AUROC and log loss
included), adds intervals, gates and threshold targets as ``toolkit.evaluate`` does, records the
result in the run MLflow opened (metrics, PNG/CSV/JSON artifacts under ``evaluation/``, gate
tags) and returns it with the names ``toolkit.evaluate`` uses.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Optional

import numpy as np
from mlflow.models.evaluation.base import EvaluationResult, ModelEvaluator

# evaluator_config keys, passed to toolkit.evaluate under the same names.
CONFIG_KEYS = ("metrics", "labels", "gates", "baseline", "ci", "n_bootstrap", "seed", "threshold_targets", "exact")
# The picture each artifact of an evaluation is rendered as in the run (the others are JSON).
PICTURES = ("confusion_matrix", "roc_curve", "pr_curve", "threshold_analysis")
RESULT_ARTIFACT = "toolkit_evaluation"  # the whole result (metrics, intervals, gates) as JSON


class ToolkitEvaluator(ModelEvaluator):
    """Classifier evaluation by the toolkit's metric engine, logged to the evaluation's run."""

    name = "toolkit"

    @classmethod
    def can_evaluate(cls, *, model_type: str, evaluator_config: Optional[Mapping[str, Any]], **kwargs: Any) -> bool:
        return model_type == "classifier"

    def evaluate(self, *, model_type: str, dataset: Any, run_id: str, evaluator_config: Optional[Mapping[str, Any]],
                 model: Any = None, extra_metrics: Any = None, custom_artifacts: Any = None,
                 predictions: Any = None, **kwargs: Any) -> EvaluationResult:
        import mlflow

        import toolkit
        from toolkit.plugin import Run

        options = check_config(evaluator_config)
        if extra_metrics or custom_artifacts:
            warnings.warn("the toolkit evaluator computes toolkit metrics only: extra_metrics and custom_artifacts "
                          "are for MLflow's default evaluator (list it too), or write a toolkit metric plugin",
                          UserWarning, stacklevel=2)
        if dataset.labels_data is None:
            raise ValueError("targets: the toolkit evaluator needs the true labels; pass targets=...")
        y_true = np.asarray(dataset.labels_data)
        y_pred, y_score, model_labels = model_outputs(model, dataset, predictions)
        if options.get("labels") is None and model_labels is not None:
            options["labels"] = model_labels
        result = toolkit.evaluate(y_true, y_pred, y_score, **options)  # checks everything before logging
        run = Run(None, trackers=["mlflow"], tracker_options={
            "mlflow": {"run_id": run_id, "tracking_uri": mlflow.get_tracking_uri()}})
        with run:
            run.log_evaluation(result)
        artifact_uri = mlflow.get_run(run_id).info.artifact_uri.rstrip("/")
        return EvaluationResult(metrics=result.logged_metrics(), artifacts=artifacts(result, artifact_uri),
                                run_id=run_id)


def check_config(config: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """The evaluator_config as ``toolkit.evaluate`` keywords; an unknown key is a ValueError naming it."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ValueError(f"evaluator_config for the toolkit evaluator must be a mapping, got {type(config).__name__}")
    unknown = [key for key in config if key not in CONFIG_KEYS]
    if unknown:
        raise ValueError(f"evaluator_config key {unknown[0]!r} is not a toolkit evaluator option; "
                         f"use {', '.join(CONFIG_KEYS)}")
    return dict(config)


def model_outputs(model: Any, dataset: Any, predictions: Optional[str]) -> tuple[Any, Any, Optional[list]]:
    """``(y_pred, y_score, labels)``: probabilities from ``predict_proba`` when the model has it,
    else whatever the pyfunc predicts (one column per class is read as probabilities)."""
    features = dataset.features_data
    raw = _raw_model(model)
    if callable(getattr(raw, "predict_proba", None)):
        classes = getattr(raw, "classes_", None)
        return None, np.asarray(raw.predict_proba(features)), None if classes is None else np.asarray(classes).tolist()
    if model is None:
        outputs = dataset.predictions_data
    else:
        outputs = model.predict(features)
    if predictions is not None and hasattr(outputs, "columns"):
        outputs = outputs[predictions]
    values = np.asarray(outputs)
    if values.ndim == 2 and values.shape[1] > 1 and values.dtype.kind == "f":
        return None, values, None
    return values.reshape(len(values), -1)[:, 0] if values.ndim == 2 else values, None, None


def _raw_model(model: Any) -> Any:
    try:
        return model.get_raw_model() if model is not None else None
    except (NotImplementedError, AttributeError):
        return None


def artifacts(result: Any, artifact_uri: str) -> dict[str, Any]:
    """The result's artifacts as MLflow evaluation artifacts pointing at the files the run holds."""
    from mlflow.models.evaluation.artifacts import ImageEvaluationArtifact, JsonEvaluationArtifact

    folder = f"{artifact_uri}/evaluation"
    found: dict[str, Any] = {}
    for name, artifact in result.artifacts.items():
        if name in PICTURES or hasattr(artifact, "figure"):
            found[name] = ImageEvaluationArtifact(uri=f"{folder}/{name}.png")
        else:
            found[name] = JsonEvaluationArtifact(uri=f"{folder}/{name}.json")
    found[RESULT_ARTIFACT] = JsonEvaluationArtifact(uri=f"{folder}/metrics.json")
    return found
