"""``toolkit report RUN_ID [RUN_ID ...] | --latest [--tracker NAME]``: one self-contained HTML page of a
recorded run, or one page comparing several."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any, Sequence

from toolkit.commands.compare import add_reader_arguments, open_reader
from toolkit.errors import UsageError

EPILOG = """examples:
  toolkit report 3f2a --output run.html          one run: metrics, learning curves, confusion matrix,
                                                 curves, thresholds, sample images, model summary, params
  toolkit report 3f2a 9c41 77d0 -o compare.html  several runs on one page: learning curves overlaid,
                                                 the params that differ, final metrics (best highlighted),
                                                 confusion matrices and sample images side by side
  toolkit report --latest --tracker wandb        the newest run recorded in W&B
A RUN_ID may be any unique prefix of a run id (as toolkit compare prints them). The page has no
script and loads nothing: charts and images are inside it."""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="write one self-contained HTML report of a recorded run, or one comparing several",
        description="Read runs back from a tracker and write one HTML file that needs no network.\n"
                    "One run: metrics with intervals, gates, learning curves, confusion matrix, curves,\n"
                    "threshold table, per-class metrics, sample images, model summary, params.\n"
                    "Several runs: one comparison page.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_ids", nargs="*", metavar="RUN_ID",
                        help="the run id (or a unique prefix of it); two or more for a comparison page")
    parser.add_argument("--latest", action="store_true", help="report the most recently started run")
    parser.add_argument("--experiment", metavar="NAME", help="with --latest: only runs of this experiment")
    add_reader_arguments(parser)
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="where to write the page (default: toolkit-report-<run id>.html, or "
                             "toolkit-comparison-<first run id>-and-<N-1>-more.html for several runs)")
    parser.set_defaults(run=run)


def check_output(path: str, argument: str = "--output") -> None:
    """A page can be written at ``path``: its folder exists (checked before anything is read or run)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{argument} {path!r}: folder {folder!r} does not exist")


def write_comparison(records: Sequence[Any], output: str) -> None:
    """The comparison page of ``records`` written to ``output``."""
    from toolkit.reporting.comparison import render_comparison

    with open(output, "w", encoding="utf-8") as handle:
        handle.write(render_comparison(records))


def run(args: argparse.Namespace) -> int:
    from toolkit.reporting import html, record
    from toolkit.tracking import journal

    if bool(args.run_ids) == bool(args.latest):
        raise UsageError("give a RUN_ID (one or more) or --latest (one of them)")
    if args.experiment and not args.latest:
        raise UsageError("--experiment only applies with --latest")
    if args.output is not None:
        check_output(args.output)
    reader = open_reader(args)
    run_ids = [record.latest_run_id(reader, args.experiment)] if args.latest else \
        [record.resolve_run_id(reader, text) for text in args.run_ids]
    repeated = sorted({run_id for run_id in run_ids if run_ids.count(run_id) > 1})
    if repeated:
        raise UsageError(f"RUN_ID: run {repeated[0]} is named twice; give each run once")
    recorded = []
    for run_id in run_ids:
        one = reader.read_run(run_id)
        if one.status == "RUNNING" and journal.is_dead(one.run_id):
            one = dataclasses.replace(one, status=journal.DEAD_STATUS)
        recorded.append(one)
    if len(recorded) == 1:
        output = args.output or f"toolkit-report-{recorded[0].run_id}.html"
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(html.render(recorded[0]))
        print(f"report of run {recorded[0].run_id} ({recorded[0].run_name or 'unnamed'}, {recorded[0].status}) "
              f"-> {output}")
        return 0
    output = args.output or f"toolkit-comparison-{recorded[0].run_id[:8]}-and-{len(recorded) - 1}-more.html"
    write_comparison(recorded, output)
    print(f"comparison of {len(recorded)} runs ({', '.join(one.run_name or one.run_id[:8] for one in recorded)}) "
          f"-> {output}")
    return 0
