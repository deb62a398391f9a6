"""Failures end to end, in subprocesses, on real stores: MLflow (SQLite) and W&B (offline).

- an exception in an epoch: both runs FAILED, the metrics up to the failure kept;
- a NaN loss: both runs FAILED, with the reason;
- SIGTERM during ``toolkit train``: MLflow KILLED with an end time, W&B with a non-zero exit
  code, and the process exits non-zero.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("toolkit_mlflow")
pytest.importorskip("toolkit_wandb")
pytest.importorskip("keras")

from toolkit_wandb.offline_run import read_offline_run  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "digits_cnn.yaml"

FAILING_RUNS = """
import numpy as np
import yaml
import toolkit
from toolkit import data
from toolkit.plugin import create_plugin_manager, hookimpl

class FailInSecondEpoch:
    @hookimpl
    def toolkit_epoch_ended(self, run, epoch, logs):
        if run.name == "planted-exception" and epoch == 1:
            raise RuntimeError("planted failure in epoch 2")

manager = create_plugin_manager()
manager.register(FailInSecondEpoch(), "fail-in-second-epoch")
spec = yaml.safe_load(open(EXAMPLE_PATH))["model"]
spec.pop("framework")
dataset = data.load("digits")

def train(name, x, epochs, first_layer=None):
    layers = ([first_layer] if first_layer else []) + spec["layers"][1 if first_layer else 0:]
    model = manager.build_model("keras", {**spec, "layers": layers}, dataset.input_shape, dataset.labels, seed=0)
    trainer = toolkit.Trainer(model, metrics=["accuracy", "roc_auc_ovr_macro"], trackers=("mlflow", "wandb"),
                              run_name=name, plugin_manager=manager)
    try:
        trainer.fit(x, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val), epochs=epochs, batch_size=64)
    except Exception as error:
        print(f"{name} raised {type(error).__name__}: {error}", flush=True)

