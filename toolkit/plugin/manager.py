"""Builds the plugin manager: built-in plugins and entry points, blocking, validation, typed getters.

Nothing here runs at import time: callers ask for a manager with :func:`create_plugin_manager`
(a fresh one) or :func:`get_plugin_manager` (the process-wide one, built on first use).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Iterable, Iterator, Optional

import pluggy

from toolkit.plugin import hookspecs
from toolkit.plugin.markers import PROJECT_NAME
from toolkit.plugin.types import MetricSpec, StatisticSpec, TrackerSpec

ENTRY_POINT_GROUP = "toolkit.plugins"
DISABLE_ENVIRONMENT_VARIABLE = "TOOLKIT_DISABLE_PLUGINS"
# Built into the core and registered through the same call as any other plugin.
BUILTIN_PLUGINS = {"core": "toolkit.evaluation.statistics"}
# The project's own plugin distributions, named one by one: a prefix anyone can take would let a
# stranger's "toolkit-something" claim a built-in metric name first.
FIRST_PARTY_DISTRIBUTIONS = frozenset(
    {"toolkit-metrics", "toolkit-mlflow", "toolkit-wandb", "toolkit-keras", "toolkit-sklearn"})

# Callables that add plugins defined at run time in this process (``@toolkit.metric``) to a newly
# built manager; the module defining them appends here, so this module need not import it.
PROCESS_PLUGIN_SOURCES: list[Callable[["ToolkitPluginManager", bool], None]] = []

_REGISTRATION_HOOKS = {
    "toolkit_register_metrics": ("metric", MetricSpec),
    "toolkit_register_statistics": ("statistic", StatisticSpec),
    "toolkit_register_trackers": ("tracker", TrackerSpec),
}


class PluginError(Exception):
    """A plugin could not be loaded or contradicts another one (raised in strict mode)."""


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that was left out, with its distribution and the reason."""

    name: str
    distribution: str
    reason: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} from {self.distribution}: {self.reason}"


@dataclass(frozen=True)
class PluginInfo:
    """What ``toolkit plugins`` shows for one loaded plugin."""

    name: str
    distribution: str
    version: str
    hooks: tuple
    metrics: tuple
    statistics: tuple
    trackers: tuple


