"""The one API that plugins import: markers, spec dataclasses and the plugin manager."""

from toolkit.plugin.manager import (
    BrokenPlugin,
    PluginError,
    create_plugin_manager,
    get_plugin_manager,
    reset_plugin_manager,
    use_plugin_manager,
)
from toolkit.plugin.markers import hookimpl, hookspec
from toolkit.plugin.script_metrics import ScriptMetric, metric, unregister_metric
from toolkit.plugin.types import (
    COMMAND_TAG, Batch, DatasetDescription, MetricSpec, ModelDescription, Resamples, StatisticSpec, Tracker, TrackerLink, TrackerSpec,
)

__all__ = [
    "COMMAND_TAG", "Batch", "BrokenPlugin", "DatasetDescription", "MetricSpec", "ModelDescription", "PluginError", "Resamples", "ScriptMetric", "StatisticSpec",
    "Tracker", "TrackerLink", "TrackerSpec", "create_plugin_manager", "get_plugin_manager", "hookimpl",
    "hookspec", "metric", "reset_plugin_manager", "unregister_metric", "use_plugin_manager",
]
