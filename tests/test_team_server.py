"""The team MLflow server: PostgreSQL + MLflow with basic auth, started by scripts/mlflow_team_server.py.

Two processes log to it at the same time and nothing is lost; a write without credentials is
refused with HTTP 401; no secret reaches a log, a run or the script's output. Every process the
test starts is stopped by its pid, whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mlflow_team_server.py"
STEPS = 30
# Each process waits for the go file, then records one toolkit run through the `mlflow` tracker:
# STEPS steps of two values, then an evaluation (metrics and artifacts), so that the two
# processes' writes interleave on the server. A param holds a URL with the password in it.
LOGGING_PROCESS = """
import json, os, sys, time
from pathlib import Path
import numpy as np
import toolkit
from toolkit.run import Run
name, go = sys.argv[1], Path(sys.argv[2])
rng = np.random.default_rng(len(name))
y_true = rng.integers(0, 3, 500)
scores = rng.dirichlet([1, 1, 1], 500)
result = toolkit.evaluate(y_true, y_score=scores)
leaky_url = os.environ["MLFLOW_TRACKING_URI"].replace(
    "://", "://" + os.environ["MLFLOW_TRACKING_USERNAME"] + ":" + os.environ["MLFLOW_TRACKING_PASSWORD"] + "@")
while not go.exists():
    time.sleep(0.01)
with Run(name, {"process": name, "steps": 30, "server": leaky_url}, trackers=["mlflow"]) as run:
    for step in range(30):
        run.log_metrics({"train_loss": 1.0 / (step + 1), "train_accuracy": step / 30}, step=step)
    run.log_evaluation(result)
print(json.dumps(result.metrics))
"""


def _read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _stop_pid(pid: int, first: int) -> None:
    """Stop a process group we started, by its leader's pid; SIGKILL if it lingers."""
    for signal_number, wait in ((first, 25.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, signal_number)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def team_server():
    # Under /tmp, not pytest's private tmp folder: PostgreSQL runs as the postgres user when
    # the tests run as root, and it must be able to reach its data folder.
    data = Path(tempfile.mkdtemp(prefix="toolkit-team-server-"))
    output = open(data.parent / f"{data.name}.out", "w+")
    supervisor = subprocess.Popen([sys.executable, str(SCRIPT), "--data", str(data), "--port", "0"],
                                  stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    state_file = data / "server.json"
    try:
        deadline = time.monotonic() + 300
        while not (data / "client.env").exists():
            if supervisor.poll() is not None:
                output.seek(0)
                said = output.read()
                if "PostgreSQL is not installed" in said or "apt-get install postgresql failed" in said:
                    pytest.skip(f"PostgreSQL cannot run here: {said.strip().splitlines()[-1]}")
                pytest.fail(f"the team server script exited with {supervisor.returncode}: {said}")
            assert time.monotonic() < deadline, "the team server did not start within 300 s"
            time.sleep(0.5)
        yield {"data": data, "state": json.loads(state_file.read_text()),
               "client": _read_env(data / "client.env"), "output": output}
    finally:
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        _stop_pid(supervisor.pid, signal.SIGTERM)  # stops MLflow, then PostgreSQL
        supervisor.wait(10)
        # Whatever the supervisor managed, nothing it started may outlive the test.
        for key, first in (("mlflow_pid", signal.SIGTERM), ("postgres_pid", signal.SIGINT)):
            if state.get(key):
                _stop_pid(state[key], first)
        output.close()
        shutil.rmtree(data, ignore_errors=True)
        Path(output.name).unlink(missing_ok=True)


def test_a_write_without_credentials_is_refused_with_401(team_server):
    uri = team_server["state"]["tracking_uri"]
    request = urllib.request.Request(f"{uri}/api/2.0/mlflow/experiments/create", method="POST",
                                     data=json.dumps({"name": "intruder"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    wrong = b64encode(b"admin:not-the-password").decode()
    request.add_header("Authorization", f"Basic {wrong}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


def test_two_processes_log_at_once_and_nothing_is_lost(team_server, tmp_path):
    from mlflow.tracking import MlflowClient

    environment = {**os.environ, **team_server["client"], "MLFLOW_EXPERIMENT_NAME": "team-test",
                   # this machine may be busy: give each request time (the tracker's own bound is 3 s)
                   "MLFLOW_HTTP_REQUEST_TIMEOUT": "120"}
    go = tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", LOGGING_PROCESS, name, str(go)], env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for name in ("first", "second")]
    try:
        time.sleep(3)  # both have imported mlflow and wait for the go file
        go.touch()
        outputs = [process.communicate(timeout=600)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [process.returncode for process in processes] == [0, 0], outputs

    client = MlflowClient(tracking_uri=team_server["client"]["MLFLOW_TRACKING_URI"])
    os.environ.update(team_server["client"])
    try:
        experiment = client.get_experiment_by_name("team-test")
        runs = client.search_runs([experiment.experiment_id])
        assert sorted(run.info.run_name for run in runs) == ["first", "second"]
        password = team_server["client"]["MLFLOW_TRACKING_PASSWORD"]
        for run, output in zip(sorted(runs, key=lambda run: run.info.run_name), outputs):
            assert run.info.status == "FINISHED"
            assert run.data.params["process"] == run.info.run_name
            assert run.data.params["steps"] == str(STEPS)
            assert password not in json.dumps(run.data.params) + json.dumps(run.data.tags)
            assert run.data.params["server"] == team_server["client"]["MLFLOW_TRACKING_URI"]
            for metric in ("train_loss", "train_accuracy"):
                history = client.get_metric_history(run.info.run_id, metric)
                assert sorted(point.step for point in history) == list(range(STEPS))
            losses = {point.step: point.value for point in client.get_metric_history(run.info.run_id, "train_loss")}
            assert losses[STEPS - 1] == pytest.approx(1.0 / STEPS)
            # Every value of the evaluation arrived, as the process computed it.
            evaluated = json.loads(output.strip().splitlines()[-1])
            assert len(evaluated) > 20
            for key, value in evaluated.items():
                assert run.data.metrics[key] == pytest.approx(value), key
            artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "evaluation")}
            assert "evaluation/confusion_matrix.png" in artifacts
        # The runs were logged at the same time: their time spans overlap.
        first, second = sorted(runs, key=lambda run: run.info.start_time)
        assert second.info.start_time < first.info.end_time
    finally:
        for name in team_server["client"]:
            os.environ.pop(name, None)


def test_no_secret_reaches_a_log_or_the_output(team_server):
    data = team_server["data"]
    secrets = json.loads((data / "secrets.json").read_text())
    team_server["output"].seek(0)
    texts = {"script output": team_server["output"].read(),
             "mlflow.log": (data / "mlflow.log").read_text(errors="replace"),
             "postgres.log": (data / "postgres.log").read_text(errors="replace"),
             "server.json": (data / "server.json").read_text()}
    for where, text in texts.items():
        for name, secret in secrets.items():
            assert secret not in text, f"{name} appears in {where}"
    for private in ("secrets.json", "client.env", "pgpass", "basic_auth.ini"):
        assert (data / private).stat().st_mode & 0o077 == 0, f"{private} is readable by others"