class ToolkitPluginManager(pluggy.PluginManager):
    """A pluggy manager with the toolkit's hooks and typed getters for what plugins register."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs.ToolkitHookspecs)
        self.broken: list[BrokenPlugin] = []
        self._distributions: dict[str, tuple[str, str]] = {}
        # kind -> spec name -> (spec, plugin name): filled as each plugin registers, in order, so
        # each registration hook is called once per plugin and an earlier plugin keeps a name.
        self._registry: dict[str, dict[str, tuple[Any, str]]] = {kind: {} for kind, _ in _REGISTRATION_HOOKS.values()}

    # --- registration ---------------------------------------------------------------------------

    def register(self, plugin: object, name: Optional[str] = None) -> Optional[str]:
        """Register ``plugin``, then read what it provides; a contradiction raises :class:`PluginError`."""
        plugin_name = super().register(plugin, name)
        if plugin_name is None:  # blocked
            return None
        try:
            self._check_hooks(plugin)
            provided = self._provided_by(plugin, plugin_name)
        except PluginError:
            super().unregister(plugin)
            raise
        for kind, specs in provided.items():
            for spec in specs:
                self._registry[kind][spec.name] = (spec, plugin_name)
        return plugin_name

    def unregister(self, plugin: object = None, name: Optional[str] = None) -> Any:
        plugin_name = name if name is not None else self.get_name(plugin)
        removed = super().unregister(plugin, name)
        for entries in self._registry.values():
            for spec_name in [key for key, (_, owner) in entries.items() if owner == plugin_name]:
                del entries[spec_name]
        return removed

    def register_distribution(
        self, plugin: object, name: str, distribution: str, version: str, strict: bool = False
    ) -> None:
        """Register a plugin that came from ``distribution``; a failure is reported, not raised."""
        self._distributions[name] = (distribution, version)
        try:
            self.register(plugin, name)
        except (PluginError, pluggy.PluginValidationError) as error:
            self._distributions.pop(name, None)
            self._report(BrokenPlugin(name, distribution, str(error)), strict)

    def _report(self, broken: BrokenPlugin, strict: bool) -> None:
        if strict:
            raise PluginError(str(broken))
        self.broken.append(broken)

    def distribution_of(self, plugin_name: str) -> str:
        """The distribution a plugin came from ("toolkit" for built-ins, "<local>" for others)."""
        if plugin_name in BUILTIN_PLUGINS:
            return "toolkit"
        return self._distributions.get(plugin_name, ("<local>", ""))[0]

    def _check_hooks(self, plugin: object) -> None:
        for caller in self.get_hookcallers(plugin) or ():
            if not caller.has_spec():
                known = [hook for hook in vars(self.hook) if getattr(self.hook, hook).has_spec()]
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise PluginError(f"implements {caller.name}, which is not a toolkit hook{hint}")

    def _provided_by(self, plugin: object, plugin_name: str) -> dict[str, list]:
        """What ``plugin`` registers, through pluggy (so tracing sees the calls), checked against
        the names already taken; each registration hook is called once for the plugin."""
        others = [other for _, other in self.list_name_plugin() if other is not None and other is not plugin]
        provided: dict[str, list] = {}
        for hook_name, (kind, spec_type) in _REGISTRATION_HOOKS.items():
            caller = getattr(self.hook, hook_name)
            if not any(impl.plugin is plugin for impl in caller.get_hookimpls()):
                continue
            try:
                results = self.subset_hook_caller(hook_name, remove_plugins=others)()
            except Exception as error:
                raise PluginError(f"{hook_name} raised {type(error).__name__}: {error}") from error
            specs = [spec for result in results for spec in (result or ())]
            wrong = [spec for spec in specs if not isinstance(spec, spec_type)]
            if wrong:
                raise PluginError(f"{hook_name} returned {wrong[0]!r}, not a {spec_type.__name__}")
            names = [spec.name for spec in specs]
            repeated = sorted({spec_name for spec_name in names if names.count(spec_name) > 1})
            if repeated:
                raise PluginError(f"{hook_name} returned the {kind} name(s) {repeated} more than once")
            for spec in specs:
                taken = self._registry[kind].get(spec.name)
                if taken is not None and taken[1] != plugin_name:
                    raise PluginError(
                        f"{kind} {spec.name!r} is registered by both "
                        f"{self.distribution_of(taken[1])} (plugin {taken[1]!r}) and "
                        f"{self.distribution_of(plugin_name)} (plugin {plugin_name!r})"
                    )
            provided[kind] = specs
        return provided

    # --- typed getters --------------------------------------------------------------------------

    def provider_of(self, kind: str, name: str) -> Optional[str]:
        """The plugin that registered the ``kind`` ("metric", "statistic", "tracker") ``name``."""
        entry = self._registry[kind].get(name)
        return None if entry is None else entry[1]

    def get_metrics(self) -> dict[str, MetricSpec]:
        """Every registered metric by name."""
        return {name: spec for name, (spec, _) in self._registry["metric"].items()}

    def get_statistics(self) -> dict[str, StatisticSpec]:
        """Every registered statistic by name."""
        return {name: spec for name, (spec, _) in self._registry["statistic"].items()}

    def get_trackers(self) -> dict[str, TrackerSpec]:
        """Every registered tracker by name."""
        return {name: spec for name, (spec, _) in self._registry["tracker"].items()}

    def get_model_adapter(self, model: Any) -> Any:
        """The first adapter a plugin offers for ``model``, or None."""
        return self.hook.toolkit_model_adapter(model=model)

    def build_model(
        self, framework: str, spec: Any, input_shape: tuple, labels: Any, seed: Optional[int] = None
    ) -> Any:
        """The model the first willing plugin builds from a config's ``model:`` section, or None."""
        return self.hook.toolkit_build_model(
            framework=framework, spec=spec, input_shape=tuple(input_shape), labels=list(labels), seed=seed
        )

    def plugin_infos(self) -> list[PluginInfo]:
        """One entry per loaded plugin: its distribution, version, hooks and what it provides."""
        registry = self._registry
        infos = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:
                continue
            distribution, version = self._distributions.get(name, (self.distribution_of(name), ""))
            if name in BUILTIN_PLUGINS:
                version = _version_of("toolkit")
            hooks = tuple(sorted(caller.name for caller in self.get_hookcallers(plugin) or ()))

            def provided(kind: str) -> tuple:
                return tuple(spec for spec, (_, owner) in registry[kind].items() if owner == name)

            infos.append(PluginInfo(name, distribution, version, hooks,
                                    provided("metric"), provided("statistic"), provided("tracker")))
        return infos


