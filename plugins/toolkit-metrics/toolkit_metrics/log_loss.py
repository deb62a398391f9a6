"""Log loss as a streaming statistic: the weighted sum of losses and of weights, two numbers per evaluation."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from toolkit.plugin import Batch


def init(labels: Sequence) -> np.ndarray:
    return np.zeros(2)  # [sum of weighted losses, sum of weights]


def update(state: np.ndarray, batch: Batch) -> np.ndarray:
    """Add one batch's losses, probabilities clipped to [eps, 1 - eps] of the scores' dtype."""
    y_score = batch.y_score
    eps = np.finfo(y_score.dtype).eps
    true_probability = np.clip(y_score[np.arange(y_score.shape[0]), batch.y_true], eps, 1 - eps)
    losses = -np.log(true_probability)
    if batch.sample_weight is None:
        return state + (losses.sum(dtype=np.float64), float(losses.shape[0]))
    return state + (np.dot(losses, batch.sample_weight), batch.sample_weight.sum())


def merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


def log_loss(log_loss_terms: np.ndarray) -> float:
    """Mean negative log probability of the true class (weighted)."""
    loss_sum, weight_sum = log_loss_terms
    return float(loss_sum / weight_sum) if weight_sum > 0 else float("nan")
