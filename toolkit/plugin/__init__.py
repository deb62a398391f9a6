"""The one API that plugins import: markers, spec dataclasses and the plugin manager."""

from toolkit.plugin.manager import (
    BrokenPlugin,
    PluginError,
    create_plugin_manager,
    get_plugin_manager,
)
from toolkit.plugin.markers import hookimpl, hookspec
from toolkit.plugin.types import Batch, MetricSpec, Resamples, StatisticSpec, Tracker, TrackerLink, TrackerSpec

__all__ = [
    "Batch", "BrokenPlugin", "MetricSpec", "PluginError", "Resamples", "StatisticSpec", "Tracker", "TrackerLink",
    "TrackerSpec",
    "create_plugin_manager", "get_plugin_manager", "hookimpl", "hookspec",
]
