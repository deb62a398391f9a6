"""The mlflow tracker against a real ``mlflow server`` on 127.0.0.1, and against servers that do not answer."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest

import toolkit
from toolkit.run import Run, TrackerError
from toolkit_mlflow.store import BOUNDED_HTTP_SETTINGS
from toolkit_mlflow.testing import free_port

pytestmark = pytest.mark.slow


def test_a_run_through_the_server_keeps_every_value_and_its_artifacts(mlflow_server, monkeypatch, tmp_path):
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "through-server")
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 300)
    y_score = np.clip(y_true * 0.3 + rng.random(300) * 0.7, 0, 1)
    with Run("served", {"data": {"rows": 300}}, trackers=["mlflow"]) as run:
        for epoch in range(3):
            run.log_epoch(epoch, {"loss": 1.0 / (epoch + 1)})
        result = toolkit.evaluate(y_true, y_score=y_score)
        run.log_evaluation(result, step=2)
    link = run.links["mlflow"]
    assert link.url == f"{mlflow_server.uri}/#/experiments/{MlflowClient(mlflow_server.uri).get_experiment_by_name('through-server').experiment_id}/runs/{link.run_id}?workflowType=machine_learning"
    client = MlflowClient(mlflow_server.uri)
    stored = client.get_run(link.run_id)
    assert stored.info.status == "FINISHED" and stored.info.end_time is not None
    assert stored.data.params == {"data.rows": "300"}
    assert {key: stored.data.metrics[key] for key in result.metrics} == result.metrics
    assert [(point.step, point.value) for point in client.get_metric_history(link.run_id, "loss")] == [
        (0, 1.0), (1, 0.5), (2, 1 / 3)]
    names = {entry.path for entry in client.list_artifacts(link.run_id, "evaluation/step-2")}
    assert {"evaluation/step-2/confusion_matrix.png", "evaluation/step-2/roc_curve.png",
            "evaluation/step-2/pr_curve.png", "evaluation/step-2/metrics.json"} <= names
    # The bounded HTTP settings were lifted when the run ended.
    assert not set(BOUNDED_HTTP_SETTINGS) & set(os.environ)


def test_a_refused_connection_is_a_clear_error_naming_the_server_without_its_password(monkeypatch):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://alice:hunter2@127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(TrackerError) as caught:
        Run("nowhere", trackers=["mlflow"]).start()
    message = str(caught.value)
    assert message.startswith("tracker 'mlflow' could not start: ConnectionError: the MLflow server "
                              f"http://127.0.0.1:{port} did not answer")
    assert "hunter2" not in message and "alice" not in message
    assert time.monotonic() - started < 10  # MLflow's own retries would take minutes
    assert not set(BOUNDED_HTTP_SETTINGS) & set(os.environ)


def test_a_server_that_accepts_but_never_answers_fails_within_ten_seconds(monkeypatch):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(TrackerError, match="did not answer"):
            Run("silent", trackers=["mlflow"]).start()
        assert time.monotonic() - started < 10
