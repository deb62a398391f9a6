"""ROC and precision-recall curves per class, with scikit-learn's points, downsampled to <= 1,000.

For a binary task the curve is the positive class's (``labels[1]``); for a multiclass task there
is one one-vs-rest curve per class. Points equal scikit-learn's ``roc_curve`` (default
``drop_intermediate=True``) and ``precision_recall_curve(drop_intermediate=True)``; the area is
computed on the exact curve (AUROC; average precision as ``average_precision_score``).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from toolkit.plugin import MAX_CURVE_POINTS, Curve, Curves, downsample


def counts_at_thresholds(
    scores: np.ndarray, positive: np.ndarray, weights: Optional[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive totals at each distinct score, highest score first, and the scores."""
    if weights is not None:
        nonzero = weights != 0  # zero-weight examples do not make thresholds (as in scikit-learn)
        scores, positive, weights = scores[nonzero], positive[nonzero], weights[nonzero]
    # Highest score first; the order inside a tie does not matter, only each group's last index.
    order = np.argsort(scores)[::-1]
    sorted_scores = scores[order]
    sorted_positive = positive[order].astype(np.float64)
    last_of_group = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.shape[0] - 1]
    if weights is None:
        true_positives = np.cumsum(sorted_positive)[last_of_group]
        false_positives = 1.0 + last_of_group - true_positives
    else:
        sorted_weights = weights[order]
        true_positives = np.cumsum(sorted_positive * sorted_weights)[last_of_group]
        false_positives = np.cumsum((1.0 - sorted_positive) * sorted_weights)[last_of_group]
    return false_positives, true_positives, sorted_scores[last_of_group]


def roc_points(false_positives: np.ndarray, true_positives: np.ndarray, thresholds: np.ndarray):
    """scikit-learn's ``roc_curve`` from threshold counts: (fpr, tpr, thresholds)."""
    if false_positives.shape[0] > 2:
        corners = np.r_[True, np.logical_or(np.diff(false_positives, 2), np.diff(true_positives, 2)), True]
        keep = np.flatnonzero(corners)
        false_positives, true_positives, thresholds = false_positives[keep], true_positives[keep], thresholds[keep]
    false_positives = np.r_[0.0, false_positives]
    true_positives = np.r_[0.0, true_positives]
    thresholds = np.r_[np.inf, thresholds.astype(np.float64)]
    fpr = false_positives / false_positives[-1] if false_positives[-1] > 0 else np.full(false_positives.shape, np.nan)
    tpr = true_positives / true_positives[-1] if true_positives[-1] > 0 else np.full(true_positives.shape, np.nan)
    return fpr, tpr, thresholds


def pr_points(false_positives: np.ndarray, true_positives: np.ndarray, thresholds: np.ndarray,
              drop_intermediate: bool = True):
    """scikit-learn's ``precision_recall_curve``: (precision, recall, thresholds), recall falling."""
    if drop_intermediate and false_positives.shape[0] > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(true_positives[:-1]),
                                                        np.diff(true_positives[1:])), True])
        false_positives, true_positives, thresholds = false_positives[keep], true_positives[keep], thresholds[keep]
    predicted = true_positives + false_positives
    precision = np.zeros_like(true_positives)
    np.divide(true_positives, predicted, out=precision, where=predicted != 0)
    recall = np.ones_like(true_positives) if true_positives[-1] == 0 else true_positives / true_positives[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1].astype(np.float64)


def _class_curve(kind: str, score_table, column: int, label, max_points: int) -> Curve:
    positive = score_table.y_true == column
    counts = counts_at_thresholds(np.ascontiguousarray(score_table.y_score[:, column]), positive,
                                  score_table.sample_weight)
    if kind == "roc":
        fpr, tpr, thresholds = roc_points(*counts)
        area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # nan when a class is missing
        curve = Curve("roc", label, fpr, tpr, thresholds, area, int(fpr.shape[0]))
    else:
        full_precision, full_recall, _ = pr_points(*counts, drop_intermediate=False)
        area = float(-np.sum(np.diff(full_recall) * full_precision[:-1]))
        precision, recall, thresholds = pr_points(*counts)
        curve = Curve("pr", label, recall, precision, thresholds, area, int(recall.shape[0]))
    return downsample(curve, max_points)


def _curves(kind: str, scores, labels: Sequence, max_points: int = MAX_CURVE_POINTS) -> Curves:
    columns = [1] if len(labels) == 2 else list(range(len(labels)))
    return Curves(kind, lambda: [_class_curve(kind, scores, column, labels[column], max_points)
                                 for column in columns])


def roc_curve(scores, labels: Sequence) -> Curves:
    """ROC curve of the positive class (binary) or of each class against the rest (multiclass)."""
    return _curves("roc", scores, labels)


def pr_curve(scores, labels: Sequence) -> Curves:
    """Precision-recall curve of the positive class (binary) or of each class against the rest."""
    return _curves("pr", scores, labels)
