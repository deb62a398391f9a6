"""toolkit: plugin-extensible model evaluation, tracked to MLflow and W&B.

Importing this package loads only numpy and pluggy; plugins import their heavy libraries where
they use them, and no plugin manager is built until something asks for one.
"""

import warnings
from typing import Any

from toolkit.errors import UsageError
from toolkit.evaluation import EvaluationResult, Evaluator
from toolkit.evaluation.thresholds import threshold_analysis
from toolkit.pipeline import evaluate
from toolkit.plugin import metric, unregister_metric
from toolkit.scale.files import evaluate_files
from toolkit.trainer import Trainer, TrainingHistory

__version__ = "0.1.0"

__all__ = [
    "EvaluationResult", "Evaluator", "Trainer", "TrainingHistory", "UsageError", "evaluate", "evaluate_files",
    "metric", "threshold_analysis", "unregister_metric",
]

# Plugin-author names now live in toolkit.plugin; the old top-level spellings keep working.
_MOVED_TO_PLUGIN = frozenset({
    "Batch", "MetricSpec", "ModelAdapter", "PluginError", "StatisticSpec", "Tracker", "TrackerLink",
    "TrackerSpec", "create_plugin_manager", "get_plugin_manager", "hookimpl", "hookspec",
})


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_PLUGIN:
        warnings.warn(f"toolkit.{name} moved to toolkit.plugin.{name}", DeprecationWarning, stacklevel=2)
        from toolkit import plugin

        return getattr(plugin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