def _version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def disabled_plugin_names(environ: Optional[dict] = None) -> set[str]:
    """Plugin names listed in ``TOOLKIT_DISABLE_PLUGINS`` (comma separated)."""
    value = (environ if environ is not None else os.environ).get(DISABLE_ENVIRONMENT_VARIABLE, "")
    return {name.strip() for name in value.split(",") if name.strip()}


def create_plugin_manager(
    *,
    strict: bool = False,
    load_entry_points: bool = True,
    disabled: Optional[Iterable[str]] = None,
    include_script_metrics: bool = True,
) -> ToolkitPluginManager:
    """A fresh plugin manager holding the built-in plugins and every installed plugin.

    :param strict: raise :class:`PluginError` for a plugin that fails to import or contradicts
        another one, instead of reporting it in ``manager.broken`` and loading the rest.
    :param load_entry_points: load the ``toolkit.plugins`` entry points (False: built-ins only).
    :param disabled: plugin names to block; defaults to ``TOOLKIT_DISABLE_PLUGINS``.
    :param include_script_metrics: also register the metrics defined with ``@toolkit.metric``
        in this process (they come after the installed plugins, so an installed metric keeps
        a contested name and the script metric is reported).
    """
    import importlib

    manager = ToolkitPluginManager()
    blocked = set(disabled) if disabled is not None else disabled_plugin_names()
    for name in blocked:
        manager.set_blocked(name)
    for name, module_name in BUILTIN_PLUGINS.items():
        manager.register(importlib.import_module(module_name), name)
    if load_entry_points:
        entry_points = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_load_order)
        for entry_point in entry_points:
            if entry_point.name in blocked or manager.has_plugin(entry_point.name):
                continue
            distribution = entry_point.dist.name if entry_point.dist else "<unknown>"
            version = entry_point.dist.version if entry_point.dist else ""
            try:
                plugin = entry_point.load()
            except Exception as error:  # an import error of one plugin must not stop the rest
                manager._report(
                    BrokenPlugin(entry_point.name, distribution,
                                 f"failed to import: {type(error).__name__}: {error}"),
                    strict,
                )
                continue
            manager.register_distribution(plugin, entry_point.name, distribution, version, strict)
    if include_script_metrics:
        for add_plugins in PROCESS_PLUGIN_SOURCES:
            add_plugins(manager, strict)
    from toolkit.plugin.tracing import trace_if_requested  # TOOLKIT_TRACE_PLUGINS=1: hook calls to stderr

    trace_if_requested(manager)
    return manager


def _load_order(entry_point: metadata.EntryPoint) -> tuple:
    """The project's own distributions (FIRST_PARTY_DISTRIBUTIONS) first, then the rest by name: when two
    plugins claim one metric name, the earlier keeps it, so a third-party plugin cannot silently
    replace a built-in metric; it is reported instead."""
    distribution = entry_point.dist.name if entry_point.dist else ""
    return (distribution not in FIRST_PARTY_DISTRIBUTIONS, distribution, entry_point.name)


_default_manager: Optional[ToolkitPluginManager] = None
_default_lock = threading.Lock()


def get_plugin_manager() -> ToolkitPluginManager:
    """The process-wide plugin manager, built on first use (never at import time)."""
    global _default_manager
    with _default_lock:
        if _default_manager is None:
            _default_manager = create_plugin_manager()
        return _default_manager


@contextlib.contextmanager
def use_plugin_manager(manager: ToolkitPluginManager) -> Iterator[ToolkitPluginManager]:
    """Make ``manager`` the process-wide one inside the block (tests, or an isolated session)."""
    global _default_manager
    if not isinstance(manager, ToolkitPluginManager):
        raise ValueError(f"manager must be a ToolkitPluginManager, got {type(manager).__name__}")
    with _default_lock:
        previous, _default_manager = _default_manager, manager
    try:
        yield manager
    finally:
        with _default_lock:
            _default_manager = previous


def reset_plugin_manager() -> None:
    """Forget the process-wide manager, so the next use rediscovers installed plugins."""
    global _default_manager
    with _default_lock:
        _default_manager = None
