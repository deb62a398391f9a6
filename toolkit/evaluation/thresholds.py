"""Threshold analysis of a binary classifier: precision, recall, F1 and FPR at every distinct threshold.

An example is predicted positive when its score is >= the threshold. The operating points (the
threshold that maximises F1, the threshold that reaches a target precision or recall) are found
on every distinct threshold; the table kept for plots and CSV is downsampled to at most
``max_points`` rows, always keeping those operating points.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

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


class ThresholdAnalysis:
    """The precision/recall trade-off of one binary score, as a table and operating points.

    ``table`` maps each of :data:`COLUMNS` to an array, thresholds ascending, at most
    ``max_points`` rows. ``best_f1`` is the (lowest) threshold with the highest F1; ``targets``
    holds the operating points found for ``target_precision`` / ``target_recall`` (None when no
    threshold reaches the target). :meth:`at_precision` and :meth:`at_recall` answer new targets
    exactly, from every distinct threshold.

    An analysis made by an evaluation is computed on first use, so an evaluation that nobody
    looks at pays nothing for it.
    """

    # How a tracker recognises this artifact without importing the class (see EvaluationReport).
    artifact_kind = "threshold_analysis"

    def __init__(
        self,
        positive_label: Any,
        compute: Callable[[], dict[str, np.ndarray]],
        targets: Optional[dict[str, Optional[OperatingPoint]]] = None,
        max_points: int = MAX_POINTS,
    ) -> None:
        self.positive_label = positive_label
        self.max_points = max_points
        self._compute: Optional[Callable[[], dict[str, np.ndarray]]] = compute
        self._full: Optional[dict[str, np.ndarray]] = None
        self._targets = dict(targets or {})
        self._table: Optional[dict[str, np.ndarray]] = None

    @property
    def full(self) -> dict[str, np.ndarray]:
        """Every distinct threshold's row (not downsampled)."""
        if self._full is None:
            assert self._compute is not None
            self._full = self._compute()
            self._compute = None  # drop the reference to the scores once computed
        return self._full

    def __getstate__(self) -> dict[str, Any]:
        """Pickled computed (a run's journal keeps evaluations on disk): the lazy function goes."""
        self.full
        return dict(self.__dict__)

    @property
    def n_thresholds(self) -> int:
        return int(self.full["threshold"].shape[0])

    @property
    def best_f1(self) -> Optional[OperatingPoint]:
        full = self.full
        if full["true_positives"].size == 0 or full["true_positives"][0] == 0:
            return None  # no positive example: F1 is 0 at every threshold
        # the lowest of the thresholds tied for the best F1 (ties within rounding count as ties)
        f1 = full["f1"]
        return _point(full, int(np.flatnonzero(f1 >= f1.max() - 1e-12)[0]))

    @property
    def targets(self) -> dict[str, Optional[OperatingPoint]]:
        return dict(self._targets)

    @property
    def table(self) -> dict[str, np.ndarray]:
        if self._table is None:
            keep = [point.threshold for point in [self.best_f1, *self._targets.values()] if point is not None]
            self._table = _downsample(self.full, self.max_points, keep)
        return self._table

    def __len__(self) -> int:
        return int(self.table["threshold"].shape[0])

    def __repr__(self) -> str:
        if self._full is None:
            return f"ThresholdAnalysis(positive {self.positive_label!r}, not computed yet)"
        return f"ThresholdAnalysis(positive {self.positive_label!r}, {self.n_thresholds} thresholds, best F1 {self.best_f1})"

    def at_precision(self, target: float) -> Optional[OperatingPoint]:
        """The lowest threshold whose precision is >= ``target``: the most recall at that precision."""
        _check_target(target, "target_precision")
        reached = np.flatnonzero(self.full["precision"] >= target)
        return _point(self.full, int(reached[0])) if reached.size else None

    def at_recall(self, target: float) -> Optional[OperatingPoint]:
        """The highest threshold whose recall is >= ``target``: the most precision at that recall.

        Recall only falls as the threshold rises, so the lowest threshold always reaches any
        recall (everything is called positive); the useful answer is the highest one that still does.
        """
        _check_target(target, "target_recall")
        reached = np.flatnonzero(self.full["recall"] >= target)
        return _point(self.full, int(reached[-1])) if reached.size else None

    def with_targets(self, target_precision: Optional[float] = None,
                     target_recall: Optional[float] = None) -> "ThresholdAnalysis":
        """A copy with the operating points for these targets added to ``targets`` (and the table)."""
        targets = dict(self._targets)
        if target_precision is not None:
            targets[f"precision_{target_precision:g}"] = self.at_precision(target_precision)
        if target_recall is not None:
            targets[f"recall_{target_recall:g}"] = self.at_recall(target_recall)
        full = self.full
        return ThresholdAnalysis(self.positive_label, lambda: full, targets, self.max_points)

    def rows(self) -> list[dict[str, float]]:
        table = self.table
        return [{column: float(table[column][index]) for column in COLUMNS} for index in range(len(self))]

    def to_csv(self) -> str:
        """The table as CSV text, one row per threshold, with a header."""
        buffer = io.StringIO()
        buffer.write(",".join(COLUMNS) + "\n")
        for row in self.rows():
            buffer.write(",".join(repr(row[column]) for column in COLUMNS) + "\n")
        return buffer.getvalue()

    def summary(self) -> dict[str, Any]:
        """The operating points as JSON-ready data: positive label, best F1, targets, sizes."""
        return {
            "positive_label": str(self.positive_label),
            "n_thresholds": self.n_thresholds,
            "rows": len(self),
            "best_f1": None if self.best_f1 is None else self.best_f1.to_dict(),
            "targets": {name: None if point is None else point.to_dict() for name, point in self._targets.items()},
        }

    def figure(self):
        """A matplotlib Figure: precision, recall, F1 and FPR against the threshold (needs matplotlib)."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6.4, 4.2), dpi=100, layout="constrained")
        axes = figure.subplots()
        table = self.table
        for column, style in (("precision", "-"), ("recall", "-"), ("f1", "-"), ("fpr", "--")):
            axes.plot(table["threshold"], table[column], style, label="FPR" if column == "fpr" else column)
        best = self.best_f1
        if best is not None:
            axes.axvline(best.threshold, color="grey", linestyle=":",
                         label=f"best F1 {best.f1:.3f} at {best.threshold:.3g}")
        axes.set_xlabel(f"threshold (positive class {self.positive_label!s}: score >= threshold)")
        axes.set_ylabel("value")
        axes.set_ylim(-0.02, 1.02)
        axes.set_title("Threshold analysis")
        axes.legend(loc="best", fontsize="small")
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
    deferred: bool = False,
) -> ThresholdAnalysis:
    """The analysis from validated arrays: ``positive`` (N: bool, or 0/1 integers such as binary
    class positions), ``scores`` (float, N), weights or None.

    With ``deferred`` (and no targets) nothing is computed until the analysis is first used.
    """
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 2:
        raise ValueError(f"max_points must be an integer >= 2, got {max_points!r}")
    if target_precision is not None:
        _check_target(target_precision, "target_precision")
    if target_recall is not None:
        _check_target(target_recall, "target_recall")
    analysis = ThresholdAnalysis(positive_label, lambda: _every_threshold(positive, scores, sample_weight),
                                 max_points=max_points)
    if deferred and target_precision is None and target_recall is None:
        return analysis
    return analysis.with_targets(target_precision, target_recall)


def _every_threshold(positive: np.ndarray, scores: np.ndarray, sample_weight: Optional[np.ndarray]) -> dict:
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
    return {
        "threshold": thresholds,
        "precision": _ratio(true_positives, true_positives + false_positives),
        "recall": _ratio(true_positives, np.full_like(true_positives, positives)),
        "f1": _ratio(2 * true_positives, true_positives + false_positives + positives),
        "fpr": _ratio(false_positives, np.full_like(false_positives, negatives)),
        "true_positives": true_positives,
        "false_positives": false_positives,
    }


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
