"""toolkit: plugin-extensible model evaluation, tracked to MLflow and W&B.

Importing this package loads only numpy and pluggy; plugins import their heavy libraries where
they use them, and no plugin manager is built until something asks for one.
"""

from toolkit.evaluation import EvaluationResult, Evaluator, evaluate
from toolkit.evaluation.thresholds import threshold_analysis
from toolkit.plugin import (
    Batch,
    MetricSpec,
    PluginError,
    StatisticSpec,
    Tracker,
    TrackerLink,
    TrackerSpec,
    create_plugin_manager,
    get_plugin_manager,
    hookimpl,
    hookspec,
)

__version__ = "0.1.0"

__all__ = [
    "Batch", "EvaluationResult", "Evaluator", "MetricSpec", "PluginError", "StatisticSpec",
    "Tracker", "TrackerLink", "TrackerSpec", "create_plugin_manager", "evaluate", "get_plugin_manager",
    "hookimpl", "hookspec", "threshold_analysis",
]
