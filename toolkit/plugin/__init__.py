"""The one API that plugins import: markers, spec types, what hooks receive, and the shared policies.

A plugin, first-party or a stranger's, imports from here and nowhere else in the core (a test
enforces it for the plugins under plugins/): metric plugins get ``MetricSpec``,
``StatisticSpec``, ``ScoreTable``, ``Resamples``, curves and the threshold analysis,
``SparseConfusion`` (the confusion counts beyond 1,024 labels), ``weight_scale`` (scale-free
weights) and ``cpu_idle_now``/``idle_cpus``/``usable_cpus`` (whether threads would find a free CPU); tracker
plugins get ``TrackerSpec``, ``TrackerLink``, ``EvaluationReport``, ``RunRecord`` (reading runs
back; ``Predictions`` and ``read_predictions`` for an evaluation's stored inputs), ``RUN_STATUSES``
and the value/param policy helpers, ``DatasetDescription`` and
``ModelDescription`` (what the optional ``log_dataset``/``log_model`` receive), and ``Run`` (to
record into a run, as the MLflow evaluator does); adapters get ``ModelAdapter`` (and
``import_class``/``ESTIMATOR_SOURCES`` for the classes a config names).
See docs/architecture.md for where each kind of extension goes.
"""

from toolkit.importing import ESTIMATOR_SOURCES, import_class
from toolkit.errors import UsageError
from toolkit.evaluation.concurrency import cpu_idle_now, idle_cpus, usable_cpus
from toolkit.evaluation.confusion import SparseConfusion
from toolkit.evaluation.curves import MAX_CURVE_POINTS, Curve, Curves, downsample
from toolkit.evaluation.gates import GATE_TAG_PREFIX, OUTCOME_TAG as GATE_OUTCOME_TAG
from toolkit.evaluation.inputs import weight_scale
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
    EVALUATION_FOLDER, FINGERPRINT_TAG, PREDICTIONS_FILE, STEP_FOLDER, Predictions, RunRecord, RunSummary,
    evaluation_folder_name, is_readable_logged_file, latest_evaluation_folder, read_evaluation_folder,
    read_logged_files, read_predictions,
)
from toolkit.plugin.script_metrics import ScriptMetric, metric, unregister_metric
from toolkit.plugin.types import (
    COMMAND_TAG,
    RUN_STATUSES,
    Batch,
    DatasetDescription,
    EpochCallback,
    MetricSpec,
    ModelAdapter,
    ModelDescription,
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
from toolkit.run import Run
from toolkit.tracking.params import param_text
from toolkit.tracking.redaction import strip_url_credentials
from toolkit.tracking.report import EvaluationReport, json_ready
from toolkit.tracking.values import TrackingWarning

__all__ = [
    "Batch", "BrokenPlugin", "COMMAND_TAG", "Curve", "Curves", "DatasetDescription", "ESTIMATOR_SOURCES",
    "EVALUATION_FOLDER", "EpochCallback", "EvaluationReport", "FINGERPRINT_TAG", "GATE_OUTCOME_TAG", "GATE_TAG_PREFIX",
    "MAX_CURVE_POINTS", "MetricSpec", "ModelAdapter", "ModelDescription", "PREDICTIONS_FILE", "PluginError",
    "Predictions", "RUN_STATUSES",
    "Resamples", "Run", "RunRecord", "RunSummary", "STEP_FOLDER", "confusion_figure", "curves_figure",
    "evaluation_folder_name", "is_readable_logged_file", "latest_evaluation_folder", "read_logged_files",
    "RunView", "ScoreTable", "ScriptMetric", "SparseConfusion", "StatisticSpec", "ThresholdAnalysis", "ToolkitPluginManager",
    "Tracker", "TrackerLink", "TrackerReader", "TrackerSpec", "TrackingWarning", "UsageError", "analyse_thresholds",
    "cpu_idle_now", "create_plugin_manager", "downsample", "get_plugin_manager", "hookimpl", "hookspec", "idle_cpus",
    "import_class", "json_ready",
    "metric", "param_text", "read_evaluation_folder", "read_predictions", "reset_plugin_manager", "strip_url_credentials",
    "unregister_metric", "usable_cpus", "use_plugin_manager", "weight_scale",
]
