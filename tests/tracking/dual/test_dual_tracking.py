"""One run in MLflow and W&B at once: same values, cross-links, isolation, and no secret in either."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest

import toolkit
from toolkit.run import Run
from toolkit.tracking import TrackingWarning


def _scores(n=300, seed=5):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    y_score = rng.dirichlet([1, 1, 1], n)
    return y_true, y_score


def test_evaluate_records_one_run_in_each_store_and_each_points_at_the_other(mlflow_store, wandb_offline, capsys):
    y_true, y_score = _scores()
    result = toolkit.evaluate(y_true, y_score=y_score, trackers=["mlflow", "wandb"], run_name="dual",
                              params={"model": {"depth": 4}})
    (mlflow_run,) = mlflow_store.runs()
    (wandb_run,) = wandb_offline.runs()
    folder = wandb_offline.run_folders()[0]
    # Cross-links: each run records the other's id and where it lives.
    assert mlflow_run.data.tags["wandb.run_id"] == wandb_run.run_id
    assert mlflow_run.data.tags["wandb.location"] == folder
    assert wandb_run.config["mlflow.run_id"] == mlflow_run.info.run_id
    assert wandb_run.config["mlflow.location"] == mlflow_store.uri
    # The same values in both, equal to the result.
    (row,) = [row for row in wandb_run.history if "accuracy" in row]
    for key, value in result.metrics.items():
        for stored in (mlflow_run.data.metrics[key], row[key]):
            assert stored == value or (math.isnan(value) and math.isnan(stored)), key
    assert mlflow_run.data.params == {"model.depth": "4"} and wandb_run.config["model.depth"] == 4
    assert mlflow_run.info.status == "FINISHED" and wandb_run.exit_code == 0
    # One line per tracker saying what reached where.
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("toolkit: ")]
    reached = f"1 param, {len(result.metrics)} metric values, 1 evaluation with charts, 0 files"
    assert lines == [
        f"toolkit: mlflow: FINISHED: {reached} -> run {mlflow_run.info.run_id} in experiment "
        f"{mlflow_run.info.experiment_id} at {mlflow_store.uri}",
        f"toolkit: wandb: FINISHED: {reached} -> offline run {wandb_run.run_id} in {folder} "
        f"(upload: wandb sync {folder})",
    ]


def test_when_mlflow_breaks_mid_run_wandb_goes_on_and_the_summary_says_so(mlflow_store, wandb_offline):
    y_true, y_score = _scores()
    with Run("mlflow-breaks", trackers=["mlflow", "wandb"]) as run:
        run.log_epoch(0, {"loss": 1.0})
        # Deleting the run in MLflow makes its store refuse every further write, for real.
        mlflow_store.client().delete_run(run.links["mlflow"].run_id)
        with pytest.warns(TrackingWarning, match="tracker 'mlflow' failed in log_evaluation"):
            run.log_evaluation(toolkit.evaluate(y_true, y_score=y_score), step=0)
        run.log_epoch(1, {"loss": 0.5})
    (wandb_run,) = wandb_offline.runs()
    assert wandb_run.metric("loss") == [(0, 1.0), (1, 0.5)]
    assert wandb_run.exit_code == 0 and "accuracy" in wandb_run.summary
    mlflow_line, wandb_line = run.summary_lines()
    assert mlflow_line.startswith("mlflow: BROKEN in log_evaluation: MlflowException: ")
    assert wandb_line.startswith("wandb: FINISHED: 0 params, ")


SECRETS = {
    "param": "param-secret-0a1b", "nested": "nested-secret-2c3d", "url": "url-secret-4e5f",
    "query": "query-secret-6a7b", "argv": "argv-secret-8c9d", "environment": "env-secret-0e1f",
    "name": "name-secret-2a3b",
}


def test_planted_secrets_reach_neither_store(mlflow_store, wandb_offline, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", f"--password={SECRETS['argv']}"])
    monkeypatch.setenv("SERVICE_TOKEN", SECRETS["environment"])
    params = {
        "api_key": SECRETS["param"],
        "database": {"host": "db", "settings": {"Password": SECRETS["nested"]}},
        "data_url": f"postgresql://reader:{SECRETS['url']}@db.internal:5432/digits",
        "export": f"https://store.example/upload?user=me&access_token={SECRETS['query']}",
        "lr": 0.1,
    }
    y_true, y_score = _scores()
    result = toolkit.evaluate(y_true, y_score=y_score, trackers=["mlflow", "wandb"], params=params,
                              run_name=f"https://bot:{SECRETS['name']}@ci.example/job/7")
    assert result.metrics["accuracy"] >= 0
    (mlflow_run,) = mlflow_store.runs()
    assert mlflow_run.data.params["data_url"] == "postgresql://db.internal:5432/digits"
    assert mlflow_run.data.params["database.settings.Password"] == "***"
    searched = [mlflow_store.database]
    for root in (os.path.join(mlflow_store.folder, "mlruns"), os.path.join(wandb_offline.root, "wandb")):
        searched += [os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names]
    assert len(searched) > 10
    found = []
    for path in searched:
        with open(path, "rb") as handle:
            content = handle.read()
        found += [(kind, path) for kind, secret in SECRETS.items() if secret.encode() in content]
    assert found == []
