"""Metrics defined in a script or notebook with ``@toolkit.metric``: a plugin without packaging.

Each metric becomes a one-metric plugin named ``script:<metric name>`` (distribution
``<script>``) in the process-wide plugin manager, so ``toolkit.evaluate`` and the Trainer use it
like any installed plugin metric. Managers created later include it too, until it is removed with
``toolkit.unregister_metric(name)`` or the returned handle's ``remove()``.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from typing import Any, Callable, Iterable, Mapping, Optional

from toolkit.plugin.manager import PROCESS_PLUGIN_SOURCES, PluginError, ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.markers import hookimpl
from toolkit.plugin.types import TASKS, MetricSpec

SCRIPT_DISTRIBUTION = "<script>"
PLUGIN_NAME_PREFIX = "script:"

# metric name -> handle, for metrics registered into the process-wide manager.
_script_metrics: dict[str, "ScriptMetric"] = {}
_lock = threading.RLock()


class ScriptMetric:
    """A metric registered with :func:`metric`: the plugin object, callable like its function."""

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        functools.update_wrapper(self, spec.compute)
        self._managers: "weakref.WeakSet[ToolkitPluginManager]" = weakref.WeakSet()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def plugin_name(self) -> str:
        return PLUGIN_NAME_PREFIX + self.spec.name

    @hookimpl
    def toolkit_register_metrics(self) -> list[MetricSpec]:
        return [self.spec]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.spec.compute(*args, **kwargs)

    def remove(self) -> None:
        """Unregister this metric from every manager holding it; ``evaluate`` and the Trainer
        no longer compute it, and managers created later do not include it."""
        with _lock:
            if _script_metrics.get(self.name) is self:
                del _script_metrics[self.name]
            for manager in list(self._managers):
                if manager.get_plugin(self.plugin_name) is self:
                    manager.unregister(name=self.plugin_name)
            self._managers.clear()

    def __repr__(self) -> str:
        return f"<toolkit.metric {self.name!r} needs={list(self.spec.needs)}>"


def _inferred_needs(function: Callable[..., Any], params: Mapping[str, Any]) -> tuple:
    """The function's argument names that are not params: ``def f(confusion, labels)`` needs both."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        raise ValueError(f"needs must be given: the signature of {function!r} cannot be read") from None
    return tuple(
        parameter.name for parameter in parameters
        if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and parameter.name not in params
    )


def metric(
    compute: Optional[Callable[..., Any]] = None,
    /,
    *,
    name: Optional[str] = None,
    needs: Optional[Iterable[str]] = None,
    higher_is_better: Optional[bool] = None,
    kind: str = "scalar",
    tasks: Iterable[str] = TASKS,
    description: Optional[str] = None,
    params: Optional[Mapping[str, Any]] = None,
    check_params: Optional[Callable[..., None]] = None,
    plugin_manager: Optional[ToolkitPluginManager] = None,
) -> Any:
    """Register ``compute`` as a metric, as a decorator or a plain call.

    ``@toolkit.metric(name="error_rate", needs=["confusion"], higher_is_better=False)`` above a
    function, or ``toolkit.metric(error_rate, higher_is_better=False)``. ``name`` defaults to the
    function's name, ``needs`` to its argument names (those not in ``params``), ``description``
    to the first line of its docstring. Registering a name again from a script replaces the
    earlier definition (re-running a notebook cell); a name an installed plugin already uses is
    a ValueError naming that distribution.

    :param plugin_manager: register there only (default: the process-wide manager, and every
        manager created after this call).
    :return: a :class:`ScriptMetric`: call it like the function, ``remove()`` it when done.
    """

    def register(function: Callable[..., Any]) -> ScriptMetric:
        if not callable(function):
            raise ValueError(f"compute must be callable, got {function!r}")
        function_name = getattr(function, "__name__", "<lambda>")
        if name is None and function_name == "<lambda>":
            raise ValueError("name is required for a lambda or a callable without __name__: "
                             "toolkit.metric(function, name=...)")
        chosen_params = dict(params or {})
        doc_lines = (inspect.getdoc(function) or "").strip().splitlines()
        if needs is None:
            chosen_needs = _inferred_needs(function, chosen_params)
        else:
            chosen_needs = (needs,) if isinstance(needs, str) else tuple(needs)
        spec = MetricSpec(
            name=name if name is not None else function_name,
            compute=function,
            needs=chosen_needs,
            higher_is_better=higher_is_better,
            kind=kind,
            tasks=tuple(tasks),
            description=description if description is not None else (doc_lines[0] if doc_lines else ""),
            params=chosen_params,
            check_params=check_params,
        )
        handle = ScriptMetric(spec)
        with _lock:
            manager = plugin_manager or get_plugin_manager()
            _register(manager, handle, strict=True)
            if plugin_manager is None:
                _script_metrics[spec.name] = handle
        return handle

    if compute is None:
        return register
    return register(compute)


