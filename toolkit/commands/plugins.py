"""``toolkit plugins``: list the installed plugins, what each provides, and the ones that are broken."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from toolkit.plugin.conformance import check_plugin_in, unmet_needs
from toolkit.plugin.manager import BrokenPlugin, PluginInfo, ToolkitPluginManager, create_plugin_manager


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "plugins",
        help="list installed plugins and what they provide",
        description="List every plugin (built-in, installed through the toolkit.plugins entry "
                    "point group, or blocked by TOOLKIT_DISABLE_PLUGINS) with its distribution, "
                    "version, hooks and the metrics, statistics and trackers it provides. Broken "
                    "plugins are reported with their distribution and the reason; the rest load.",
    )
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any plugin is broken or a metric needs what no plugin "
                             "registers (for CI)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--check", nargs="*", metavar="NAME",
        help="run the conformance checks on the named plugins (all loaded ones when none is named): "
             "batch merges, pickling, needs, values and declared order of every metric and statistic; "
             "exit with status 1 on any failure")
    parser.set_defaults(run=run)
    return parser


def _info_dict(info: PluginInfo) -> dict[str, Any]:
    return {
        "name": info.name, "distribution": info.distribution, "version": info.version,
        "hooks": list(info.hooks), "metrics": list(info.metrics),
        "statistics": list(info.statistics), "trackers": list(info.trackers),
    }


def _broken_dict(broken: BrokenPlugin) -> dict[str, str]:
    return {"name": broken.name, "distribution": broken.distribution, "reason": broken.reason}


def _provides(info: PluginInfo) -> str:
    parts = [f"{kind}: {', '.join(names)}" for kind, names in (
        ("metrics", info.metrics), ("statistics", info.statistics), ("trackers", info.trackers))
        if names]
    if not parts:
        lifecycle = [hook for hook in info.hooks if not hook.startswith("toolkit_register_")]
        parts = [f"hooks: {', '.join(lifecycle)}"] if lifecycle else ["(nothing)"]
    return "; ".join(parts)


def _print_table(manager: ToolkitPluginManager, infos: list[PluginInfo], problems: list[str]) -> None:
    rows = [(info.name, f"{info.distribution} {info.version}".strip(), _provides(info)) for info in infos]
    name_width = max([len("plugin")] + [len(row[0]) for row in rows])
    dist_width = max([len("distribution")] + [len(row[1]) for row in rows])
    print(f"{'plugin':<{name_width}}  {'distribution':<{dist_width}}  provides")
    for name, distribution, provides in rows:
        print(f"{name:<{name_width}}  {distribution:<{dist_width}}  {provides}")
    blocked = sorted(name for name, plugin in manager.list_name_plugin() if plugin is None)
    if blocked:
        print(f"blocked (TOOLKIT_DISABLE_PLUGINS): {', '.join(blocked)}")
    for broken in manager.broken:
        print(f"BROKEN {broken.name} ({broken.distribution}): {broken.reason}")
    for problem in problems:
        print(f"PROBLEM {problem}")


def _check(manager: ToolkitPluginManager, names: list[str]) -> int:
    loaded = [info.name for info in manager.plugin_infos()]
    unknown = [name for name in names if name not in loaded]
    broken = [str(broken) for broken in manager.broken if broken.name in unknown]
    if unknown:
        raise ValueError(f"--check names {unknown}, which are not loaded plugins; loaded: {loaded}"
                         + "".join(f"; broken: {reason}" for reason in broken))
    reports = [check_plugin_in(manager, name) for name in (names or loaded)]
    for report in reports:
        print(report)
    failed = [report.plugin for report in reports if not report.ok]
    if failed:
        print(f"toolkit plugins: error: conformance checks failed for {failed}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    # Never strict while loading: every broken plugin is reported, then --strict decides the status.
    manager = create_plugin_manager(strict=False)
    if args.check is not None:
        return _check(manager, args.check)
    infos = manager.plugin_infos()
    problems = unmet_needs(manager)
    if args.json:
        blocked = sorted(name for name, plugin in manager.list_name_plugin() if plugin is None)
        print(json.dumps({
            "plugins": [_info_dict(info) for info in infos],
            "blocked": blocked,
            "broken": [_broken_dict(broken) for broken in manager.broken],
            "problems": problems,
        }, indent=2))
    else:
        _print_table(manager, infos, problems)
    if args.strict and manager.broken:
        print(f"toolkit plugins: error: {len(manager.broken)} broken plugin(s): "
              + "; ".join(str(broken) for broken in manager.broken), file=sys.stderr)
        return 1
    if args.strict and problems:
        print("toolkit plugins: error: metrics need what no plugin registers: " + "; ".join(problems),
              file=sys.stderr)
        return 1
    return 0
