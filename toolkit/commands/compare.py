"""``toolkit compare [--experiment NAME] [--metric KEY]``: runs side by side from MLflow, best first."""

from __future__ import annotations

import argparse
import math
import os
from typing import Any, Optional

from toolkit.progress import HEADLINE_METRICS, format_value

SHOWN_PARAMS = ("variant", "optimizer", "loss", "epochs", "batch_size", "estimator")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="list MLflow runs side by side, best first",
        description="List the runs of an MLflow store side by side, best first by one metric.",
    )
    parser.add_argument("--experiment", help="the MLflow experiment (default: every experiment)")
    parser.add_argument("--metric", default="accuracy", help="the metric that ranks the runs (default accuracy)")
    parser.add_argument("--tracking-uri", help="the MLflow store (default: MLFLOW_TRACKING_URI, else MLflow's default)")
    parser.add_argument("--limit", type=int, default=50, help="show at most this many runs (default 50)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import mlflow
    except ImportError:
        raise ValueError("compare reads MLflow runs: install toolkit-mlflow (pip install mlflow)") from None
    if args.limit < 1:
        raise ValueError(f"--limit must be a positive integer, got {args.limit}")
    uri = args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or mlflow.get_tracking_uri()
    _check_store_exists(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiments = client.search_experiments()
    if args.experiment is not None:
        chosen = [experiment for experiment in experiments if experiment.name == args.experiment]
        if not chosen:
            names = ", ".join(sorted(experiment.name for experiment in experiments)) or "none"
            raise ValueError(f"--experiment {args.experiment!r} is not in {uri}; experiments there: {names}")
        experiments = chosen
    runs = client.search_runs([experiment.experiment_id for experiment in experiments], max_results=1000)
    if not runs:
        print(f"no runs in {uri}" + (f" experiment {args.experiment!r}" if args.experiment else ""))
        return 0
    _check_metric(args.metric, runs)
    higher = _higher_is_better(args.metric)
    runs = sorted(runs, key=lambda found: _rank(found.data.metrics.get(args.metric), higher))[: args.limit]
    print(_table(runs, args.metric, experiments))
    print(f"\n{len(runs)} run(s) from {uri}, best {args.metric} first")
    return 0


def _check_store_exists(uri: str) -> None:
    """A SQLite store that does not exist would be created by reading it: say so instead."""
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        if not os.path.exists(path):
            raise ValueError(f"there is no MLflow store at {path}; train first, or pass --tracking-uri")


def _check_metric(metric: str, runs: list) -> None:
    """A metric that no run has would rank nothing: name the close ones instead of a column of dashes."""
    from toolkit.suggestions import did_you_mean

    recorded = sorted({key for found in runs for key in found.data.metrics})
    if metric not in recorded:
        shown = ", ".join(key for key in recorded if "/" not in key)
        raise ValueError(f"--metric {metric!r}: no run has this metric; {did_you_mean(metric, recorded)}"
                         f"metrics of these runs: {shown or 'none'}")


def _higher_is_better(metric: str) -> bool:
    from toolkit.plugin.manager import get_plugin_manager

    spec = get_plugin_manager().get_metrics().get(metric)
    if spec is not None and spec.higher_is_better is not None:
        return bool(spec.higher_is_better)
    return not metric.endswith("loss")


def _rank(value: Optional[float], higher: bool) -> tuple:
    if value is None or math.isnan(value):
        return (1, 0.0)  # runs without the metric go last
    return (0, -value if higher else value)


def _table(runs: list, metric: str, experiments: list) -> str:
    names = {experiment.experiment_id: experiment.name for experiment in experiments}
    metric_keys = [metric] + [key for key in HEADLINE_METRICS if key != metric and
                              any(key in found.data.metrics for found in runs)]
    param_keys = [key for key in SHOWN_PARAMS if any(key in found.data.params for found in runs)]
    header = ["run", "status", *metric_keys, *param_keys, "experiment", "run id"]
    rows = []
    for found in runs:
        metrics, params = found.data.metrics, found.data.params
        rows.append([
            found.info.run_name or "-", found.info.status,
            *(format_value(metrics[key]) if key in metrics else "-" for key in metric_keys),
            *(str(params.get(key, "-")) for key in param_keys),
            names.get(found.info.experiment_id, found.info.experiment_id), found.info.run_id[:8],
        ])
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
