"""Metrics from the scores: exact, tie-aware AUROC (binary and one-vs-rest)."""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Sequence

import numpy as np

from toolkit_metrics.mann_whitney import MannWhitney, Scratch, mann_whitney

# Below this many examples a thread pool costs more than it saves.
_PARALLEL_MIN_EXAMPLES = 100_000
# Rows per block when turning (N, K) scores into K contiguous columns; a block stays in cache.
_TRANSPOSE_BLOCK_ROWS = 16_384


class OneVsRest(NamedTuple):
    """Per-class AUROC (nan where a class is all or none of y_true) and per-class support
    (weighted when sample weights were given), in the order of the labels."""

    auc: np.ndarray
    support: np.ndarray



def column(y_score: np.ndarray, k: int) -> np.ndarray:
    """Score column ``k`` as a contiguous float64 array (exact for every float input)."""
    return np.ascontiguousarray(y_score[:, k], dtype=np.float64)


def columns(y_score: np.ndarray) -> np.ndarray:
    """All score columns as a contiguous (K, N) array of the scores' own float type (a copy as
    large as the scores, unless they are already column-major; float32 stays float32, so
    the copy is never twice the scores).

    Reading one column of a row-major (N, K) array drags every row through the cache, so K
    separate column copies read the whole array K times; copying row blocks that fit in cache
    reads it once.
    """
    dtype = y_score.dtype if y_score.dtype.kind == "f" else np.dtype(np.float64)
    if y_score.flags.f_contiguous and y_score.dtype == dtype:
        return y_score.T
    n = y_score.shape[0]
    out = np.empty((y_score.shape[1], n), dtype=dtype)
    for start in range(0, n, _TRANSPOSE_BLOCK_ROWS):
        stop = min(start + _TRANSPOSE_BLOCK_ROWS, n)
        out[:, start:stop] = y_score[start:stop].T
    return out


def one_vs_rest(score_table) -> OneVsRest:
    """Every class against the rest; computed once per evaluation, shared by the macro and
    weighted means."""
    return score_table.derived("one_vs_rest_auc", _one_vs_rest)


def _one_vs_rest(score_table) -> OneVsRest:
    y_true, y_score, weights = score_table.y_true, score_table.y_score, score_table.sample_weight
    n_classes = y_score.shape[1]
    score_columns = columns(y_score)
    per_thread = threading.local()

    def one_class(k: int) -> MannWhitney:
        if not hasattr(per_thread, "scratch"):
            per_thread.scratch = Scratch()
        positive = y_true == k
        scores = score_columns[k]
        if scores.dtype != np.float64:  # the kernel reads float64 bits: one column at a time, per thread
            scores = per_thread.scratch.cast("score_column", scores, np.float64)
        return mann_whitney(scores, positive, weights, np.flatnonzero(positive), per_thread.scratch)

    workers = min(n_classes, os.cpu_count() or 1)
    if workers > 1 and y_true.shape[0] >= _PARALLEL_MIN_EXAMPLES:
        with ThreadPoolExecutor(workers) as pool:  # numpy releases the GIL in the heavy steps
            results = list(pool.map(one_class, range(n_classes)))
    else:
        results = [one_class(k) for k in range(n_classes)]
    return OneVsRest(np.array([result.auc for result in results]),
                     np.array([result.positive_total for result in results]))


def _warn_undefined(per_class: np.ndarray, labels: Sequence) -> None:
    missing = [labels[index] for index in np.flatnonzero(np.isnan(per_class))]
    if missing:
        warnings.warn(f"AUROC is undefined: labels {missing} are all or none of y_true")


def roc_auc(scores, labels: Sequence) -> float:
    """Binary AUROC of the positive class ``labels[1]``."""
    value = mann_whitney(column(scores.y_score, 1), scores.y_true == 1, scores.sample_weight).auc
    if np.isnan(value):
        warnings.warn("AUROC is undefined: y_true holds only one class")
    return value


def roc_auc_ovr_macro(scores, labels: Sequence) -> float:
    per_class = one_vs_rest(scores).auc
    _warn_undefined(per_class, labels)
    return float(per_class.mean())


def roc_auc_ovr_weighted(scores, labels: Sequence) -> float:
    per_class, support = one_vs_rest(scores)
    _warn_undefined(per_class, labels)
    return float(np.dot(per_class, support) / support.sum())
