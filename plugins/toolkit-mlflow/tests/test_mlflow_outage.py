"""A real `mlflow server` stopped by its process id in the middle of a `toolkit train`, then started
again: training goes on, the values wait in the run journal, and the store ends up with all of them.

Before the journal, the tracker was dropped at the first failed flush: 0 of 60 epochs reached the
store, the run stayed RUNNING and `toolkit train` exited 0.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from toolkit_mlflow.testing import free_port, start_server, stop_server

pytestmark = pytest.mark.slow

CONFIG = """
run_name: outage
seed: 0
epochs: {epochs}
batch_size: 64
data: {{name: digits, validation_split: 0.2}}
model:
  framework: sklearn
  estimator: sklearn.linear_model.SGDClassifier
  options: {{loss: log_loss}}
metrics: [accuracy, f1_macro]
trackers: {{mlflow: {{}}}}
"""
VALUES_PER_EPOCH = 3  # train/accuracy, then the validation accuracy and f1_macro
KILL_AT_EPOCH = 8


class Training:
    """A `toolkit train` child whose printed lines are collected with the time they came."""

    def __init__(self, folder, epochs: int, environment: dict) -> None:
        (folder / "train.yaml").write_text(CONFIG.format(epochs=epochs))
        self.process = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "train", "train.yaml"], cwd=folder,
                                        env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.epoch_times: list[float] = []
        self.errors = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith("epoch "):
                self.epoch_times.append(time.monotonic())

    def wait_for_epochs(self, count: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while len(self.epoch_times) < count:
            assert self.process.poll() is None, self.process.stderr.read()
            assert time.monotonic() < deadline, f"only {len(self.epoch_times)} epochs in {timeout} s"
            time.sleep(0.05)

    def finish(self, timeout: float = 300) -> int:
        self.errors = self.process.stderr.read()
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return self.process.returncode


@pytest.fixture
def server_folder(tmp_path, migrated_sqlite_template):
    folder = tmp_path / "server"
    folder.mkdir()
    shutil.copyfile(migrated_sqlite_template, folder / "server.db")
    return folder


def child_environment(uri: str, **extra: str) -> dict:
    environment = dict(os.environ, MLFLOW_TRACKING_URI=uri, MLFLOW_EXPERIMENT_NAME="outage", **extra)
    environment.pop("MLFLOW_EXPERIMENT_ID", None)
    return environment


def stored(server_folder) -> tuple[list, tuple]:
    """The run's (key, step) rows and its (status, end_time), read from the server's own database."""
    with sqlite3.connect(server_folder / "server.db") as database:
        (run_id, status, end_time), = database.execute("SELECT run_uuid, status, end_time FROM runs").fetchall()
        rows = database.execute("SELECT key, step FROM metrics WHERE run_uuid = ?", (run_id,)).fetchall()
    return rows, (status, end_time)


def test_a_server_down_for_ten_seconds_mid_run_gets_every_value_and_the_true_status(tmp_path, server_folder):
    port = free_port()
    server = start_server(str(server_folder), port)
    epochs = 60
    try:
        # the server takes a while to start on a loaded machine: the end may wait for it that long
        training = Training(tmp_path, epochs, child_environment(f"http://127.0.0.1:{port}",
                                                                TOOLKIT_DELIVERY_TIMEOUT="300"))
        training.wait_for_epochs(KILL_AT_EPOCH)
        stop_server(server, signal.SIGKILL)
        down_at = time.monotonic()
        time.sleep(10)
        server = start_server(str(server_folder), port)
        back_at = time.monotonic()
        print(f"server down {back_at - down_at:.1f} s; {len(training.epoch_times)} epochs printed by then")
        assert training.finish() == 0, training.errors
    finally:
        stop_server(server)
    # training went on while the store was out
    assert any(down_at < moment < back_at for moment in training.epoch_times)
    rows, (status, end_time) = stored(server_folder)
    assert len(rows) == len(set(rows)) == epochs * VALUES_PER_EPOCH
    assert {step for _, step in rows} == set(range(1, epochs + 1))  # epoch N is step N
    assert status == "FINISHED" and end_time is not None
    assert re.search(rf"mlflow: FINISHED: \d+ params, {epochs * VALUES_PER_EPOCH:,} metric values", training.errors)
    assert os.listdir(tmp_path / ".toolkit" / "journal") == []


def test_a_server_still_down_at_the_end_fails_the_command_and_recover_delivers_later(tmp_path, server_folder):
    port = free_port()
    server = start_server(str(server_folder), port)
    epochs = 20
    uri = f"http://127.0.0.1:{port}"
    try:
        training = Training(tmp_path, epochs, child_environment(uri, TOOLKIT_DELIVERY_TIMEOUT="3"))
        training.wait_for_epochs(KILL_AT_EPOCH)
        stop_server(server, signal.SIGKILL)
        assert training.finish() == 1
        assert "tracker 'mlflow' did not answer for 3 s" in training.errors
        assert re.search(r"\d+ metric values(, \d+ evaluations?)? wait in the run journal", training.errors)
        assert f"toolkit recover --journal-dir {tmp_path / '.toolkit' / 'journal'}" in training.errors
        rows, (status, _) = stored(server_folder)
        assert status == "RUNNING" and len(rows) < epochs * VALUES_PER_EPOCH

        server = start_server(str(server_folder), port)
        recovered = subprocess.run([sys.executable, "-m", "toolkit.cli", "recover"], cwd=tmp_path,
                                   env=child_environment(uri), capture_output=True, text=True, timeout=300)
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        assert "mlflow: FINISHED: delivered" in recovered.stdout
    finally:
        stop_server(server)
    rows, (status, end_time) = stored(server_folder)
    assert len(rows) == len(set(rows)) == epochs * VALUES_PER_EPOCH
    assert status == "FINISHED" and end_time is not None
    assert os.listdir(tmp_path / ".toolkit" / "journal") == []
