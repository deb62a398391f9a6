"""Synthetic predictions shared by the benchmarks: labels, scores of a model with some skill, weights."""

from __future__ import annotations

from typing import Optional

import numpy as np


def skilled_predictions(n: int, n_classes: int, weighted: bool, seed: int = 0
                        ) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """y_true, (n, K) softmax scores of noisy logits that favour the true class, and weights
    (uniform in [0.1, 2)) or None."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes))
    logits[np.arange(n), y_true] += 1.0
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return y_true, probabilities, rng.uniform(0.1, 2.0, n) if weighted else None
