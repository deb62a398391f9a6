"""The structure docs/architecture.md describes, checked on the code itself.

- the core's modules import each other without a loop (every import counts: module level, inside
  functions and under TYPE_CHECKING, since each is a dependency a reader has to follow);
- the core imports no tracker or framework library, and names no tracker plugin's package;
- first-party plugins import from the core only ``toolkit`` (the user API) and ``toolkit.plugin``;
- names moved into ``toolkit.plugin`` keep working at their old places, with a DeprecationWarning.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import toolkit

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "toolkit"
HEAVY = {"tensorflow", "keras", "mlflow", "wandb", "matplotlib", "torch", "tensorboard", "sklearn"}
# What the core never imports, even lazily: the trackers' and the frameworks' own libraries.
TRACKERS_AND_FRAMEWORKS = {"tensorflow", "keras", "mlflow", "wandb", "torch", "tensorboard"}
FIRST_PARTY_PACKAGES = sorted(path for path in (ROOT / "plugins").glob("*/toolkit_*") if path.is_dir())


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, wherever the import statement stands."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from package import name": the submodule when name is one, else the package itself
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _core_graph() -> dict[str, set[str]]:
    modules = {_module_name(path, ROOT): path for path in CORE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        targets = {resolve(imported) for imported in _imports(path) if imported.split(".")[0] == "toolkit"}
        graph[name] = {target for target in targets if target and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_core_has_no_import_loop():
    graph = _core_graph()
    assert "toolkit.pipeline" in graph and graph["toolkit.pipeline"] >= {"toolkit.evaluation.engine", "toolkit.run"}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_loop():
    # the check above can fail: a two-module loop and a three-module loop are both reported
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}}) == [["a", "b"], ["c", "d", "e"]]


def test_the_core_imports_no_tracker_or_framework_library():
    offenders = []
    for path in CORE.rglob("*.py"):
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top in TRACKERS_AND_FRAMEWORKS or top.startswith("toolkit_"):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert offenders == []


@pytest.mark.parametrize("package", FIRST_PARTY_PACKAGES, ids=lambda path: path.name)
def test_first_party_plugins_import_only_the_public_api_from_the_core(package):
    offenders = []
    for path in package.rglob("*.py"):
        for imported in _imports(path):
            parts = imported.split(".")
            if parts[0] == "toolkit" and len(parts) > 1 and parts[1] not in ("plugin",) and not (
                    len(parts) == 2 and hasattr(toolkit, parts[1])):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
            if parts[0] == "toolkit" and len(parts) > 2 and parts[1] == "plugin" and not hasattr(toolkit.plugin, parts[2]):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported} (not exported by toolkit.plugin)")
    assert offenders == []


def test_import_toolkit_loads_only_numpy_and_pluggy_and_yaml_beside_the_standard_library():
    code = ("import sys, toolkit, toolkit.plugin\n"
            "print(sorted({name.split('.')[0] for name in sys.modules} & " + repr(HEAVY | {"pandas", "scipy"}) + "))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(toolkit._MOVED_TO_PLUGIN))
def test_plugin_names_at_their_old_place_still_work_with_a_deprecation_warning(name):
    with pytest.warns(DeprecationWarning, match=f"toolkit.plugin.{name}"):
        old = getattr(toolkit, name)
    assert old is getattr(toolkit.plugin, name)


def test_an_old_style_import_still_works():
    code = ("import warnings\nwarnings.simplefilter('error', DeprecationWarning)\n"
            "try:\n    from toolkit import MetricSpec\nexcept DeprecationWarning as warning:\n    print(warning)\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.stdout.strip() == "toolkit.MetricSpec moved to toolkit.plugin.MetricSpec"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from toolkit import MetricSpec, hookimpl  # noqa: F401
        from toolkit.evaluation import evaluate
    assert evaluate is toolkit.evaluate


def test_registration_hooks_are_called_once_per_plugin_per_manager(make_plugin_manager):
    calls = {"metrics": 0, "statistics": 0, "trackers": 0}

    class Counting:
        @toolkit.plugin.hookimpl
        def toolkit_register_metrics(self):
            calls["metrics"] += 1
            return [toolkit.plugin.MetricSpec("counted_accuracy", lambda confusion: 1.0, ("confusion",), True)]

        @toolkit.plugin.hookimpl
        def toolkit_register_statistics(self):
            calls["statistics"] += 1
            return []

        @toolkit.plugin.hookimpl
        def toolkit_register_trackers(self):
            calls["trackers"] += 1
            return []

    manager = make_plugin_manager(Counting())
    for _ in range(3):
        assert "counted_accuracy" in manager.get_metrics()
        manager.get_statistics(), manager.get_trackers()
    manager.register(type("Other", (), {})(), "another-plugin")  # registering more reads only the new one
    toolkit.evaluate([0, 1, 1], [0, 1, 0], metrics=["counted_accuracy"], plugin_manager=manager)
    assert calls == {"metrics": 1, "statistics": 1, "trackers": 1}


def test_registration_calls_go_through_pluggy_so_monitoring_sees_them(make_plugin_manager):
    seen = []
    manager = make_plugin_manager(entry_points=False)
    manager.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append(name), lambda *args: None)

    class Late:
        @toolkit.plugin.hookimpl
        def toolkit_register_metrics(self):
            return [toolkit.plugin.MetricSpec("late_metric", lambda confusion: 0.0, ("confusion",), True)]

    manager.register(Late(), "late")
    assert seen == ["toolkit_register_metrics"] and "late_metric" in manager.get_metrics()
