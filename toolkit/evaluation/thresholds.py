"""Threshold analysis of a binary classifier: precision, recall, F1 and FPR at every distinct threshold.

An example is predicted positive when its score is >= the threshold. The operating points (the
threshold that maximises F1, the threshold that reaches a target precision or recall) are found
on every distinct threshold; the table kept for plots and CSV is downsampled to at most
``max_points`` rows, always keeping those operating points.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from toolkit.evaluation import inputs

MAX_POINTS = 1000
COLUMNS = ("threshold", "precision", "recall", "f1", "fpr", "true_positives", "false_positives")


@dataclass(frozen=True)
class OperatingPoint:
    """The classifier's quality when everything scored >= ``threshold`` is called positive."""

    threshold: float
    precision: float
    recall: float
    f1: float
    fpr: float

    def to_dict(self) -> dict[str, float]:
        return {"threshold": self.threshold, "precision": self.precision, "recall": self.recall,
                "f1": self.f1, "fpr": self.fpr}


@dataclass(frozen=True)
class ThresholdAnalysis:
    """The precision/recall trade-off of one binary score, as a table and operating points.

    ``table`` maps each of :data:`COLUMNS` to an array, thresholds ascending, at most
    ``max_points`` rows. ``best_f1`` is the (lowest) threshold with the highest F1; ``targets``
    holds the operating points found for ``target_precision`` / ``target_recall`` (None when no
    threshold reaches the target). :meth:`at_precision` and :meth:`at_recall` answer new targets
    exactly, from every distinct threshold.
    """

    positive_label: Any
    table: dict[str, np.ndarray]
    best_f1: Optional[OperatingPoint]
    n_thresholds: int
    targets: dict[str, Optional[OperatingPoint]] = field(default_factory=dict)
    max_points: int = MAX_POINTS
    _full: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.table["threshold"].shape[0])

    def at_precision(self, target: float) -> Optional[OperatingPoint]:
        """The lowest threshold whose precision is >= ``target``: the most recall at that precision."""
        _check_target(target, "target_precision")
        reached = np.flatnonzero(self._full["precision"] >= target)
        return _point(self._full, int(reached[0])) if reached.size else None

    def at_recall(self, target: float) -> Optional[OperatingPoint]:
        """The highest threshold whose recall is >= ``target``: the most precision at that recall.

        Recall only falls as the threshold rises, so the lowest threshold always reaches any
        recall (everything is called positive); the useful answer is the highest one that still does.
        """
        _check_target(target, "target_recall")
        reached = np.flatnonzero(self._full["recall"] >= target)
        return _point(self._full, int(reached[-1])) if reached.size else None

    def rows(self) -> list[dict[str, float]]:
        return [{column: float(self.table[column][index]) for column in COLUMNS} for index in range(len(self))]

    def to_csv(self) -> str:
        """The table as CSV text, one row per threshold, with a header."""
        buffer = io.StringIO()
        buffer.write(",".join(COLUMNS) + "\n")
        for row in self.rows():
            buffer.write(",".join(repr(row[column]) for column in COLUMNS) + "\n")
        return buffer.getvalue()

    def summary(self) -> dict[str, float]:
        """Operating points as flat scalar keys: ``best_f1_threshold``, ``best_f1``, and per target."""
        flat: dict[str, float] = {}
        if self.best_f1 is not None:
            flat["best_f1_threshold"], flat["best_f1"] = self.best_f1.threshold, self.best_f1.f1
        for name, point in self.targets.items():
            flat[f"threshold_at_{name}"] = math.nan if point is None else point.threshold
        return flat

    def with_targets(self, target_precision: Optional[float] = None,
                     target_recall: Optional[float] = None) -> "ThresholdAnalysis":
        """A copy with the operating points for these targets added to ``targets`` (and the table)."""
        targets = dict(self.targets)
        if target_precision is not None:
            targets[f"precision_{target_precision:g}"] = self.at_precision(target_precision)
        if target_recall is not None:
            targets[f"recall_{target_recall:g}"] = self.at_recall(target_recall)
        keep = [point.threshold for point in [self.best_f1, *targets.values()] if point is not None]
        table = _downsample(self._full, self.max_points, keep)
        return ThresholdAnalysis(self.positive_label, table, self.best_f1, self.n_thresholds, targets,
                                 self.max_points, self._full)

    def figure(self):
        """A matplotlib Figure: precision, recall, F1 and FPR against the threshold (needs matplotlib)."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6.4, 4.2), dpi=100)
        axes = figure.subplots()
        for column, style in (("precision", "-"), ("recall", "-"), ("f1", "-"), ("fpr", "--")):
            axes.plot(self.table["threshold"], self.table[column], style, label=column.upper() if column == "fpr" else column)
        if self.best_f1 is not None:
            axes.axvline(self.best_f1.threshold, color="grey", linestyle=":",
                         label=f"best F1 {self.best_f1.f1:.3f} at {self.best_f1.threshold:.3g}")
        axes.set_xlabel(f"threshold (positive class {self.positive_label!s}: score >= threshold)")
        axes.set_ylabel("value")
        axes.set_ylim(-0.02, 1.02)
        axes.set_title("Threshold analysis")
        axes.legend(loc="best", fontsize="small")
        figure.tight_layout()
        return figure


def _check_target(target: Any, argument: str) -> None:
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 <= target <= 1:
        raise ValueError(f"{argument} must be a number between 0 and 1, got {target!r}")


def _point(full: dict[str, np.ndarray], index: int) -> OperatingPoint:
    return OperatingPoint(*(float(full[column][index]) for column in ("threshold", "precision", "recall", "f1", "fpr")))


def _downsample(full: dict[str, np.ndarray], max_points: int, keep: Sequence[float]) -> dict[str, np.ndarray]:
    """At most ``max_points`` rows, evenly spaced by rank, always including the ``keep`` thresholds."""
    count = full["threshold"].shape[0]
    if count <= max_points:
        return {column: values.copy() for column, values in full.items()}
    kept = np.searchsorted(full["threshold"], np.asarray(sorted(set(keep)), dtype=np.float64))
    kept = np.unique(np.clip(kept, 0, count - 1))
    spaced = np.unique(np.linspace(0, count - 1, max(max_points - kept.size, 2)).round().astype(np.intp))
    chosen = np.union1d(spaced, kept)
    if chosen.size > max_points:  # drop evenly spaced rows (never a kept one) until it fits
        spare = np.setdiff1d(chosen, kept)
        drop = spare[np.linspace(1, spare.size - 2, chosen.size - max_points).round().astype(np.intp)]
        chosen = np.setdiff1d(chosen, drop)
    return {column: values[chosen] for column, values in full.items()}


def analyse(
    positive: np.ndarray,
    scores: np.ndarray,
    sample_weight: Optional[np.ndarray] = None,
    *,
    positive_label: Any = 1,
    target_precision: Optional[float] = None,
    target_recall: Optional[float] = None,
    max_points: int = MAX_POINTS,
) -> ThresholdAnalysis:
    """The analysis from validated arrays: ``positive`` (bool, N), ``scores`` (float, N), weights or None."""
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 2:
        raise ValueError(f"max_points must be an integer >= 2, got {max_points!r}")
    if target_precision is not None:
        _check_target(target_precision, "target_precision")
    if target_recall is not None:
        _check_target(target_recall, "target_recall")
    weights = np.ones(scores.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    order = np.argsort(scores, kind="stable")[::-1]  # descending: a running sum is "score >= threshold"
    sorted_scores = scores[order]
    positive_weight = np.where(positive[order], weights[order], 0.0)
    negative_weight = weights[order] - positive_weight
    # the last row of each run of equal scores: everything down to it is predicted positive
    ends = np.flatnonzero(np.concatenate((sorted_scores[1:] != sorted_scores[:-1], [True])))
    running_positive, running_negative = np.cumsum(positive_weight), np.cumsum(negative_weight)
    true_positives = running_positive[ends][::-1]
    false_positives = running_negative[ends][::-1]
    thresholds = sorted_scores[ends][::-1].astype(np.float64)
    # totals from the same running sums, so the lowest threshold's recall and FPR are exactly 1
    positives, negatives = float(running_positive[-1]), float(running_negative[-1])
    if positives == 0:
        warnings.warn("threshold analysis: y_true holds no positive example; recall and F1 are 0")
    if negatives == 0:
        warnings.warn("threshold analysis: y_true holds no negative example; FPR is 0")
    full = {
        "threshold": thresholds,
        "precision": _ratio(true_positives, true_positives + false_positives),
        "recall": _ratio(true_positives, np.full_like(true_positives, positives)),
        "f1": _ratio(2 * true_positives, true_positives + false_positives + positives),
        "fpr": _ratio(false_positives, np.full_like(false_positives, negatives)),
        "true_positives": true_positives,
        "false_positives": false_positives,
    }
    best = _point(full, int(np.argmax(full["f1"]))) if positives > 0 else None
    analysis = ThresholdAnalysis(positive_label, {}, best, int(thresholds.shape[0]), {}, max_points, full)
    return analysis.with_targets(target_precision, target_recall)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def threshold_analysis(
    y_true: Any,
    y_score: Any,
    *,
    labels: Optional[Sequence] = None,
    sample_weight: Any = None,
    target_precision: Optional[float] = None,
    target_recall: Optional[float] = None,
    max_points: int = MAX_POINTS,
) -> ThresholdAnalysis:
    """Precision, recall, F1 and FPR at every distinct threshold of a binary score.

    ``y_score`` is (N,) scores of the positive class ``labels[1]`` or (N, 2) columns in the order
    of ``labels``; ``labels`` defaults to the sorted values of ``y_true`` (or [0, 1]).
    """
    true_values = inputs.as_label_array(y_true, "y_true")
    if labels is None:
        labels = inputs.infer_labels(true_values, None, np.asarray(y_score))
    labels = inputs.check_labels(labels)
    if len(labels) != 2:
        raise ValueError(f"labels: threshold analysis is for binary tasks, got {len(labels)} labels {list(labels)}")
    scores = inputs.check_scores(y_score, true_values.shape[0], labels)[:, 1]
    weights = inputs.check_weights(sample_weight, true_values.shape[0])
    codes = inputs.encode(true_values, labels, "y_true")
    return analyse(codes == 1, scores, weights, positive_label=labels[1], target_precision=target_precision,
                   target_recall=target_recall, max_points=max_points)
