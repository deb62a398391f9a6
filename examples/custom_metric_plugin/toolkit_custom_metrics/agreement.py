"""Metrics from the shared confusion matrix: balanced accuracy and Matthews correlation."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np


def balanced_accuracy(confusion: np.ndarray, labels: Sequence, adjusted: bool) -> float:
    """Mean recall over the classes that occur in y_true (scikit-learn's balanced_accuracy_score).

    With ``adjusted``, chance level maps to 0 and a perfect score stays 1.
    """
    support = confusion.sum(axis=1).astype(np.float64)
    present = support > 0
    predicted_only = [labels[index] for index in np.flatnonzero(~present & (confusion.sum(axis=0) > 0))]
    if predicted_only:
        # Same message and choice as scikit-learn: such classes have no recall, so they are left out.
        warnings.warn(f"y_pred contains classes not in y_true: {predicted_only}")
    recall = np.diag(confusion)[present] / support[present]
    if recall.size == 0:
        warnings.warn("balanced accuracy is undefined: every sample weight is 0")
        return float("nan")
    score = float(recall.mean())
    if adjusted:
        chance = 1.0 / recall.size
        score = (score - chance) / (1.0 - chance)
    return score


def matthews_corrcoef(confusion: np.ndarray) -> float:
    """The multiclass Matthews correlation coefficient (Gorodkin's R_K), 0 when undefined as in scikit-learn."""
    true_totals = confusion.sum(axis=1, dtype=np.float64)
    predicted_totals = confusion.sum(axis=0, dtype=np.float64)
    correct = np.trace(confusion, dtype=np.float64)
    total = predicted_totals.sum()
    covariance_true_predicted = correct * total - np.dot(true_totals, predicted_totals)
    variance_predicted = total**2 - np.dot(predicted_totals, predicted_totals)
    variance_true = total**2 - np.dot(true_totals, true_totals)
    denominator = variance_predicted * variance_true
    if denominator == 0:  # one class predicted or present: no correlation to measure
        return 0.0
    return float(covariance_true_predicted / np.sqrt(denominator))
