"""``toolkit compare [--tracker NAME] [--experiment NAME] [--metric KEY]``: recorded runs side by side, best first;
``toolkit compare RUN_A RUN_B --paired [--gate RULE]``: a paired test of two runs' stored predictions."""

from __future__ import annotations

import argparse
import difflib
import math
from typing import Any, Optional

from toolkit.errors import UsageError
from toolkit.progress import HEADLINE_METRICS, format_value
from toolkit.reporting.directions import higher_is_better
from toolkit.tracking.journal import DEAD_STATUS, dead_run_ids

SHOWN_PARAMS = ("variant", "optimizer", "loss", "epochs", "batch_size", "estimator")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="list recorded runs side by side, best first; --paired: is run B really better than A?",
        description="List the runs a tracker recorded side by side, best first by one metric. "
                    "Runs are read back through the tracker's reader (any tracker that offers one). "
                    "With RUN_A RUN_B --paired: test the two runs on the predictions they stored (the same "
                    "examples, checked by the SHA-256 of y_true and the labels), metric by metric, as "
                    "toolkit.paired_test does: accuracy by the exact McNemar test, AUROC by DeLong's, any "
                    "other metric by a paired bootstrap.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="paired gates (--gate, repeatable):\n"
               "  '<metric>: <a|b> better[, p < <alpha>]'  the named run must be better on the metric, with\n"
               "  p below alpha (0.05 when left out); e.g. --gate 'roc_auc: b better, p < 0.05'.\n"
               "  Exit 1 when a gate fails, 2 on a usage error (a malformed gate, runs on different examples).",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="with --paired: the two runs A and B (ids or unique prefixes)")
    add_reader_arguments(parser)
    parser.add_argument("--experiment", help="only runs of this experiment (W&B: project)")
    parser.add_argument("--metric", help="the metric that ranks the runs (default accuracy); with --paired: "
                                         "compare only this metric")
    parser.add_argument("--limit", type=int, default=50, help="show at most this many runs (default 50)")
    paired = parser.add_argument_group("paired test of two runs (RUN_A RUN_B --paired)")
    paired.add_argument("--paired", action="store_true",
                        help="test RUN_A against RUN_B on their stored predictions")
    paired.add_argument("--gate", dest="gates", action="append", default=[], metavar="RULE",
                        help="'<metric>: <a|b> better[, p < <alpha>]' (repeatable); exit 1 when one fails")
    paired.add_argument("--ci", type=float, default=0.95, metavar="LEVEL", help="interval level (default 0.95)")
    paired.add_argument("--n-bootstrap", type=int, default=1000, metavar="N",
                        help="paired bootstrap resamples (default 1000)")
    paired.add_argument("--seed", type=int, metavar="N", help="seed of the paired bootstrap")
    paired.add_argument("--json", action="store_true", help="print the comparison as JSON")
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
    if args.paired or args.runs:
        from toolkit.commands.paired import run_paired

        return run_paired(args, open_reader)
    if args.gates:
        raise UsageError("--gate goes with RUN_A RUN_B --paired")
    args.metric = args.metric or "accuracy"
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
    higher = higher_is_better(args.metric) is not False
    runs = sorted(runs, key=lambda found: _rank(found.metrics.get(args.metric), higher))[: args.limit]
    print(_table(runs, args.metric))
    print(f"\n{len(runs)} run(s) from {reader.location()}, best {args.metric} first")
    return 0


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
    dead = dead_run_ids()
    for found in runs:
        rows.append([
            found.run_name or "-", DEAD_STATUS if found.run_id in dead else found.status,
            *(format_value(found.metrics[key]) if key in found.metrics else "-" for key in metric_keys),
            *(str(found.params.get(key, "-")) for key in param_keys),
            found.experiment_name or "-", found.run_id,
        ])
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
