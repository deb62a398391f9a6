"""The one API that plugins import: markers, spec types, what hooks receive, and the shared policies.

A plugin, first-party or a stranger's, imports from here and nowhere else in the core (a test
enforces it for the plugins under plugins/): metric plugins get ``MetricSpec``,
``StatisticSpec``, ``ScoreTable``, ``Resamples``, curves and the threshold analysis; tracker
plugins get ``TrackerSpec``, ``TrackerLink``, ``EvaluationReport``, ``RunRecord`` (reading runs
back), ``RUN_STATUSES`` and the value/param policy helpers; adapters get ``ModelAdapter``.
See docs/architecture.md for where each kind of extension goes.
"""

from toolkit.errors import UsageError
from toolkit.evaluation.curves import MAX_CURVE_POINTS, Curve, Curves, downsample
from toolkit.evaluation.thresholds import ThresholdAnalysis, analyse as analyse_thresholds
from toolkit.plugin.manager import (
    BrokenPlugin,
    PluginError,
    ToolkitPluginManager,
    create_plugin_manager,
    get_plugin_manager,
    reset_plugin_manager,
    use_plugin_manager,
)
from toolkit.plugin.markers import hookimpl, hookspec
from toolkit.plugin.records import (
    EVALUATION_FOLDER, STEP_FOLDER, RunRecord, RunSummary, evaluation_folder_name, latest_evaluation_folder,
    read_evaluation_folder,
)
from toolkit.plugin.script_metrics import ScriptMetric, metric, unregister_metric
from toolkit.plugin.types import (
    RUN_STATUSES,
    Batch,
    EpochCallback,
    MetricSpec,
    ModelAdapter,
    Resamples,
    RunView,
    ScoreTable,
    StatisticSpec,
    Tracker,
    TrackerLink,
    TrackerReader,
    TrackerSpec,
)
from toolkit.reporting.figures import confusion_figure, curves_figure
from toolkit.tracking.params import param_text
from toolkit.tracking.redaction import strip_url_credentials
from toolkit.tracking.report import EvaluationReport, json_ready
from toolkit.tracking.values import TrackingWarning

__all__ = [
    "Batch", "BrokenPlugin", "EVALUATION_FOLDER", "STEP_FOLDER", "evaluation_folder_name", "latest_evaluation_folder", "Curve", "Curves", "confusion_figure", "curves_figure", "EpochCallback", "EvaluationReport", "MAX_CURVE_POINTS",
    "MetricSpec", "ModelAdapter", "PluginError", "RUN_STATUSES", "Resamples", "RunRecord", "RunSummary",
    "RunView", "ScoreTable", "ScriptMetric", "StatisticSpec", "ThresholdAnalysis", "ToolkitPluginManager",
    "Tracker", "TrackerLink", "TrackerReader", "TrackerSpec", "TrackingWarning", "UsageError", "analyse_thresholds",
    "create_plugin_manager", "downsample", "get_plugin_manager", "hookimpl", "hookspec", "json_ready",
    "metric", "param_text", "read_evaluation_folder", "reset_plugin_manager", "strip_url_credentials",
    "unregister_metric", "use_plugin_manager",
]
