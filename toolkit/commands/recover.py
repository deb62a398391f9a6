"""``toolkit recover [--dry-run]``: deliver what dead runs' journals hold and end those runs."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from typing import Any

from toolkit.errors import UsageError
from toolkit.tracking import journal as journals

DEFAULT_TIMEOUT_SECONDS = 60.0
_NOUNS = {"params": "param", "values": "metric value", "evaluations": "evaluation", "files": "file"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recover", help="finish runs whose process is gone: deliver their journal, end them KILLED",
        description="Find runs whose process is gone (killed, out of memory, a lost machine) or that "
                    "ended while a store was out, deliver to each tracker what its store lacks from the "
                    "run's journal, and end them: KILLED at the last heartbeat, or with the status "
                    "they ended with.",
    )
    parser.add_argument("--journal-dir", metavar="DIR",
                        help=f"where the journals are (default: {journals.JOURNAL_DIR_ENV}, else "
                             f"./{journals.DEFAULT_JOURNAL_DIR})")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and what waits; change nothing")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait for a store that does not answer (default {DEFAULT_TIMEOUT_SECONDS:g})")
    parser.set_defaults(run=run)


def _counts(counts: dict) -> str:
    return ", ".join(f"{number:,} {_NOUNS[kind]}{'' if number == 1 else 's'}"
                     for kind, number in counts.items() if number) or "nothing"


def describe(info: journals.JournalInfo) -> str:
    """One run's lines: who it was, how it ends and what each tracker lacks."""
    heartbeat = datetime.datetime.fromtimestamp(info.last_time, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    ending = (f"ended {info.end['status']} with deliveries pending" if info.end is not None
              else f"process {info.header.get('pid')} on {info.header.get('host')} is gone; last heartbeat {heartbeat}")
    lines = [f"run {info.name!r} ({ending}) - journal {info.path}"]
    for tracker, link in info.links.items():
        lines.append(f"  {tracker} run {link['run_id']}: waiting {_counts(info.pending.get(tracker, {}))}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not args.timeout >= 0:
        raise UsageError(f"--timeout must be a number of seconds >= 0, got {args.timeout}")
    folder = journals.journal_folder(args.journal_dir)
    if args.journal_dir is not None and not os.path.isdir(folder):
        raise UsageError(f"--journal-dir {args.journal_dir!r} is not a folder")
    dead = journals.dead_runs(folder)
    if not dead:
        print(f"no run to recover in {folder}")
        return 0
    if args.dry_run:
        for info in dead:
            print(describe(info))
        print(f"{len(dead)} run(s) to recover; run `toolkit recover` to deliver and end them")
        return 0
    from toolkit.plugin.manager import get_plugin_manager
    from toolkit.tracking.recovery import recover

    manager = get_plugin_manager()
    failures = 0
    for info in dead:
        print(describe(info))
        recovery = recover(info, manager, args.timeout)
        if recovery is None:
            print("  skipped: its process holds the journal again")
            continue
        for outcome in recovery.outcomes:
            if outcome.state == "done":
                stored = f" (its run files now hold {outcome.stored:,} metric values)" if outcome.stored is not None else ""
                print(f"  {outcome.tracker}: {recovery.status}: delivered {_counts(outcome.delivered)}{stored} "
                      f"-> {outcome.where}")
            else:
                failures += 1
                print(f"  {outcome.tracker}: NOT RECOVERED ({outcome.reason}); the journal is kept", file=sys.stderr)
    return 1 if failures else 0
