"""A run in a real child process, ended by SIGTERM or by an unhandled exception, in both stores.

MLflow alone leaves a run RUNNING forever when the process is terminated, and marks it FINISHED
when the program dies of an exception outside a ``with`` block; the toolkit run must end KILLED
and FAILED, with an end time, keeping what was logged.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

CHILD_SETUP = """
import sys, time
from toolkit.run import Run
run = Run("child", {"lr": 0.1}, trackers=["mlflow", "wandb"])
"""


def _start_child(script: str, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(CHILD_SETUP + script)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_ends_the_run_killed_in_both_stores_with_its_values(mlflow_store, wandb_offline):
    child = _start_child("""
with run:
    for epoch in range(3):
        run.log_epoch(epoch, {"loss": 1.0 / (epoch + 1)})
    print("ready", flush=True)
    time.sleep(120)
""", mlflow_store.folder)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        child.send_signal(signal.SIGTERM)
        _, errors = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 128 + signal.SIGTERM, errors
    (mlflow_run,) = mlflow_store.runs()
    assert mlflow_run.info.status == "KILLED" and mlflow_run.info.end_time is not None
    history = mlflow_store.client().get_metric_history(mlflow_run.info.run_id, "loss")
    assert [(point.step, point.value) for point in history] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    (wandb_run,) = wandb_offline.runs()
    assert wandb_run.exit_code == 130 and wandb_run.summary["toolkit_status"] == "KILLED"
    assert wandb_run.metric("loss") == [(0, 1.0), (1, 0.5), (2, 1 / 3)]
    assert "toolkit: mlflow: KILLED: 1 param, 3 metric values" in errors


def test_an_unhandled_exception_without_a_with_block_ends_the_run_failed(mlflow_store, wandb_offline):
    child = _start_child("""
run.start()
run.log_metrics({"loss": 2.0}, step=0)
raise RuntimeError("training diverged")
""", mlflow_store.folder)
    _, errors = child.communicate(timeout=120)
    assert child.returncode == 1
    assert "RuntimeError: training diverged" in errors
    (mlflow_run,) = mlflow_store.runs()
    assert mlflow_run.info.status == "FAILED" and mlflow_run.info.end_time is not None
    assert mlflow_run.data.metrics == {"loss": 2.0} and mlflow_run.data.params == {"lr": "0.1"}
    (wandb_run,) = wandb_offline.runs()
    assert wandb_run.exit_code == 1 and wandb_run.summary["toolkit_status"] == "FAILED"
    assert wandb_run.metric("loss") == [(0, 2.0)]
