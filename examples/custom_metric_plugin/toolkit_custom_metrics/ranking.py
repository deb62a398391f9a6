"""Top-k accuracy from the scores: is the true label among the k highest-scored ones?"""

from __future__ import annotations

import numbers
import warnings

import numpy as np


def check_k(k: int) -> None:
    """``k`` must be a whole number of at least 1."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")


def top_k_accuracy(scores, k: int) -> float:
    """Weighted fraction of examples whose true label is among the ``k`` best-scored labels.

    Ties are broken the way scikit-learn's top_k_accuracy_score breaks them: among equal scores
    the label that comes later in ``labels`` ranks higher.
    """
    y_score, y_true = scores.y_score, scores.y_true
    n_classes = y_score.shape[1]
    if k >= n_classes:
        warnings.warn(f"k ({k}) >= the number of classes ({n_classes}) gives a perfect score")
    rows = np.arange(y_score.shape[0])
    true_score = y_score[rows, y_true][:, None]
    columns = np.arange(n_classes)[None, :]
    # Labels ranked above the true one: strictly higher scores, or equal scores in a later column.
    above = (y_score > true_score) | ((y_score == true_score) & (columns > y_true[:, None]))
    hits = above.sum(axis=1) < k
    return float(np.average(hits, weights=scores.sample_weight))
