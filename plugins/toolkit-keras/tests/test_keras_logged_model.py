"""A Keras model trained through the Trainer comes back from MLflow (its Keras flavor) predicting the same probabilities."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

import toolkit
from toolkit import data
from toolkit_mlflow.testing import mlflow_store, migrated_sqlite_template  # noqa: F401

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.slow


def test_the_logged_keras_model_predicts_the_trained_models_probabilities(mlflow_store):  # noqa: F811
    import mlflow

    digits = data.load("digits", validation_split=0.2, seed=0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(digits.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trainer = toolkit.Trainer(model, metrics=["accuracy"], trackers=["mlflow"], progress=False)
    history = trainer.fit(digits.x_train[:300], digits.y_train[:300],
                          validation_data=(digits.x_val[:100], digits.y_val[:100]), data_name="digits")
    run = mlflow_store.client().get_run(history.run.links["mlflow"].run_id)
    (output,) = run.outputs.model_outputs
    logged = mlflow.pyfunc.load_model(f"models:/{output.model_id}")
    assert "keras" in logged.metadata.flavors
    assert logged.metadata.get_input_schema().inputs[0].shape == (-1, 8, 8, 1)
    np.testing.assert_allclose(logged.predict(digits.x_val[:100]), trainer.adapter.predict_proba(digits.x_val[:100]),
                               rtol=1e-6, atol=1e-6)
