"""toolkit: plugin-extensible model evaluation, tracked to MLflow and W&B.

Importing this package loads only numpy and pluggy; plugins import their heavy libraries where
they use them, and no plugin manager is built until something asks for one.
"""

from toolkit.evaluation import EvaluationResult, Evaluator, evaluate
from toolkit.evaluation.paired import PairedComparison, PairedTest, paired_test
from toolkit.evaluation.thresholds import threshold_analysis
from toolkit.scale.files import evaluate_files
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
    metric,
    unregister_metric,
)
from toolkit.plugin.types import ModelAdapter
from toolkit.trainer import Trainer, TrainingHistory

__version__ = "0.1.0"

__all__ = [
    "Batch", "EvaluationResult", "Evaluator", "MetricSpec", "PluginError", "StatisticSpec",
    "ModelAdapter", "PairedComparison", "PairedTest", "Tracker", "TrackerLink", "TrackerSpec", "Trainer", "TrainingHistory",
    "create_plugin_manager", "evaluate", "evaluate_files", "get_plugin_manager", "hookimpl",
    "hookspec", "metric", "paired_test", "threshold_analysis", "unregister_metric",
]
