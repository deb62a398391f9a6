"""The metric engine: input validation, one pass over batches, shared statistics, EvaluationResult."""

import warnings
from typing import Any

from toolkit.evaluation.engine import Evaluator
from toolkit.evaluation.result import EvaluationResult

__all__ = ["Evaluator", "EvaluationResult"]


def __getattr__(name: str) -> Any:
    # ``toolkit.evaluation.evaluate`` was public before the pipeline (toolkit/pipeline.py) held it.
    if name == "evaluate":
        warnings.warn("toolkit.evaluation.evaluate moved: use toolkit.evaluate", DeprecationWarning, stacklevel=2)
        from toolkit.pipeline import evaluate

        return evaluate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
