"""``toolkit new-plugin NAME``: write a ready plugin distribution from the templates in toolkit/templates."""

from __future__ import annotations

import argparse
import re
from importlib import metadata, resources
from pathlib import Path
from string import Template
from typing import Any

from toolkit.plugin.manager import BUILTIN_PLUGINS, ENTRY_POINT_GROUP

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATES = ("templates", "new_plugin")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "new-plugin",
        help="write a new plugin distribution, ready to install and test",
        description="Write toolkit-NAME/: pyproject.toml (with the toolkit.plugins entry point), the "
                    "package toolkit_NAME with one example metric, a README and tests on the "
                    "toolkit.testing fixtures. It installs with pip, is listed by `toolkit plugins` "
                    "and its tests pass as written.",
    )
    parser.add_argument("name", metavar="NAME",
                        help="the plugin's name: lower-case letters, digits and _ (a hyphen becomes _)")
    parser.add_argument("--statistic", action="store_true",
                        help="also write a statistic of the plugin's own (mergeable state) and a metric of it")
    parser.add_argument("--tracker", action="store_true", help="also write a tracker (JSON lines in a file)")
    parser.add_argument("--directory", default=".", help="where to create toolkit-NAME/ (default: here)")
    parser.set_defaults(run=run)
    return parser


def _template(relative: str) -> Template:
    return Template(resources.files("toolkit").joinpath(*_TEMPLATES, relative).read_text(encoding="utf-8"))


def plugin_name(name: str) -> str:
    """``name`` as an entry-point and module name; ValueError when it cannot be one or is taken."""
    chosen = name.strip().replace("-", "_")
    chosen = chosen[len("toolkit_"):] if chosen.startswith("toolkit_") else chosen
    if not _NAME.match(chosen):
        raise ValueError(f"NAME {name!r} is not a plugin name: use lower-case letters, digits and _ "
                         "(or -), starting with a letter")
    taken = set(BUILTIN_PLUGINS) | {entry_point.name for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if chosen in taken:
        raise ValueError(f"NAME {chosen!r} is already an installed plugin's name; plugins are found by "
                         "name, so choose another")
    return chosen


def write_plugin(name: str, directory: Path, *, statistic: bool = False, tracker: bool = False) -> Path:
    """Write the distribution ``toolkit-<name>`` into ``directory``; returns its folder."""
    name = plugin_name(name)
    distribution, package = f"toolkit-{name.replace('_', '-')}", f"toolkit_{name}"
    target = Path(directory) / distribution
    if target.exists():
        raise ValueError(f"{target} already exists; choose another NAME or --directory")
    provides = ["an example metric"] + ["a statistic of its own"] * statistic + ["a tracker"] * tracker
    values = {"name": name, "distribution": distribution, "package": package,
              "summary": ", ".join(provides[:-1]) + (" and " if len(provides) > 1 else "") + provides[-1],
              "statistic_note": " and the statistic" if statistic else ""}
    values["statistic_metric"] = _template("fragments/statistic_metric.py.tmpl").substitute(values).rstrip(
        "\n") if statistic else ""
    hooks = ["register_metrics"] + ["register_statistics"] * statistic + ["register_trackers"] * tracker
    modules = ["metrics"] + ["statistics"] * statistic + ["tracker"] * tracker
    api = ["MetricSpec"] + ["StatisticSpec"] * statistic + ["TrackerSpec"] * tracker + ["hookimpl"]
    values.update(
        hooks="\n\n\n".join(_template(f"fragments/{hook}.py.tmpl").substitute(values).rstrip("\n") for hook in hooks),
        modules=", ".join(modules), api_names=", ".join(api),
        contents="\n".join(f"- `{package}/{module}.py`: {what}" for module, what in (
            ("plugin", "the module the entry point names: it registers, computing nothing"),
            ("metrics", f"`{name}_error_rate`, from the confusion counts"),
            ("statistics", f"the `{name}_true_probability` statistic and `{name}_mean_true_probability`"),
            ("tracker", f"the `{name}` tracker, one JSON line per event"),
        ) if module in ("plugin", *modules)) + "\n- `tests/`: tests on the fixtures of `toolkit.testing`",
    )
    files = {"pyproject.toml": "pyproject.toml", "README.md": "README.md",
             f"{package}/__init__.py": "package/__init__.py", f"{package}/plugin.py": "package/plugin.py",
             "tests/conftest.py": "tests/conftest.py", "tests/test_metrics.py": "tests/test_metrics.py"}
    files.update({f"{package}/{module}.py": f"package/{module}.py" for module in modules})
    if statistic:
        files["tests/test_statistics.py"] = "tests/test_statistics.py"
    if tracker:
        files["tests/test_tracker.py"] = "tests/test_tracker.py"
    rendered = {path: _template(f"{source}.tmpl").substitute(values) for path, source in files.items()}
    for path, text in rendered.items():  # every template rendered before the first file is written
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_text(text, encoding="utf-8")
    return target


def run(args: argparse.Namespace) -> int:
    target = write_plugin(args.name, Path(args.directory), statistic=args.statistic, tracker=args.tracker)
    print(f"wrote {target}")
    print(f"next: pip install -e '{target}[test]' && toolkit plugins && pytest {target / 'tests'}")
    return 0
