"""Tracking speed, side by side with MLflow's own client: 10 metrics x 1,000 steps in one run.

    .venv/bin/python benchmarks/bench_tracking.py [--steps 1000] [--metrics 10]

Each scenario logs into a fresh copy of one migrated SQLite store (store creation is not timed)
and W&B writes offline into a temporary folder. Timed: from the first value to the run's end
(the toolkit flushes its batches and closes the run there). Printed: total time, time per value,
and ratios against per-call ``mlflow.log_metric``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
import warnings


def _fresh_store(template: str, folder: str, name: str) -> str:
    scenario = os.path.join(folder, name)
    os.makedirs(scenario)
    shutil.copyfile(template, os.path.join(scenario, "mlflow.db"))
    os.chdir(scenario)  # artifacts and W&B folders land beside the store
    uri = f"sqlite:///{os.path.join(scenario, 'mlflow.db')}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["WANDB_DIR"] = scenario
    return uri


def _values(steps: int, metrics: int):
    return [{f"metric_{index}": step * 0.001 + index for index in range(metrics)} for step in range(steps)]


def per_call_log_metric(rows) -> float:
    import mlflow

    with mlflow.start_run(run_name="per-call"):
        started = time.perf_counter()
        for step, row in enumerate(rows):
            for key, value in row.items():
                mlflow.log_metric(key, value, step=step)
    return time.perf_counter() - started


def direct_log_batch(rows) -> float:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient()
    run = client.create_run("0", run_name="direct-batch")
    started = time.perf_counter()
    timestamp = int(time.time() * 1000)
    entries = [Metric(key, value, timestamp, step) for step, row in enumerate(rows) for key, value in row.items()]
    for start in range(0, len(entries), 1000):
        client.log_batch(run.info.run_id, metrics=entries[start:start + 1000])
    client.set_terminated(run.info.run_id)
    return time.perf_counter() - started


def through_toolkit(rows, trackers) -> float:
    from toolkit.run import Run

    run = Run("toolkit", {"benchmark": "tracking"}, trackers=trackers)
    with contextlib.redirect_stderr(io.StringIO()):  # the end-of-run summary lines
        run.start()
        started = time.perf_counter()
        for step, row in enumerate(rows):
            run.log_metrics(row, step=step)
        run.end()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--metrics", type=int, default=10)
    arguments = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["WANDB_MODE"] = "offline"
    os.environ.pop("MLFLOW_EXPERIMENT_NAME", None)
    import mlflow  # noqa: F401  (imported before timing: import cost is not what is measured)
    import wandb  # noqa: F401

    from mlflow import MlflowClient

    rows = _values(arguments.steps, arguments.metrics)
    count = arguments.steps * arguments.metrics
    home = os.getcwd()
    folder = tempfile.mkdtemp(prefix="bench-tracking-")
    try:
        template = os.path.join(folder, "template.db")
        MlflowClient(f"sqlite:///{template}").search_experiments(max_results=1)  # runs the migrations
        scenarios = [
            ("mlflow.log_metric, one call per value", "per-call", per_call_log_metric, ()),
            ("MlflowClient.log_batch directly (reference)", "direct", direct_log_batch, ()),
            ("toolkit Run -> mlflow", "toolkit-mlflow", through_toolkit, (["mlflow"],)),
            ("toolkit Run -> wandb (offline)", "toolkit-wandb", through_toolkit, (["wandb"],)),
            ("toolkit Run -> mlflow + wandb", "toolkit-dual", through_toolkit, (["mlflow", "wandb"],)),
        ]
        seconds = {}
        print(f"{arguments.metrics} metrics x {arguments.steps} steps = {count:,} values in one run "
              f"(python {sys.version.split()[0]}, mlflow {mlflow.__version__}, wandb {wandb.__version__})")
        for label, name, function, extra in scenarios:
            _fresh_store(template, folder, name)
            seconds[name] = function(rows, *extra)
            print(f"  {label:<46} {seconds[name]:8.2f} s  {seconds[name] / count * 1e6:9.1f} us/value")
        print(f"ratio per-call log_metric / toolkit->mlflow: {seconds['per-call'] / seconds['toolkit-mlflow']:.1f}x "
              "faster (goal >= 50x)")
        print(f"ratio toolkit->mlflow / direct log_batch:    {seconds['toolkit-mlflow'] / seconds['direct']:.2f}x "
              "(the toolkit's own overhead)")
        print(f"W&B offline through the toolkit:             {seconds['toolkit-wandb'] / count * 1e6:.1f} us/value")
        print(f"dual tracking total:                         {seconds['toolkit-dual']:.2f} s "
              f"({seconds['toolkit-dual'] / count * 1e6:.1f} us/value)")
    finally:
        os.chdir(home)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
