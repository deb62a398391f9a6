"""``toolkit compare [--tracker NAME] [--experiment NAME] [--metric KEY]``: recorded runs side by side, best first."""

from __future__ import annotations

import argparse
import difflib
import math
from typing import Any, Optional

from toolkit.errors import UsageError
from toolkit.progress import HEADLINE_METRICS, format_value

SHOWN_PARAMS = ("variant", "optimizer", "loss", "epochs", "batch_size", "estimator")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="list recorded runs side by side, best first",
        description="List the runs a tracker recorded side by side, best first by one metric. "
                    "Runs are read back through the tracker's reader (any tracker that offers one).",
    )
    add_reader_arguments(parser)
    parser.add_argument("--experiment", help="only runs of this experiment (W&B: project)")
    parser.add_argument("--metric", default="accuracy", help="the metric that ranks the runs (default accuracy)")
    parser.add_argument("--limit", type=int, default=50, help="show at most this many runs (default 50)")
    parser.set_defaults(run=run)


def add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """--tracker and --store: which tracker's runs to read, and where (shared with report)."""
    parser.add_argument("--tracker", metavar="NAME",
                        help="read runs from this tracker (default: the first configured tracker that can read)")
    parser.add_argument("--store", "--tracking-uri", dest="store", metavar="LOCATION",
                        help="where that tracker's runs are: a tracking URI for MLflow, the folder holding "
                             "wandb/ for W&B (default: the tracker's own default)")


def open_reader(args: argparse.Namespace) -> Any:
    from toolkit.reporting.record import open_reader as open_tracker_reader

    return open_tracker_reader(args.tracker, {"location": args.store} if args.store else None)


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError(f"--limit must be a positive integer, got {args.limit}")
    reader = open_reader(args)
    runs = reader.list_runs(args.experiment)
    if not runs:
        print(f"no runs in {reader.location()}" + (f" experiment {args.experiment!r}" if args.experiment else ""))
        return 0
    known = set().union(*(summary.metrics for summary in runs))
    if args.metric not in known:
        close = difflib.get_close_matches(args.metric, sorted(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(f"--metric {args.metric!r}: no run in {reader.location()} has it; {hint}"
                         f"metrics there: {', '.join(sorted(known)[:20]) or 'none'}")
    higher = _higher_is_better(args.metric)
    runs = sorted(runs, key=lambda found: _rank(found.metrics.get(args.metric), higher))[: args.limit]
    print(_table(runs, args.metric))
    print(f"\n{len(runs)} run(s) from {reader.location()}, best {args.metric} first")
    return 0


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


def _table(runs: list, metric: str) -> str:
    metric_keys = [metric] + [key for key in HEADLINE_METRICS if key != metric and
                              any(key in found.metrics for found in runs)]
    param_keys = [key for key in SHOWN_PARAMS if any(key in found.params for found in runs)]
    header = ["run", "status", *metric_keys, *param_keys, "experiment", "run id"]
    rows = []
    for found in runs:
        rows.append([
            found.run_name or "-", found.status,
            *(format_value(found.metrics[key]) if key in found.metrics else "-" for key in metric_keys),
            *(str(found.params.get(key, "-")) for key in param_keys),
            found.experiment_name or "-", found.run_id,
        ])
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
