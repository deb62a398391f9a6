"""The mlflow tracker on a real SQLite store: values, params, artifacts, statuses, batching."""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

import toolkit
from toolkit.run import Run
from toolkit.tracking import MAX_PARAM_LENGTH
from toolkit.tracking import TrackingWarning
from toolkit_mlflow.tracker import MlflowTracker


@pytest.fixture
def scored_digits_like():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 3, 400)
    y_score = rng.dirichlet([1, 1, 1], 400)
    y_score[np.arange(400), y_true] += 0.4  # better than chance, so curves are not diagonal
    return y_true, y_score / y_score.sum(axis=1, keepdims=True)


def _artifact_paths(client, run_id, folder=""):
    paths = []
    for entry in client.list_artifacts(run_id, folder or None):
        paths += _artifact_paths(client, run_id, entry.path) if entry.is_dir else [entry.path]
    return paths


def test_evaluate_records_every_metric_value_and_the_rendered_artifacts(mlflow_store, scored_digits_like):
    y_true, y_score = scored_digits_like
    result = toolkit.evaluate(y_true, y_score=y_score, trackers=["mlflow"], run_name="eval-1",
                              params={"model": {"depth": 3, "optimizer": {"lr": 0.01}}})
    (run,) = mlflow_store.runs()
    assert run.info.run_name == "eval-1"
    assert run.info.status == "FINISHED" and run.info.end_time >= run.info.start_time
    assert run.data.params == {"model.depth": "3", "model.optimizer.lr": "0.01"}
    assert set(run.data.metrics) == set(result.metrics)
    for key, value in result.metrics.items():
        stored = run.data.metrics[key]
        assert stored == value or (math.isnan(value) and math.isnan(stored)), key

    client = mlflow_store.client()
    paths = _artifact_paths(client, run.info.run_id)
    assert sorted(paths) == sorted(f"evaluation/{name}" for name in (
        "confusion_matrix.csv", "confusion_matrix.png", "metrics.json", "predictions.npz",
        "roc_curve.csv", "roc_curve.png", "pr_curve.csv", "pr_curve.png"))
    folder = client.download_artifacts(run.info.run_id, "evaluation", mlflow_store.folder + "/download")
    with open(os.path.join(folder, "confusion_matrix.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    rows = open(os.path.join(folder, "confusion_matrix.csv")).read().splitlines()
    counts = np.array([[int(cell) for cell in row.split(",")[1:]] for row in rows[1:]])
    np.testing.assert_array_equal(counts, sklearn_confusion_matrix(y_true, y_score.argmax(axis=1)))
    document = json.load(open(os.path.join(folder, "metrics.json")))
    assert document["metrics"]["accuracy"] == result.metrics["accuracy"]
    assert document["confusion_matrix"] == counts.tolist()
    curve_rows = open(os.path.join(folder, "roc_curve.csv")).read().splitlines()
    assert curve_rows[0] == "class,fpr,tpr,threshold"
    assert {row.split(",")[0] for row in curve_rows[1:]} == {"0", "1", "2"}


def test_metrics_with_steps_go_out_in_batches_not_one_request_per_value(mlflow_store):
    with Run("steps", trackers=["mlflow"]) as run:
        tracker = run._slots[0].tracker
        for step in range(250):
            run.log_metrics({f"m{index}": step * 0.5 + index for index in range(10)}, step=step)
    # 2,500 values, at most 1,000 per log_batch request.
    assert tracker.requests == 3
    client = mlflow_store.client()
    (stored,) = mlflow_store.runs()
    history = client.get_metric_history(stored.info.run_id, "m3")
    assert [(point.step, point.value) for point in history] == [(step, step * 0.5 + 3) for step in range(250)]


def test_nan_is_kept_and_infinity_is_refused_with_a_warning_naming_the_key(mlflow_store):
    with Run("values", trackers=["mlflow"]) as run:
        with pytest.warns(TrackingWarning, match="'overflow' is inf"):
            run.log_metrics({"loss": float("nan"), "overflow": float("inf"), "ok": 1.5}, step=0)
    (stored,) = mlflow_store.runs()
    assert math.isnan(stored.data.metrics["loss"])
    assert stored.data.metrics["ok"] == 1.5
    assert "overflow" not in stored.data.metrics


def test_keys_outside_the_shared_set_are_renamed_and_reported(mlflow_store):
    from mlflow.utils.validation import _validate_metric_name

    with Run("keys", trackers=["mlflow"]) as run:
        with pytest.warns(TrackingWarning) as caught:
            run.log_metrics({"val:acc@top5%": 0.9, "/lead//slash/": 1.0}, step=0)
    assert [str(warning.message).split(": trackers")[0] for warning in caught] == [
        "metric key 'val:acc@top5%' is recorded as 'val_acc_top5_'",
        "metric key '/lead//slash/' is recorded as 'lead/slash'"]
    assert run.renamed_keys == {"val:acc@top5%": "val_acc_top5_", "/lead//slash/": "lead/slash"}
    (stored,) = mlflow_store.runs()
    assert stored.data.metrics == {"val_acc_top5_": 0.9, "lead/slash": 1.0}
    for key in stored.data.metrics:
        _validate_metric_name(key)  # MLflow's own rule accepts every recorded key


def test_a_param_longer_than_mlflows_limit_is_saved_whole_as_an_artifact(mlflow_store):
    architecture = "conv3x3-" * 1000  # 8,000 characters; MLflow keeps 6,000
    with Run("long", {"architecture": architecture, "lr": 0.1}, trackers=["mlflow"]):
        pass
    (stored,) = mlflow_store.runs()
    artifact = f"params/architecture-{hashlib.sha256(b'architecture').hexdigest()[:12]}.txt"
    assert stored.data.params["architecture"] == f"<8000 characters, saved whole as artifact {artifact}>"
    client = mlflow_store.client()
    path = client.download_artifacts(stored.info.run_id, artifact, mlflow_store.folder)
    assert open(path).read() == architecture


def test_long_params_whose_keys_look_alike_keep_one_artifact_each(mlflow_store):
    shared = "layer_" * 50  # 300 characters: keys sharing them differ only past MLflow's 250
    values = {key: f"{key}:" + "v" * MAX_PARAM_LENGTH
              for key in ("model/summary", "model_summary", f"{shared}a", f"{shared}b")}
    with pytest.warns(TrackingWarning):  # the 300-character keys are shortened for the store
        with Run("alike", {"notes": values}, trackers=["mlflow"]):
            pass
    (stored,) = mlflow_store.runs()
    client = mlflow_store.client()
    artifacts = [entry.path for entry in client.list_artifacts(stored.info.run_id, "params")]
    assert len(artifacts) == len(values)
    markers = sorted(value for key, value in stored.data.params.items() if key.startswith("notes."))
    assert len(markers) == len(values)
    for marker in markers:
        artifact = marker.rpartition(" ")[2].rstrip(">")
        with open(client.download_artifacts(stored.info.run_id, artifact, mlflow_store.folder)) as handle:
            text = handle.read()
        key = text.partition(":")[0]
        assert text == values[key]
        assert marker == f"<{len(text)} characters, saved whole as artifact {artifact}>"
    assert len({marker.rpartition(" ")[2] for marker in markers}) == len(values)


def test_changing_a_param_inside_a_run_is_refused_before_the_store_is_written(mlflow_store):
    with Run("params", {"lr": 0.1}, trackers=["mlflow"]) as run:
        with pytest.raises(ValueError, match=r"'lr' \(was 0.1, now 0.2\)"):
            run.log_params({"batch": 32, "lr": 0.2})
        run.log_params({"batch": 32, "lr": 0.1})  # the same value again is fine
    (stored,) = mlflow_store.runs()
    assert stored.data.params == {"lr": "0.1", "batch": "32"}


def test_an_exception_in_the_block_marks_the_run_failed_and_keeps_what_was_logged(mlflow_store):
    with pytest.raises(ZeroDivisionError):
        with Run("boom", {"lr": 0.1}, trackers=["mlflow"]) as run:
            run.log_metrics({"loss": 0.5}, step=0)
            1 / 0
    (stored,) = mlflow_store.runs()
    assert stored.info.status == "FAILED" and stored.info.end_time is not None
    assert stored.data.metrics == {"loss": 0.5} and stored.data.params == {"lr": "0.1"}
    assert run.status == "FAILED"


def test_keyboard_interrupt_marks_the_run_killed(mlflow_store):
    with pytest.raises(KeyboardInterrupt):
        with Run("interrupted", trackers=["mlflow"]) as run:
            run.log_metrics({"loss": 0.5}, step=0)
            raise KeyboardInterrupt
    (stored,) = mlflow_store.runs()
    assert stored.info.status == "KILLED" and stored.info.end_time is not None
    assert stored.data.metrics == {"loss": 0.5}


def test_default_store_is_mlflows_own_sqlite_file_in_the_current_folder(tmp_path, monkeypatch,
                                                                         migrated_sqlite_template):
    import shutil

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(migrated_sqlite_template, tmp_path / "mlflow.db")
    tracker = MlflowTracker()
    link = tracker.start("default-store")
    tracker.finish("FINISHED")
    assert link.location == f"sqlite:///{tmp_path / 'mlflow.db'}"
    from mlflow import MlflowClient

    run = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").get_run(link.run_id)
    assert run.info.experiment_id == "0" and run.info.status == "FINISHED"


def test_the_tracker_adds_nothing_from_the_environment(mlflow_store, monkeypatch):
    monkeypatch.setenv("USER", "someone-secret")
    with Run("env", trackers=["mlflow"]):
        pass
    (stored,) = mlflow_store.runs()
    # the run's description is the toolkit's own summary of what it recorded
    assert set(stored.data.tags) == {"mlflow.runName", "mlflow.note.content"}
    assert stored.data.tags["mlflow.note.content"] == "**FINISHED**: an evaluation"