def _register(manager: ToolkitPluginManager, handle: ScriptMetric, strict: bool) -> None:
    """Put ``handle`` into ``manager``, replacing an earlier script metric of the same name."""
    earlier = manager.get_plugin(handle.plugin_name)
    provider = manager.provider_of("metric", handle.name)
    if provider is not None and provider != handle.plugin_name:
        raise ValueError(
            f"name {handle.name!r} is already a metric of {manager.distribution_of(provider)} "
            f"(plugin {provider!r}); choose another name, or block that plugin with "
            "TOOLKIT_DISABLE_PLUGINS"
        )
    if earlier is not None:
        manager.unregister(name=handle.plugin_name)
    try:
        manager.register_distribution(handle, handle.plugin_name, SCRIPT_DISTRIBUTION, "", strict=strict)
    except PluginError as error:
        if earlier is not None:
            manager.register_distribution(earlier, earlier.plugin_name, SCRIPT_DISTRIBUTION, "", strict=True)
        raise ValueError(f"name {handle.name!r} cannot be used: {error}") from None
    handle._managers.add(manager)


def unregister_metric(name: str, *, plugin_manager: Optional[ToolkitPluginManager] = None) -> None:
    """Remove a metric registered with :func:`toolkit.metric`.

    Installed plugins' metrics are not removed this way: uninstall the distribution or block its
    plugin with ``TOOLKIT_DISABLE_PLUGINS``.
    """
    with _lock:
        manager = plugin_manager or get_plugin_manager()
        in_manager = manager.get_plugin(PLUGIN_NAME_PREFIX + name)
        process_wide = _script_metrics.get(name) if plugin_manager is None else None
        if in_manager is None and process_wide is None:
            registered = sorted(script_metric_names(manager))
            raise ValueError(
                f"name {name!r} is not a metric registered with toolkit.metric "
                f"(those are: {registered or 'none'}); installed plugins' metrics are removed by "
                "uninstalling their distribution or with TOOLKIT_DISABLE_PLUGINS"
            )
        for handle in (in_manager, process_wide):
            if handle is not None:
                handle.remove()


def script_metric_names(manager: ToolkitPluginManager) -> list[str]:
    """Names of the script metrics registered in ``manager``."""
    return [plugin_name[len(PLUGIN_NAME_PREFIX):] for plugin_name, plugin in manager.list_name_plugin()
            if isinstance(plugin, ScriptMetric)]


def register_script_metrics(manager: ToolkitPluginManager, strict: bool) -> None:
    """Add every process-wide script metric to a newly built ``manager``; a clash is reported."""
    with _lock:
        handles = list(_script_metrics.values())
    for handle in handles:
        if manager.has_plugin(handle.plugin_name) or manager.is_blocked(handle.plugin_name):
            continue
        manager.register_distribution(handle, handle.plugin_name, SCRIPT_DISTRIBUTION, "", strict=strict)
        if manager.get_plugin(handle.plugin_name) is handle:
            handle._managers.add(manager)


PROCESS_PLUGIN_SOURCES.append(register_script_metrics)


def saved_script_metrics() -> dict[str, ScriptMetric]:
    """A copy of the process-wide script metrics (the testing fixtures restore it after a test)."""
    with _lock:
        return dict(_script_metrics)


def restore_script_metrics(saved: Mapping[str, ScriptMetric]) -> None:
    """Make ``saved`` the process-wide script metrics again."""
    with _lock:
        _script_metrics.clear()
        _script_metrics.update(saved)
