"""The TensorBoard tracker, read back with TensorBoard's own event reader (EventAccumulator)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

import toolkit
from toolkit.plugin import get_plugin_manager
from toolkit.reporting.record import open_reader

RNG = np.random.default_rng(11)
Y_TRUE = RNG.integers(0, 2, 400)
SCORES = np.clip(RNG.normal(0.35 + 0.3 * Y_TRUE, 0.2), 0, 1)


@pytest.fixture
def logdir(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_TENSORBOARD_DIR", str(tmp_path / "tb"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "tb"


def _accumulator(folder: Path):
    accumulator = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.TENSORS: 0, event_accumulator.IMAGES: 0})
    accumulator.Reload()
    return accumulator


def test_an_evaluation_is_written_as_scalars_images_and_text(logdir):
    result = toolkit.evaluate(Y_TRUE, y_score=SCORES, trackers=["tensorboard"], run_name="tb-run",
                              params={"model": {"depth": 3}, "api_token": "s3cret"})
    (folder,) = [path for path in logdir.iterdir() if path.is_dir()]
    accumulator = _accumulator(folder)
    tags = accumulator.Tags()
    for key in ("accuracy", "roc_auc", "f1_macro", "log_loss"):
        (event,) = accumulator.Tensors(key)  # scalars as float64 tensors: no rounding to float32
        assert event.step == 0 and tensor_util.make_ndarray(event.tensor_proto).item() == result.metrics[key]
        assert accumulator.SummaryMetadata(key).plugin_data.plugin_name == "scalars"
    assert {"evaluation/confusion_matrix", "evaluation/roc_curve", "evaluation/pr_curve",
            "evaluation/threshold_analysis"} <= set(tags["images"])
    (image,) = accumulator.Images("evaluation/confusion_matrix")
    assert image.encoded_image_string.startswith(b"\x89PNG")
    assert {"toolkit/run", "toolkit/params", "toolkit/status"} <= set(tags["tensors"])
    assert b"s3cret" not in b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_a_run_is_read_back_whole_through_the_reader(logdir):
    result = toolkit.evaluate(Y_TRUE, y_score=SCORES, trackers=["tensorboard"], run_name="tb-run",
                              params={"lr": 0.01})
    reader = open_reader("tensorboard")
    (summary,) = reader.list_runs()
    assert summary.run_name == "tb-run" and summary.status == "FINISHED" and summary.params == {"lr": "0.01"}
    record = reader.read_run(summary.run_id)
    assert record.metrics == result.logged_metrics()  # every value, exactly
    assert record.history["accuracy"] == [(0, result.metrics["accuracy"])]
    assert record.confusion[1] == result.confusion_matrix.tolist()
    assert record.threshold_summary["best_f1"]["f1"] == pytest.approx(
        result.artifacts["threshold_analysis"].best_f1.f1, abs=1e-12)
    assert record.end_time >= record.start_time


def test_a_failed_run_says_so(logdir):
    run = toolkit.run.Run("failing", trackers=["tensorboard"])
    with pytest.raises(RuntimeError):
        with run:
            run.log_metrics({"loss": 0.5}, step=1)
            raise RuntimeError("boom")
    (summary,) = open_reader("tensorboard").list_runs()
    assert summary.status == "FAILED" and summary.metrics == {"loss": 0.5}


@pytest.mark.slow
def test_toolkit_train_with_tensorboard_from_the_command_line_is_read_back(tmp_path):
    environment = dict(os.environ)
    environment.update(get_plugin_manager().get_trackers()["tensorboard"].sandbox(str(tmp_path / "tb")))
    config = tmp_path / "train.yaml"
    config.write_text("epochs: 2\nbatch_size: 64\ndata: digits\nrun_name: tb-train\n"
                      "model: {framework: sklearn, estimator: sklearn.linear_model.SGDClassifier, "
                      "options: {loss: log_loss, random_state: 0}}\ntrackers: {tensorboard: {}}\n")
    completed = subprocess.run([sys.executable, "-m", "toolkit.cli", "train", str(config)], cwd=tmp_path,
                               env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "tensorboard: tensorboard --logdir" in completed.stdout
    completed = subprocess.run([sys.executable, "-m", "toolkit.cli", "compare", "--tracker", "tensorboard"],
                               cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "tb-train" in completed.stdout and "FINISHED" in completed.stdout
    record = open_reader("tensorboard", {"location": str(tmp_path / "tb")}).list_runs()[0]
    assert record.params["framework"] == "sklearn" and record.params["epochs"] == "2"
