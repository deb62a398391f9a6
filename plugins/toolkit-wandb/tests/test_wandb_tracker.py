"""The wandb tracker writing real offline runs, read back from the ``.wandb`` file on disk."""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys

import numpy as np
import pytest

import toolkit
from toolkit.run import Run
from toolkit.tracking import TrackingWarning
from toolkit_wandb.mode import choose_mode, has_api_key


def test_evaluate_records_metrics_config_summary_and_native_charts(wandb_offline):
    rng = np.random.default_rng(11)
    y_true = rng.integers(0, 3, 300)
    y_score = rng.dirichlet([1, 1, 1], 300)
    result = toolkit.evaluate(y_true, y_score=y_score, trackers=["wandb"], run_name="offline-eval",
                              params={"model": {"depth": 3}, "tags": ["a", "b"]})
    (run,) = wandb_offline.runs()
    assert run.name == "offline-eval" and run.exit_code == 0
    assert {key: value for key, value in run.config.items() if not key.startswith("_wandb")} == {
        "model.depth": 3, "tags": ["a", "b"],  # and which examples the stored predictions are for:
        toolkit.plugin.FINGERPRINT_TAG: toolkit.plugin.Predictions(y_true, (0, 1, 2)).fingerprint}
    (row,) = [row for row in run.history if "accuracy" in row]
    for key, value in result.metrics.items():
        assert row[key] == value or (math.isnan(value) and math.isnan(row[key])), key
        assert run.summary[key] == row[key] or math.isnan(value)
    assert run.summary["toolkit_status"] == "FINISHED"
    # W&B's own charts: the chart specs in the config, the tables as run files.
    charts = {key.split("/")[-1]: json.loads(json.dumps(value)) for key, value in run.config.items()
              if key.startswith("_wandb/visualize/")}
    assert charts["confusion_matrix"]["panel_config"]["panelDefId"] == "wandb/confusion_matrix/v1"
    assert charts["roc_curve"]["panel_config"]["panelDefId"] == "wandb/area-under-curve/v0"
    assert charts["pr_curve"]["panel_config"]["panelDefId"] == "wandb/area-under-curve/v0"
    folder = wandb_offline.run_folders()[0]
    (table_file,) = [name for name in run.files if name.startswith("media/table/confusion_matrix_table")]
    table = json.load(open(os.path.join(folder, "files", table_file)))
    assert table["columns"] == ["Actual", "Predicted", "nPredictions"]
    counts = {(actual, predicted): count for actual, predicted, count in table["data"]}
    for i, actual in enumerate(result.labels):
        for j, predicted in enumerate(result.labels):
            assert counts[(str(actual), str(predicted))] == result.confusion_matrix[i, j]
    (roc_file,) = [name for name in run.files if name.startswith("media/table/roc_curve_table")]
    roc = json.load(open(os.path.join(folder, "files", roc_file)))
    assert roc["columns"] == ["class", "fpr", "tpr"]
    assert {row[0] for row in roc["data"]} == {"0", "1", "2"}
    assert "evaluation/metrics.json" in run.files
    metrics_json = json.load(open(os.path.join(folder, "files", "evaluation", "metrics.json")))
    assert metrics_json["metrics"]["accuracy"] == result.metrics["accuracy"]


def test_metrics_keep_their_steps(wandb_offline):
    with Run("steps", trackers=["wandb"]) as run:
        for epoch in range(5):
            run.log_epoch(epoch, {"loss": 1.0 / (epoch + 1), "nan_metric": float("nan")})
    (stored,) = wandb_offline.runs()
    assert stored.metric("loss") == [(epoch, 1.0 / (epoch + 1)) for epoch in range(5)]
    assert all(math.isnan(value) for _, value in stored.metric("nan_metric"))
    assert stored.summary["loss"] == 0.2


def test_the_command_line_is_not_stored(wandb_offline, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "--db-password=argv-secret-6b1f", "--lr=0.1"])
    with Run("argv", trackers=["wandb"]) as run:
        run.log_metrics({"x": 1.0}, step=0)
    found = []
    for folder, _, names in os.walk(wandb_offline.root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                if b"argv-secret-6b1f" in handle.read():
                    found.append(os.path.join(folder, name))
    assert found == []
    assert wandb_offline.runs()[0].metric("x") == [(0, 1.0)]


def test_a_failed_run_ends_with_a_non_zero_exit_code_and_keeps_its_values(wandb_offline):
    with pytest.raises(RuntimeError, match="diverged"):
        with Run("fails", {"lr": 10.0}, trackers=["wandb"]) as run:
            run.log_metrics({"loss": 3.0}, step=0)
            raise RuntimeError("diverged")
    (stored,) = wandb_offline.runs()
    assert stored.exit_code == 1 and stored.summary["toolkit_status"] == "FAILED"
    assert stored.metric("loss") == [(0, 3.0)] and stored.config["lr"] == 10.0


def test_an_online_start_that_fails_falls_back_to_offline_with_a_warning(wandb_offline, monkeypatch):
    from toolkit_mlflow.testing import free_port  # any closed local port: no network is used

    planted_key = "local-" + "5" * 40
    monkeypatch.setenv("WANDB_API_KEY", planted_key)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("WANDB_INIT_TIMEOUT", "3")
    with pytest.warns(TrackingWarning, match="W&B online start failed .*recording offline instead"):
        with Run("fallback", trackers=["wandb"]) as run:
            run.log_metrics({"x": 2.0}, step=0)
    assert "online start failed" in run.summary_lines()[0]
    offline = [folder for folder in wandb_offline.run_folders() if "offline-run-" in folder]
    assert len(offline) == 1
    assert wandb_offline.run(run.links["wandb"].run_id).metric("x") == [(0, 2.0)]
    for folder, _, names in os.walk(wandb_offline.root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                assert planted_key.encode() not in handle.read(), name


def test_mode_is_online_only_with_a_configured_key(tmp_path):
    netrc = tmp_path / "netrc"
    assert choose_mode({"NETRC": str(netrc)}) == "offline"
    with pytest.warns(UserWarning, match="no W&B API key is configured"):
        assert choose_mode({"NETRC": str(netrc), "WANDB_MODE": "online"}) == "offline"
    assert choose_mode({"NETRC": str(netrc), "WANDB_API_KEY": "x" * 40}) == "online"
    assert choose_mode({"NETRC": str(netrc), "WANDB_API_KEY": "x" * 40, "WANDB_MODE": "offline"}) == "offline"
    assert choose_mode({"WANDB_MODE": "disabled"}) == "disabled"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    assert has_api_key({"NETRC": str(netrc)})
    assert not has_api_key({"NETRC": str(netrc), "WANDB_BASE_URL": "https://wandb.example.org"})


def test_a_long_param_is_a_marker_in_the_config_and_a_whole_file_in_the_run(wandb_offline):
    summary = "Dense(64)->" * 700  # 7,700 characters, more than MLflow keeps: one policy for both
    with Run("long-param", {"model": {"summary": summary}}, trackers=["wandb"]):
        pass
    (stored,) = wandb_offline.runs()
    file_name = f"model.summary-{hashlib.sha256(b'model.summary').hexdigest()[:12]}.txt"
    assert stored.config["model.summary"] == f"<7700 characters, saved whole as artifact params/{file_name}>"
    assert f"params/{file_name}" in stored.files
    with open(os.path.join(wandb_offline.run_folders()[0], "files", "params", file_name)) as handle:
        assert handle.read() == summary