train("planted-exception", dataset.x_train, 4)
poisoned = dataset.x_train.copy()
poisoned[0, 0, 0, 0] = np.nan  # one NaN pixel: the loss is NaN from the first batch on
# tanh passes NaN on (ReLU would turn it into 0 and keep the loss finite): the sweep's tanh layer.
train("nan-loss", poisoned, 3, {"Conv2D": {"filters": 64, "kernel_size": [5, 5], "activation": "tanh"}})
# With the ReLU CNN the loss stays finite, but the weights are NaN: the predictions tell.
train("nan-predictions", poisoned, 3)
train("finished", dataset.x_train, 1)
"""


def environment(folder: Path) -> dict:
    env = dict(os.environ)
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{folder}/mlflow.db", WANDB_DIR=str(folder),
               WANDB_MODE="offline", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("WANDB_API_KEY", None)
    env.pop("MLFLOW_EXPERIMENT_NAME", None)
    return env


def mlflow_runs(folder: Path) -> dict:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    return {run.info.run_name: (run, client) for run in client.search_runs(experiments)}


def wandb_runs(folder: Path) -> dict:
    runs = [read_offline_run(path) for path in glob.glob(str(folder / "wandb" / "offline-run-*"))]
    return {run.name: run for run in runs}


def steps(client, run, key: str) -> list[int]:
    return sorted(metric.step for metric in client.get_metric_history(run.info.run_id, key))


@pytest.fixture(scope="module")
def failed_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("failures")
    script = FAILING_RUNS.replace("EXAMPLE_PATH", repr(str(EXAMPLE)))
    completed = subprocess.run([sys.executable, "-c", script], cwd=folder, env=environment(folder),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return folder, completed.stdout, mlflow_runs(folder), wandb_runs(folder)


def test_an_exception_in_an_epoch_fails_both_runs_and_keeps_earlier_metrics(failed_runs):
    _, stdout, mlflow, wandb = failed_runs
    # the hook's plugin is named (toolkit.run.PluginHookError), with the error it raised
    assert ("planted-exception raised PluginHookError: plugin 'fail-in-second-epoch' failed in "
            "toolkit_epoch_ended: RuntimeError: planted failure in epoch 2") in stdout
    run, client = mlflow["planted-exception"]
    assert run.info.status == "FAILED" and run.info.end_time is not None
    assert steps(client, run, "train/loss") == [1, 2]  # epoch 2's values were logged before the hook raised
    assert steps(client, run, "accuracy") == [1]  # the evaluation of epoch 1 only
    assert run.data.params["epochs"] == "4" and run.data.params["optimizer"] == "Adam"
    offline = wandb["planted-exception"]
    assert offline.exit_code not in (None, 0)
    assert [step for step, _ in offline.metric("train/loss")] == [1, 2]  # epoch N is step N in W&B too
    assert [value for _, value in offline.metric("accuracy")] == [client.get_metric_history(run.info.run_id, "accuracy")[0].value]


def test_a_nan_loss_fails_both_runs_with_the_reason(failed_runs):
    _, stdout, mlflow, wandb = failed_runs
    assert "nan-loss raised FloatingPointError: training diverged at epoch 1: loss is nan" in stdout
    run, client = mlflow["nan-loss"]
    assert run.info.status == "FAILED" and run.info.end_time is not None
    assert "training diverged at epoch 1: loss is nan" in run.data.tags["toolkit.error"]
    offline = wandb["nan-loss"]
    assert offline.exit_code not in (None, 0)
    assert "training diverged at epoch 1: loss is nan" in offline.config["toolkit.error"]
    assert "nan-predictions raised FloatingPointError: training diverged at epoch 1: the model predicts NaN" in stdout
    run, _ = mlflow["nan-predictions"]
    assert run.info.status == "FAILED" and "the model predicts NaN" in run.data.tags["toolkit.error"]
    assert wandb["nan-predictions"].exit_code not in (None, 0)


def test_sigterm_during_toolkit_train_kills_both_runs(tmp_path):
    config = tmp_path / "long.yaml"
    config.write_text(EXAMPLE.read_text().replace("epochs: 5", "epochs: 400").replace("run_name: digits-cnn", "run_name: terminated"))
    toolkit = str(Path(sys.executable).with_name("toolkit"))
    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen([toolkit, "train", str(config)], cwd=tmp_path, env=environment(tmp_path),
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            seen = []
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                seen.append(line)
                if line.startswith("epoch 2/400") or not line:
                    break
            assert any(line.startswith("epoch 2/400") for line in seen), "".join(seen)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode not in (0, None), process.returncode
    run, client = mlflow_runs(tmp_path)["terminated"]
    assert run.info.status == "KILLED" and run.info.end_time is not None
    assert len(steps(client, run, "train/loss")) >= 2  # what was logged before the signal is kept
    offline = wandb_runs(tmp_path)["terminated"]
    assert offline.exit_code not in (None, 0)
    assert len(offline.metric("train/loss")) >= 2


def test_a_finished_run_has_its_artifacts_in_both_trackers(failed_runs):
    folder, _, mlflow, wandb = failed_runs
    run, client = mlflow["finished"]
    assert run.info.status == "FINISHED"
    stored = {item.path for item in client.list_artifacts(run.info.run_id, "sample_predictions")}
    assert stored == {"sample_predictions/sample_predictions.png"}
    assert {item.path for item in client.list_artifacts(run.info.run_id, "model_summary")} == {
        "model_summary/model_summary.txt"}
    charts = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation/step-1")}
    assert "evaluation/step-1/confusion_matrix.png" in charts
    offline = wandb["finished"]
    assert offline.exit_code == 0
    [(step, kind)] = offline.metric("sample_predictions/_type")  # a W&B image in the media panel
    [row] = [row for row in offline.history if "sample_predictions/_type" in row]
    assert (step, kind, row["sample_predictions/caption"]) == (1, "image-file", "sample_predictions")  # the last epoch
    assert (row["sample_predictions/width"], row["sample_predictions/height"]) == (768, 256)
    assert any(path.startswith("media/images/sample_predictions") for path in offline.files)
    assert offline.config["optimizer"] == "Adam" and offline.config["parameter_count"] == int(run.data.params["parameter_count"])
