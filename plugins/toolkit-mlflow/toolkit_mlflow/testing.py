"""pytest fixtures for real MLflow stores: a fresh SQLite store per test, and a real ``mlflow server``.

Creating a SQLite store runs MLflow's schema migrations (seconds), so one migrated database is
made per test session and copied for each test. Import the fixtures into a conftest.py::

    from toolkit_mlflow.testing import mlflow_server, mlflow_store, migrated_sqlite_template  # noqa: F401
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Iterator

import pytest

SERVER_START_TIMEOUT_SECONDS = 90


@dataclass(frozen=True)
class MlflowStore:
    """A SQLite store in a test's folder: its URI, database file and experiment name."""

    uri: str
    database: str
    experiment_name: str
    folder: str

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(self.uri)

    def runs(self) -> list:
        """Every run of the store's experiment, oldest first."""
        client = self.client()
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is None:
            return []
        return list(reversed(client.search_runs([experiment.experiment_id])))


def create_migrated_store(database: str) -> None:
    """Create a SQLite store at ``database`` with every MLflow migration applied."""
    from mlflow import MlflowClient

    MlflowClient(f"sqlite:///{database}").search_experiments(max_results=1)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated, empty SQLite store per session, to be copied (never written to)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    template = base / "mlflow-template.db"
    with FileLock(str(base / "mlflow-template.lock")):
        if not template.exists():
            scratch = base / "mlflow-template-making.db"
            create_migrated_store(str(scratch))
            os.replace(scratch, template)
    return str(template)


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch: pytest.MonkeyPatch, migrated_sqlite_template: str) -> MlflowStore:
    """A fresh store at ``<tmp>/mlflow.db``, set as MLFLOW_TRACKING_URI, with the test's folder as cwd
    (so artifacts land in ``<tmp>/mlruns``) and a fresh experiment."""
    database = tmp_path / "mlflow.db"
    shutil.copyfile(migrated_sqlite_template, database)
    uri = f"sqlite:///{database}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "toolkit-tests")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    return MlflowStore(uri, str(database), "toolkit-tests", str(tmp_path))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class MlflowServer:
    """A running ``mlflow server`` on 127.0.0.1: its URI and the process id that started it."""

    uri: str
    pid: int
    folder: str


def start_server(folder, port: int) -> subprocess.Popen:
    """A real ``mlflow server`` on 127.0.0.1:``port`` for the SQLite store ``<folder>/server.db``,
    answering /health when this returns; its own process group, so its id stops it all."""
    uri = f"http://127.0.0.1:{port}"
    # The server's job runner starts several worker processes; these tests need none of them.
    environment = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    environment.pop("MLFLOW_TRACKING_URI", None)
    log = open(os.path.join(folder, "server.log"), "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder}/server.db",
         "--artifacts-destination", os.path.join(folder, "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            with open(os.path.join(folder, "server.log"), encoding="utf-8", errors="replace") as handle:
                raise RuntimeError(f"mlflow server exited with {process.returncode}: {handle.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(process)
            raise RuntimeError(f"mlflow server did not answer /health within {SERVER_START_TIMEOUT_SECONDS} s")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen, signal_number: int = signal.SIGTERM) -> None:
    """Stop a server of :func:`start_server` by its process id (the leader of its group)."""
    try:
        os.killpg(process.pid, signal_number)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: str) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` (SQLite backend, artifacts served from a temporary folder),
    started for the module and stopped by its process id (its own process group)."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    shutil.copyfile(migrated_sqlite_template, folder / "server.db")
    port = free_port()
    process = start_server(str(folder), port)
    try:
        yield MlflowServer(f"http://127.0.0.1:{port}", process.pid, str(folder))
    finally:
        stop_server(process)
