"""``toolkit report RUN_ID | --latest``: one self-contained HTML page for a run recorded in MLflow."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="write one self-contained HTML report of a run recorded in MLflow",
        description="Read a run back from MLflow (metrics with intervals, gates, confusion matrix, "
                    "curves, threshold table, per-class metrics, params) and write one HTML file "
                    "that needs no network.",
    )
    parser.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the MLflow run id, or any unique prefix of it")
    parser.add_argument("--latest", action="store_true", help="report the most recently started run")
    parser.add_argument("--experiment", metavar="NAME", help="with --latest: only runs of this experiment")
    parser.add_argument("--tracking-uri", metavar="URI",
                        help="the MLflow store (default: MLFLOW_TRACKING_URI, else MLflow's default)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="where to write the page (default: toolkit-report-<run id>.html)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.reporting import html, record
    from toolkit.tracking.run_ids import resolve_mlflow_run_id

    if bool(args.run_id) == bool(args.latest):
        raise ValueError("give a RUN_ID or --latest (one of them)")
    if args.experiment and not args.latest:
        raise ValueError("--experiment only applies with --latest")
    if args.output is not None:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise ValueError(f"--output {args.output!r}: folder {folder!r} does not exist")
    client = record.open_client(args.tracking_uri)
    if args.latest:
        run_id = record.latest_run_id(client, args.experiment)
    else:
        run_id = resolve_mlflow_run_id(client, args.run_id)
    recorded = record.read_run(client, run_id)
    page = html.render(recorded)
    output = args.output or f"toolkit-report-{recorded.run_id}.html"
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(page)
    print(f"report of run {recorded.run_id} ({recorded.run_name or 'unnamed'}, {recorded.status}) -> {output}")
    return 0
