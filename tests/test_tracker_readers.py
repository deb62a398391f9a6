"""Runs read back through any tracker's reader: compare, report and --baseline with --tracker NAME.

Real stores only: W&B offline run folders and a SQLite MLflow store, written by the real CLI in
subprocesses and read back by the real CLI, with the plugins' own sandboxes (TrackerSpec.sandbox).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import toolkit
from toolkit.plugin import get_plugin_manager
from toolkit.reporting import record

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(5)
Y_TRUE = RNG.integers(0, 3, 300)
SCORES = RNG.dirichlet(np.ones(3), 300)


def _sandboxed_environment(folder: Path, *trackers: str) -> dict:
    environment = dict(os.environ)
    for name in trackers:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for variable, value in get_plugin_manager().get_trackers()[name].sandbox(str(folder / name)).items():
            if value is None:
                environment.pop(variable, None)
            else:
                environment[variable] = value
    return environment


def _toolkit(arguments: list, folder: Path, environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *arguments], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def wandb_only_runs(tmp_path):
    """Two evaluations recorded in W&B alone (offline), through the real CLI."""
    np.save(tmp_path / "y.npy", Y_TRUE)
    np.save(tmp_path / "good.npy", SCORES * 0.2 + np.eye(3)[Y_TRUE] * 0.8)
    np.save(tmp_path / "poor.npy", SCORES)
    environment = _sandboxed_environment(tmp_path, "wandb")
    environment["TOOLKIT_TRACKERS"] = "wandb"  # the configured default: no MLflow anywhere
    results = {}
    for name in ("poor", "good"):
        completed = _toolkit(["evaluate", "--y-true", "y.npy", "--y-score", f"{name}.npy", "--tracker", "wandb",
                              "--run-name", name, "--json"], tmp_path, environment)
        assert completed.returncode == 0, completed.stderr
        results[name] = toolkit.evaluate(Y_TRUE, y_score=np.load(tmp_path / f"{name}.npy"))
    return tmp_path, environment, results


def test_compare_and_report_read_a_wandb_only_run_without_creating_an_mlflow_store(wandb_only_runs):
    folder, environment, results = wandb_only_runs
    completed = _toolkit(["compare", "--tracker", "wandb"], folder, environment)
    assert completed.returncode == 0, completed.stderr
    rows = [line.split() for line in completed.stdout.splitlines() if line.startswith(("good", "poor"))]
    assert [row[0] for row in rows] == ["good", "poor"]  # best accuracy first
    assert float(rows[0][2]) == pytest.approx(results["good"].metrics["accuracy"], abs=5e-5)
    assert all(row[1] == "FINISHED" for row in rows)

    completed = _toolkit(["report", "--tracker", "wandb", "--latest", "-o", "page.html"], folder, environment)
    assert completed.returncode == 0, completed.stderr
    page = (folder / "page.html").read_text()
    assert "good" in page and f"{results['good'].metrics['f1_macro']:.4f}" in page
    assert not list(folder.rglob("mlflow.db")) and not list(folder.rglob("mlruns"))


def test_the_default_reader_is_the_first_configured_tracker_that_can_read(wandb_only_runs):
    folder, environment, _ = wandb_only_runs
    completed = _toolkit(["compare"], folder, environment)  # TOOLKIT_TRACKERS=wandb
    assert completed.returncode == 0, completed.stderr
    assert "from " + str(folder / "wandb" / "wandb") in completed.stdout


def test_a_run_id_prefix_is_resolved_and_an_ambiguous_or_unknown_one_is_named(wandb_only_runs, monkeypatch):
    folder, environment, results = wandb_only_runs
    monkeypatch.setenv("WANDB_DIR", environment["WANDB_DIR"])
    reader = record.open_reader("wandb")
    (good,) = [summary for summary in reader.list_runs() if summary.run_name == "good"]
    recorded = record.read_run(reader, good.run_id[:5])
    assert recorded.run_id == good.run_id
    assert recorded.metrics["accuracy"] == pytest.approx(results["good"].metrics["accuracy"], abs=1e-12)
    assert recorded.confusion[1] == results["good"].confusion_matrix.tolist()
    with pytest.raises(ValueError, match="no such run"):
        record.read_run(reader, "zzzz-not-a-run")
    with pytest.raises(ValueError, match="RUN_ID"):
        record.read_run(reader, "")


def test_a_baseline_gate_reads_the_baseline_run_from_wandb(wandb_only_runs):
    folder, environment, results = wandb_only_runs
    completed = _toolkit(["compare", "--tracker", "wandb"], folder, environment)
    poor_id = [line.split()[-1] for line in completed.stdout.splitlines() if line.startswith("poor")][0]
    completed = _toolkit(["evaluate", "--y-true", "y.npy", "--y-score", "good.npy", "--baseline", poor_id[:6],
                          "--baseline-tracker", "wandb", "--gate", "accuracy >= baseline + 0.1"], folder, environment)
    assert completed.returncode == 0, completed.stderr
    assert "passed" in completed.stdout


def test_reading_never_creates_a_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'nothing.db'}")
    with pytest.raises(ValueError, match="no MLflow store"):
        record.open_reader("mlflow")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="no W&B runs"):
        record.open_reader("wandb")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_or_unreadable_tracker_is_named(monkeypatch):
    with pytest.raises(ValueError, match="'nope' is not an installed tracker"):
        record.open_reader("nope")
    monkeypatch.setenv("TOOLKIT_TRACKERS", "")
    with pytest.raises(ValueError, match="no configured tracker can read"):
        record.open_reader(None)
