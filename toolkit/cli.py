"""The ``toolkit`` command line: one subcommand per module in toolkit.commands."""

from __future__ import annotations

import argparse
import importlib
import linecache
import os
import sys
import traceback
from typing import Optional, Sequence, TextIO

import toolkit
from toolkit.errors import UsageError
from toolkit.plugin.tracing import TRACE_ENVIRONMENT_VARIABLE
from toolkit.tracking.redaction import redact_text

# Each module has add_parser(subparsers) and run(args) -> exit code; imported when the CLI starts.
COMMAND_MODULES = ("train", "sweep", "evaluate", "compare", "plugins", "report", "new_plugin", "recover")
# Commands that compute metrics: a broken plugin or an uncomputable metric is said once, on stderr.
EVALUATING_COMMANDS = ("train", "sweep", "evaluate")
# What this process has said on stderr already (the results' warnings repeat it; printed once).
reported_problems: set[str] = set()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description=toolkit.__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"toolkit {toolkit.__version__}")
    parser.add_argument("--trace-plugins", action="store_true",
                        help="print every plugin hook call, the plugins that answered and their time, to "
                             "stderr (the same as TOOLKIT_TRACE_PLUGINS=1)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:  # a command that fails to import is a bug: its traceback shows
        importlib.import_module(f"toolkit.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.trace_plugins:  # through the environment, so plugin managers built anywhere (and subprocesses) trace
        os.environ[TRACE_ENVIRONMENT_VARIABLE] = "1"
    try:
        if args.command in EVALUATING_COMMANDS:
            report_plugin_problems()
        return int(args.run(args) or 0)
    except ValueError as error:
        if not is_usage_error(error):
            raise  # a bug (a numpy shape error, a plugin's own failure): the traceback says where
        print(f"toolkit {args.command}: error: {redact_text(str(error))}", file=sys.stderr)
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


def is_usage_error(error: BaseException) -> bool:
    """A UsageError, or a ValueError that a ``raise`` statement of the toolkit's own checks raised:
    in the core or in an installed plugin's package (a config a plugin builds, a tracker's options)."""
    if isinstance(error, UsageError):
        return True
    if type(error) is not ValueError or error.__traceback__ is None:
        return False
    last = error.__traceback__
    while last.tb_next is not None:
        last = last.tb_next
    code = last.tb_frame.f_code
    module = last.tb_frame.f_globals.get("__name__", "")
    line = linecache.getline(code.co_filename, last.tb_lineno).strip()
    return line.startswith("raise ") and module.split(".")[0] in _checked_packages()


def _checked_packages() -> set[str]:
    from toolkit.plugin.manager import get_plugin_manager

    plugins = [plugin for _, plugin in get_plugin_manager().list_name_plugin() if plugin is not None]
    return {"toolkit"} | {str(getattr(plugin, "__name__", type(plugin).__module__)).split(".")[0] for plugin in plugins}


def console() -> int:
    """The ``toolkit`` command: :func:`main`, with the traceback of a bug redacted on its way out
    (an error from a library may quote a value the user gave, a password included). Caught here
    rather than by ``sys.excepthook``, which libraries (W&B) replace with their own."""
    try:
        return main()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        sys.stderr.write(redact_text("".join(traceback.format_exception(type(error), error, error.__traceback__))))
        return 1


if __name__ == "__main__":
    sys.exit(console())
