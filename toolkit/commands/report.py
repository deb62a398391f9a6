"""``toolkit report RUN_ID | --latest [--tracker NAME]``: one self-contained HTML page for a recorded run."""

from __future__ import annotations

import argparse
import os
from typing import Any

from toolkit.commands.compare import add_reader_arguments, open_reader
from toolkit.errors import UsageError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="write one self-contained HTML report of a recorded run",
        description="Read a run back from a tracker (metrics with intervals, gates, confusion matrix, "
                    "curves, threshold table, per-class metrics, params) and write one HTML file "
                    "that needs no network.",
    )
    parser.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the run id (or a unique prefix of it)")
    parser.add_argument("--latest", action="store_true", help="report the most recently started run")
    parser.add_argument("--experiment", metavar="NAME", help="with --latest: only runs of this experiment")
    add_reader_arguments(parser)
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="where to write the page (default: toolkit-report-<run id>.html)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.reporting import html, record

    if bool(args.run_id) == bool(args.latest):
        raise UsageError("give a RUN_ID or --latest (one of them)")
    if args.experiment and not args.latest:
        raise UsageError("--experiment only applies with --latest")
    if args.output is not None:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise UsageError(f"--output {args.output!r}: folder {folder!r} does not exist")
    reader = open_reader(args)
    run_id = record.latest_run_id(reader, args.experiment) if args.latest else args.run_id
    recorded = record.read_run(reader, run_id)
    page = html.render(recorded)
    output = args.output or f"toolkit-report-{recorded.run_id}.html"
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(page)
    print(f"report of run {recorded.run_id} ({recorded.run_name or 'unnamed'}, {recorded.status}) -> {output}")
    return 0
