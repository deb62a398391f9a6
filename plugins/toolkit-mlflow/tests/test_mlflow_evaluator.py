"""``mlflow.models.evaluate(..., evaluators=["toolkit"])``: the toolkit's metrics, from predict_proba,
logged to MLflow's run and returned under toolkit.evaluate's names; scikit-learn is the oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import toolkit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted():
    x, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:400], y[:400])
    return model, x[400:], y[400:]


def test_the_toolkit_evaluator_returns_and_logs_toolkit_metrics_from_probabilities(mlflow_store, fitted):
    import mlflow

    model, x, y = fitted
    config = {"ci": 0.9, "n_bootstrap": 100, "seed": 0, "gates": {"roc_auc": ">= 0.9", "accuracy": ">= 0.999"},
              "threshold_targets": {"precision": 0.95}}
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model")
        outcome = mlflow.models.evaluate(info.model_uri, x, targets=y, model_type="classifier",
                                         evaluators=["toolkit"], evaluator_config={"toolkit": config})
    scores = model.predict_proba(x)
    expected = toolkit.evaluate(y, y_score=scores, ci=0.9, n_bootstrap=100, seed=0).logged_metrics()
    assert set(outcome.metrics) == set(expected)
    assert all(outcome.metrics[key] == value or (math.isnan(value) and math.isnan(outcome.metrics[key]))
               for key, value in expected.items())
    assert outcome.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, scores[:, 1]), abs=1e-12)
    assert outcome.metrics["log_loss"] == pytest.approx(log_loss(y, scores), abs=1e-12)
    assert outcome.metrics["accuracy"] == pytest.approx(accuracy_score(y, scores.argmax(axis=1)), abs=1e-12)

    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"  # the evaluator left the run to its owner
    assert stored.data.metrics["roc_auc"] == outcome.metrics["roc_auc"]
    assert stored.data.tags["toolkit.gates"] == "failed"  # accuracy >= 0.999 cannot hold here
    assert set(outcome.artifacts) == {"confusion_matrix", "roc_curve", "pr_curve", "threshold_analysis",
                                      "toolkit_evaluation"}
    assert outcome.artifacts["confusion_matrix"].content.size[0] > 100  # a real picture, read back from the run
    document = outcome.artifacts["toolkit_evaluation"].content
    assert [gate["passed"] for gate in document["gates"]] == [True, False]
    assert document["confusion_matrix"] == np.asarray(
        toolkit.evaluate(y, y_score=scores).confusion_matrix).tolist()


def test_a_model_without_probabilities_is_evaluated_on_its_labels_and_bad_config_is_refused(mlflow_store, fitted):
    import mlflow
    from sklearn.svm import LinearSVC

    _, x, y = fitted
    model = make_pipeline(StandardScaler(), LinearSVC()).fit(x, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model")
        outcome = mlflow.models.evaluate(info.model_uri, x, targets=y, model_type="classifier",
                                         evaluators="toolkit", evaluator_config={"metrics": ["accuracy", "f1"]})
        assert outcome.metrics == {"accuracy": accuracy_score(y, model.predict(x)),
                                   "f1": toolkit.evaluate(y, model.predict(x)).metrics["f1"]}
        with pytest.raises(ValueError, match="evaluator_config key 'cl' is not a toolkit evaluator option"):
            mlflow.models.evaluate(info.model_uri, x, targets=y, model_type="classifier", evaluators="toolkit",
                                   evaluator_config={"cl": 0.9})
