"""Metrics from the scores: exact, tie-aware AUROC (binary and one-vs-rest)."""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Sequence

import numpy as np

# Below this many examples a thread pool costs more than it saves.
_PARALLEL_MIN_EXAMPLES = 100_000


def auc_numerator(scores: np.ndarray, positive: np.ndarray, weights: Optional[np.ndarray]) -> tuple[float, float, float]:
    """Weighted Mann-Whitney U with ties counted half, and the positive and negative weight totals.

    AUROC = U / (W_pos * W_neg); this equals the trapezoidal area under scikit-learn's ROC curve.
    """
    order = np.argsort(scores, kind="quicksort")
    sorted_scores = scores[order]
    sorted_positive = positive[order]
    if weights is None:
        positive_weight = sorted_positive.astype(np.float64)
        negative_weight = 1.0 - positive_weight
    else:
        sorted_weights = weights[order]
        positive_weight = np.where(sorted_positive, sorted_weights, 0.0)
        negative_weight = sorted_weights - positive_weight
    starts = np.flatnonzero(np.concatenate(([True], sorted_scores[1:] != sorted_scores[:-1])))
    group_positive = np.add.reduceat(positive_weight, starts)
    group_negative = np.add.reduceat(negative_weight, starts)
    negative_below = np.cumsum(group_negative) - group_negative
    u = float(np.dot(group_positive, negative_below) + 0.5 * np.dot(group_positive, group_negative))
    return u, float(group_positive.sum()), float(group_negative.sum())


def binary_auc(scores: np.ndarray, positive: np.ndarray, weights: Optional[np.ndarray]) -> float:
    """AUROC of one score column for one positive class; nan when a class is missing."""
    u, positive_total, negative_total = auc_numerator(scores, positive, weights)
    if positive_total == 0 or negative_total == 0:
        return float("nan")
    return u / (positive_total * negative_total)


def one_vs_rest_auc(score_table) -> np.ndarray:
    """Per-class AUROC, one column against the rest (computed once per evaluation)."""
    return score_table.derived("one_vs_rest_auc", _one_vs_rest_auc)


def _one_vs_rest_auc(score_table) -> np.ndarray:
    y_true, y_score, weights = score_table.y_true, score_table.y_score, score_table.sample_weight

    def column(k: int) -> float:
        return binary_auc(np.ascontiguousarray(y_score[:, k]), y_true == k, weights)

    n_classes = y_score.shape[1]
    workers = min(n_classes, os.cpu_count() or 1)
    if workers > 1 and y_true.shape[0] >= _PARALLEL_MIN_EXAMPLES:
        with ThreadPoolExecutor(workers) as pool:  # numpy's sort releases the GIL
            return np.array(list(pool.map(column, range(n_classes))))
    return np.array([column(k) for k in range(n_classes)])


def _class_weights(score_table) -> np.ndarray:
    weights = score_table.sample_weight
    return np.bincount(score_table.y_true, weights=weights, minlength=score_table.n_classes).astype(np.float64)


def _warn_undefined(per_class: np.ndarray, labels: Sequence) -> None:
    missing = [labels[index] for index in np.flatnonzero(np.isnan(per_class))]
    if missing:
        warnings.warn(f"AUROC is undefined: labels {missing} are all or none of y_true")


def roc_auc(scores, labels: Sequence) -> float:
    """Binary AUROC of the positive class ``labels[1]``."""
    value = binary_auc(np.ascontiguousarray(scores.y_score[:, 1]), scores.y_true == 1, scores.sample_weight)
    if np.isnan(value):
        warnings.warn("AUROC is undefined: y_true holds only one class")
    return value


def roc_auc_ovr_macro(scores, labels: Sequence) -> float:
    per_class = one_vs_rest_auc(scores)
    _warn_undefined(per_class, labels)
    return float(per_class.mean())


def roc_auc_ovr_weighted(scores, labels: Sequence) -> float:
    per_class = one_vs_rest_auc(scores)
    _warn_undefined(per_class, labels)
    support = _class_weights(scores)
    return float(np.dot(per_class, support) / support.sum())

