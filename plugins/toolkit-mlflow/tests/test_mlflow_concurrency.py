"""Many processes at once on one SQLite store: creating it, and logging into it, lose nothing.

The processes are forked from this one (which has imported MLflow already), so each starts in
milliseconds; a barrier makes them all begin at the same moment.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback

import pytest

# Imported here, before forking, so that every child starts with MLflow loaded; the children
# then only open the store (imports in 8-16 children at once would dominate the test's time).
import mlflow.store.tracking.sqlalchemy_store  # noqa: F401
from mlflow import MlflowClient

pytestmark = pytest.mark.slow


def _fork_all(target, count, *arguments):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(count)
    outcomes = context.Queue()
    processes = [context.Process(target=target, args=(barrier, outcomes, index, *arguments))
                 for index in range(count)]
    for process in processes:
        process.start()
    results = [outcomes.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return results


def _create_and_log(barrier, outcomes, index, uri):
    try:
        os.environ["MLFLOW_TRACKING_URI"] = uri
        os.environ["MLFLOW_EXPERIMENT_NAME"] = "concurrent"
        from toolkit.run import Run

        barrier.wait()
        with Run(f"creator-{index}", {"index": index}, trackers=["mlflow"]) as run:
            run.log_metrics({"index": float(index)}, step=0)
        outcomes.put(("ok", index))
    except BaseException:
        outcomes.put(("error", traceback.format_exc()))


def test_eight_processes_creating_one_new_sqlite_store_all_succeed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    results = _fork_all(_create_and_log, 8, uri)
    errors = [detail for status, detail in results if status != "ok"]
    assert errors == []
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("concurrent")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.metrics["index"] for run in runs) == list(range(8))
    assert {run.info.status for run in runs} == {"FINISHED"}


def _log_many(barrier, outcomes, index, steps):
    try:
        from toolkit.run import Run

        barrier.wait()
        with Run(f"writer-{index}", trackers=["mlflow"]) as run:
            for step in range(steps):
                run.log_metrics({"writer": float(index), "value": float(index * 1000 + step),
                                 "half": step / 2}, step=step)
        outcomes.put(("ok", index))
    except BaseException:
        outcomes.put(("error", traceback.format_exc()))


def test_sixteen_processes_logging_at_once_lose_nothing(mlflow_store):
    steps = 400  # 1,200 values per process: two log_batch requests each, interleaved
    results = _fork_all(_log_many, 16, steps)
    assert [detail for status, detail in results if status != "ok"] == []
    client = mlflow_store.client()
    runs = mlflow_store.runs()
    assert len(runs) == 16
    for run in runs:
        writer = int(run.data.metrics["writer"])
        history = client.get_metric_history(run.info.run_id, "value")
        assert [(point.step, point.value) for point in history] == [
            (step, float(writer * 1000 + step)) for step in range(steps)]
        assert len(client.get_metric_history(run.info.run_id, "half")) == steps
        assert run.info.status == "FINISHED"
    assert sorted(int(run.data.metrics["writer"]) for run in runs) == list(range(16))
