"""The ``toolkit`` command line: one subcommand per module in toolkit.commands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

import toolkit
from toolkit.plugin.tracing import TRACE_ENVIRONMENT_VARIABLE

# Each module has add_parser(subparsers) and run(args) -> exit code; imported when the CLI starts.
COMMAND_MODULES = ("train", "sweep", "evaluate", "compare", "plugins", "report", "new_plugin")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description=toolkit.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"toolkit {toolkit.__version__}")
    parser.add_argument("--trace-plugins", action="store_true",
                        help="print every plugin hook call, the plugins that answered and their time, to "
                             "stderr (the same as TOOLKIT_TRACE_PLUGINS=1)")
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
    if args.trace_plugins:  # through the environment, so plugin managers built anywhere (and subprocesses) trace
        os.environ[TRACE_ENVIRONMENT_VARIABLE] = "1"
    try:
        return int(args.run(args) or 0)
    except ValueError as error:  # bad input: one line that names the problem, no traceback
        print(f"toolkit {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
