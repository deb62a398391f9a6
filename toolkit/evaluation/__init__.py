"""The metric engine: input validation, one pass over batches, shared statistics, EvaluationResult."""

from toolkit.evaluation.engine import Evaluator, evaluate
from toolkit.evaluation.result import EvaluationResult

__all__ = ["Evaluator", "EvaluationResult", "evaluate"]
