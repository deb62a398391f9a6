"""Data sets and the trained model in a real offline W&B run: the config, dataset and model artifacts."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit.tracking.datasets import digest

pytestmark = pytest.mark.slow


def test_datasets_and_model_reach_an_offline_run_as_config_and_artifacts(wandb_offline, tmp_path):
    x, y = load_digits(return_X_y=True)
    source = tmp_path / "digits.npz"
    np.savez(source, x=x, y=y)
    trainer = toolkit.Trainer(LogisticRegression(max_iter=300), trackers=["wandb"], progress=False,
                              register_as="digits-lr")
    history = trainer.fit(x[:500], y[:500], validation_data=(x[500:700], y[500:700]),
                          data_name="digits.npz", data_source=str(source))
    run = wandb_offline.run(history.run.links["wandb"].run_id)
    assert run.exit_code == 0
    training = run.config["dataset.training"]
    assert training == {"name": "digits.npz", "digest": digest(x[:500], y[:500]), "source": str(source),
                        "context": "training", "rows": 500,
                        "schema": {"features": {"dtype": "float64", "shape": [-1, 64]},
                                   "targets": {"dtype": "int64", "shape": [-1]}}}
    assert run.config["dataset.validation"]["digest"] == digest(x[500:700], y[500:700])
    datasets = {artifact["name"]: artifact for artifact in run.artifacts if artifact["type"] == "dataset"}
    assert set(datasets) == {"digits.npz-training", "digits.npz-validation"}
    # A reference to the file, never a copy of it.
    assert datasets["digits.npz-training"]["entries"] == {"digits.npz": f"file://{source}"}
    assert datasets["digits.npz-training"]["metadata"] == training
    assert "training" in datasets["digits.npz-training"]["aliases"]

    (model,) = [artifact for artifact in run.artifacts if artifact["type"] == "model"]
    assert model["name"] == f"model-{run.run_id}" and list(model["entries"]) == ["model.joblib"]
    assert model["metadata"] == {"framework": "sklearn", "registered_as": "digits-lr"}
    # W&B keeps the staged copy until `wandb sync` uploads it: it is the fitted estimator itself.
    staged = model["staged"]["model.joblib"]
    assert staged.startswith(str(tmp_path))
    np.testing.assert_array_equal(joblib.load(staged).predict_proba(x[500:700]),
                                  trainer.model.predict_proba(x[500:700]))
