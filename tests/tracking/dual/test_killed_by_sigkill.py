"""A `toolkit train` killed with SIGKILL mid-run, then `toolkit recover`: every value its journal
holds reaches both stores once, and the runs end KILLED at the last heartbeat.

SIGKILL cannot be caught: nothing in the process runs after it. Before the journal, MLflow kept
the run RUNNING forever with part of the printed epochs, and W&B's file held its header only.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from toolkit.tracking import journal as journals
from toolkit_wandb.offline_run import read_offline_run
from toolkit_wandb.tracker import stored_metric_values

pytestmark = pytest.mark.slow

CONFIG = """
run_name: killed
seed: 0
epochs: 2000
batch_size: 64
data: {name: digits, validation_split: 0.2}
model:
  framework: sklearn
  estimator: sklearn.linear_model.SGDClassifier
  options: {loss: log_loss}
metrics: [accuracy, f1_macro]
trackers: {mlflow: {}, wandb: {}}
"""
EPOCHS_BEFORE_KILL = 12
CHILD_TIMEOUT_SECONDS = 240


def toolkit(*arguments: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *arguments], capture_output=True, text=True,
                          timeout=timeout)


def journal_values(path: str) -> set[tuple[str, int]]:
    """(key, step) of every metric value a journal holds."""
    return {(key, record["step"]) for record, _ in journals.read_records(path) if record["op"] == "metrics"
            for key in record["values"]}


def test_a_sigkilled_training_is_recovered_into_both_stores_exactly_once(mlflow_store, wandb_offline, tmp_path):
    (tmp_path / "train.yaml").write_text(CONFIG)
    child = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "train", "train.yaml"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    printed = 0
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT_SECONDS
        while printed < EPOCHS_BEFORE_KILL and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, "the training ended before it could be killed"
            printed += line.startswith("epoch ")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL and printed == EPOCHS_BEFORE_KILL

    (dead,) = journals.dead_runs()
    journal_path = dead.path
    values = journal_values(journal_path)
    # every printed epoch's values are in the journal: framework accuracy + validation accuracy and F1
    assert {step for _, step in values} >= set(range(1, printed + 1))  # epoch N is step N
    (mlflow_id,) = [run.info.run_id for run in mlflow_store.runs()]
    assert mlflow_store.runs()[0].info.status == "RUNNING"
    assert journals.is_dead(mlflow_id) and dead.header["pid"] == child.pid

    # the killed MLflow run holds no value yet (none was flushed before the kill): report reads it anyway
    report = toolkit("report", "--latest", "--output", str(tmp_path / "report.html"))
    assert report.returncode == 0, report.stderr
    assert f"report of run {mlflow_id} (killed, dead, run `toolkit recover`)" in report.stdout
    listed = toolkit("recover", "--dry-run")
    assert listed.returncode == 0 and f"process {child.pid}" in listed.stdout and mlflow_id in listed.stdout
    assert journals.dead_runs()[0].path == journal_path  # a dry run changes nothing

    recovered = toolkit("recover")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "mlflow: KILLED: delivered" in recovered.stdout and "wandb: KILLED: delivered" in recovered.stdout

    # MLflow: the store holds each journal value exactly once, the run KILLED at the last heartbeat.
    with sqlite3.connect(mlflow_store.database) as database:
        stored = database.execute("SELECT key, step FROM metrics WHERE run_uuid = ?", (mlflow_id,)).fetchall()
        status, end_time = database.execute("SELECT status, end_time FROM runs WHERE run_uuid = ?",
                                            (mlflow_id,)).fetchone()
    assert len(stored) == len(values) and set(stored) == values
    assert status == "KILLED" and end_time == int(dead.last_time * 1000)
    assert mlflow_store.runs()[0].data.params["epochs"] == "2000"

    # W&B: the killed run's file plus the recovered one (same run id) hold each value once.
    folders = sorted(glob.glob(os.path.join(wandb_offline.root, "wandb", "offline-run-*")))
    assert len(folders) == 2 and len({folder.rsplit("-", 1)[1] for folder in folders}) == 1
    runs = [read_offline_run(folder, wait_seconds=30) for folder in folders]
    pairs = [(key, row["_step"]) for run in runs for row in run.history for key in row if not key.startswith("_")]
    assert len(pairs) == len(set(pairs)) == len(values) and set(pairs) == values
    assert sum(stored_metric_values(run) for run in runs) == len(values)
    assert runs[-1].exit_code == 130 and runs[-1].summary["toolkit_status"] == "KILLED"
    assert runs[-1].config["epochs"] == 2000

    assert not os.path.exists(journal_path) and journals.dead_runs() == []
    assert "KILLED" in toolkit("compare").stdout
    assert toolkit("recover").stdout.startswith("no run to recover")
