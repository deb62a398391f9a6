"""A SQLite store keeps its runs' files beside the database, whatever folder the command runs in."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

import toolkit


def _local_path(uri: str) -> str:
    return unquote(urlparse(uri).path) if uri.startswith("file:") else uri


def test_a_new_store_and_a_named_experiment_keep_files_beside_the_database(tmp_path, monkeypatch):
    import mlflow

    database = tmp_path / "store" / "mlflow.db"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    beside = str(tmp_path / "store" / "mlruns")

    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    toolkit.evaluate([0, 1, 1, 0], y_score=[0.2, 0.7, 0.6, 0.4], trackers=["mlflow"], run_name="default-experiment")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "course")
    toolkit.evaluate([0, 1, 1, 0], y_score=[0.2, 0.7, 0.6, 0.4], trackers=["mlflow"], run_name="named-experiment")

    client = mlflow.MlflowClient(f"sqlite:///{database}")
    runs = client.search_runs([experiment.experiment_id for experiment in client.search_experiments()])
    assert sorted(run.info.run_name for run in runs) == ["default-experiment", "named-experiment"]
    for run in runs:
        folder = _local_path(run.info.artifact_uri)
        assert folder.startswith(beside + os.sep), (run.info.run_name, folder)
        assert os.path.isfile(os.path.join(folder, "evaluation", "metrics.json"))
    assert not (elsewhere / "mlruns").exists()
