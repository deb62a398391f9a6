"""The ``toolkit`` command line: one subcommand per module in toolkit.commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

import toolkit
from toolkit.tracking.redaction import redact_text

# Each module has add_parser(subparsers) and run(args) -> exit code; imported when the CLI starts.
COMMAND_MODULES = ("train", "sweep", "evaluate", "compare", "plugins", "report")


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
        return int(args.run(args) or 0)
    except ValueError as error:  # bad input: one line that names the problem, no traceback
        print(f"toolkit {args.command}: error: {redact_text(str(error))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
