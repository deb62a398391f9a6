"""EvaluationResult: what the metric engine returns, the same for evaluate, Evaluator and Trainer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from toolkit.evaluation import confusion


@dataclass(frozen=True)
class EvaluationResult:
    """Metric values, the class labels in order, the confusion matrix and any warnings.

    ``confusion_matrix`` has rows = true label and columns = predicted label, in the order of
    ``labels``; counts are integers, or floats when sample weights were given. ``intervals``
    maps metric keys to bootstrap ``(low, high)`` confidence intervals (when ``ci`` was asked
    for), drawn as ``interval_method`` says (level, bootstrap, resamples, seed), and ``gates``
    lists each quality gate's outcome (when gates were given). ``slices``
    maps slice names (``"region=north"``) to each slice's own result (when ``slice_by`` was
    given); trackers get their metrics as ``slice/<column>/<value>/<metric>``. Beyond 1,024
    labels ``confusion_matrix`` is a :class:`toolkit.evaluation.confusion.SparseConfusion` (the
    occurring cells only; ``toarray()`` gives the dense matrix). ``predictions`` holds the
    checked inputs when they were kept to be stored with a tracked run (else None).
    """

    metrics: dict[str, float]
    labels: list
    confusion_matrix: np.ndarray
    warnings: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    task: str = "multiclass"
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    gates: list = field(default_factory=list)  # GateResult, one per gate, in the order given
    # How ``intervals`` were drawn: {"level", "bootstrap" (multinomial/poisson), "resamples", "seed"}
    interval_method: Mapping[str, Any] = field(default_factory=dict)
    # slice name ("region=north") -> that slice's EvaluationResult (toolkit.evaluation.slices.SliceResults)
    slices: Mapping[str, "EvaluationResult"] = field(default_factory=dict)
    # The checked inputs (toolkit.plugin.records.Predictions) when the evaluation keeps them for its trackers.
    predictions: Any = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when every gate passed (and when there are none)."""
        return all(outcome.passed for outcome in self.gates)

    def failed_gates(self) -> list:
        return [outcome for outcome in self.gates if not outcome.passed]

    def logged_metrics(self) -> dict[str, float]:
        """What trackers record: the metrics plus ``<key>_ci_low`` and ``<key>_ci_high``, and each
        slice's under ``slice/<column>/<value>/`` (see :mod:`toolkit.evaluation.slices`)."""
        logged = dict(self.metrics)
        for key, (low, high) in self.intervals.items():
            logged[f"{key}_ci_low"], logged[f"{key}_ci_high"] = low, high
        if self.slices:
            logged.update(self.slices.tracker_metrics())
        return logged

    def __getitem__(self, key: str) -> float:
        return self.metrics[key]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None, as JSON has no NaN)."""
        return {
            "task": self.task,
            "labels": list(self.labels),
            "metrics": {key: None if math.isnan(value) else value for key, value in self.metrics.items()},
            "confusion_matrix": confusion.to_json(self.confusion_matrix),
            "warnings": list(self.warnings),
            "intervals": {key: [_json_number(low), _json_number(high)] for key, (low, high) in self.intervals.items()},
            "gates": [outcome.to_dict() for outcome in self.gates],
            **({"interval_method": dict(self.interval_method)} if self.interval_method else {}),
            **({"slices": {name: result.to_dict() for name, result in self.slices.items()}} if self.slices else {}),
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value:.4g}" for key, value in list(self.metrics.items())[:6])
        more = f", ... {len(self.metrics) - 6} more" if len(self.metrics) > 6 else ""
        return f"EvaluationResult({self.task}, {len(self.labels)} labels: {shown}{more})"


def _json_number(value: float):
    return None if math.isnan(value) else value
