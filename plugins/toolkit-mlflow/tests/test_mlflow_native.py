"""A toolkit training run as MLflow itself reads one: experiment kind, source, description,
datasets as run inputs, the trained model as a logged (and registered) model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit.plugin import COMMAND_TAG
from toolkit.tracking.datasets import digest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x[:600], y[:600], x[600:800], y[600:800]


def _train(digits, **options):
    x, y, x_val, y_val = digits
    trainer = toolkit.Trainer(LogisticRegression(max_iter=300), trackers=["mlflow"], run_name="native",
                              progress=False, **options)
    history = trainer.fit(x, y, validation_data=(x_val, y_val), data_name="digits",
                          data_source="sklearn.datasets.load_digits")
    return trainer, history


def test_a_training_run_has_kind_source_description_datasets_and_a_logged_model(mlflow_store, digits):
    import mlflow

    x, y, x_val, y_val = digits
    trainer, history = _train(digits, register_as="digits-lr",
                              tags={COMMAND_TAG: "toolkit train digits.yaml --set params.api_key=***"})
    client = mlflow_store.client()
    run = client.get_run(history.run.links["mlflow"].run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    tags = run.data.tags
    assert tags["mlflow.source.name"] == "toolkit train digits.yaml --set params.api_key=***"
    assert tags["mlflow.source.type"] == "LOCAL"
    note = tags["mlflow.note.content"]
    assert note.startswith("**FINISHED**: a sklearn model")
    assert f"accuracy {history.final.metrics['accuracy']:.4g}" in note
    assert "training `digits` (600 rows" in note and "validation `digits` (200 rows" in note

    inputs = {entry.tags[0].value: entry.dataset for entry in run.inputs.dataset_inputs}
    assert set(inputs) == {"training", "validation"}
    assert [entry.tags[0].key for entry in run.inputs.dataset_inputs] == ["mlflow.data.context"] * 2
    assert inputs["training"].digest == digest(x, y) and inputs["validation"].digest == digest(x_val, y_val)
    assert inputs["training"].name == "digits" and inputs["training"].source_type == "code"
    assert json.loads(inputs["training"].source) == {"tags": {"source": "sklearn.datasets.load_digits"}}
    assert json.loads(inputs["training"].profile)["features_shape"] == [600, 64]

    (output,) = run.outputs.model_outputs
    logged = client.get_logged_model(output.model_id)
    assert logged.source_run_id == run.info.run_id
    model = mlflow.pyfunc.load_model(f"models:/{output.model_id}")
    assert model.metadata.signature is not None and model.metadata.get_input_schema().input_types()
    np.testing.assert_allclose(model.predict(x_val), trainer.model.predict_proba(x_val), rtol=0, atol=0)
    assert "sklearn" in model.metadata.flavors
    registered = client.get_model_version("digits-lr", "1")
    assert registered.run_id == run.info.run_id
    np.testing.assert_allclose(mlflow.pyfunc.load_model("models:/digits-lr/1").predict(x_val),
                               trainer.model.predict_proba(x_val), rtol=0, atol=0)


def test_model_logging_can_be_switched_off_and_register_as_needs_it(mlflow_store, digits):
    _, history = _train(digits, log_model=False)
    run = mlflow_store.client().get_run(history.run.links["mlflow"].run_id)
    assert run.outputs is None or not run.outputs.model_outputs
    assert len(run.inputs.dataset_inputs) == 2  # the data sets are recorded either way
    with pytest.raises(ValueError, match="register_as needs the model logged"):
        toolkit.Trainer(LogisticRegression(), trackers=["mlflow"], log_model=False, register_as="x")


def test_an_experiment_of_another_kind_keeps_it_and_an_untagged_one_is_tagged(mlflow_store, digits):
    client = mlflow_store.client()
    client.create_experiment("genai", tags={"mlflow.experimentKind": "genai_development"})
    untagged = client.create_experiment("plain")
    _train(digits, tracker_options={"mlflow": {"experiment_name": "genai"}}, log_model=False)
    _train(digits, tracker_options={"mlflow": {"experiment_name": "plain"}}, log_model=False)
    assert client.get_experiment_by_name("genai").tags["mlflow.experimentKind"] == "genai_development"
    assert client.get_experiment(untagged).tags["mlflow.experimentKind"] == "custom_model_development"
