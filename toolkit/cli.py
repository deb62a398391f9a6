"""The ``toolkit`` command line: one subcommand per module in toolkit.commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence, TextIO

import toolkit

# Each module has add_parser(subparsers) and run(args) -> exit code; imported when the CLI starts.
COMMAND_MODULES = ("train", "sweep", "evaluate", "compare", "plugins", "report")
# Commands that compute metrics: a broken plugin or an uncomputable metric is said once, on stderr.
EVALUATING_COMMANDS = ("train", "sweep", "evaluate")
# What this process has said on stderr already (the results' warnings repeat it; printed once).
reported_problems: set[str] = set()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description=toolkit.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"toolkit {toolkit.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"toolkit.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"toolkit.commands.{name}":  # not written yet on this branch
                continue
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in EVALUATING_COMMANDS:
            report_plugin_problems()
        return int(args.run(args) or 0)
    except ValueError as error:  # bad input: one line that names the problem, no traceback
        print(f"toolkit {args.command}: error: {error}", file=sys.stderr)
        return 2


def report_plugin_problems(stream: Optional[TextIO] = None) -> None:
    """Say on stderr, once per process, which plugins are broken and which metrics cannot be computed."""
    from toolkit.evaluation.selection import plugin_problems
    from toolkit.plugin.manager import get_plugin_manager

    manager = get_plugin_manager()
    for problem in plugin_problems(manager, manager.get_metrics(), manager.get_statistics()):
        if problem not in reported_problems:
            reported_problems.add(problem)
            print(f"toolkit: warning: {problem}", file=stream or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
