"""The ``binned_scores`` statistic and the AUROC it gives, with a bound on the error against exact AUROC.

Two examples in different bins are ordered as their scores are; two in the same bin count as a
tie (half a correctly ordered pair). Exact AUROC counts such a pair as 0, 1/2 or 1, so

    |binned AUROC - exact AUROC| <= 1/2 * sum over bins of P_b * N_b / (P * N)

where P_b and N_b are the positive and negative weight in bin b and P, N their totals. The
histograms hold P_b and N_b, so every result reports this bound for the data it saw
(``<metric>_error_bound``); the macro and weighted means report the same mean of the bounds.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from toolkit.plugin import Batch, weight_scale

# Below this many rows a batch is counted on one thread; above, split across the cores.
_PARALLEL_MIN_ROWS = 1 << 18


@dataclass
class BinnedScores:
    """Per score column: the weight of every example in each bin, and of the positives."""

    all_counts: np.ndarray  # (columns, BINS) float64
    positive_counts: np.ndarray  # (columns, BINS) float64
    first_column: int  # binary tasks keep only the positive class's column, 1

    @property
    def negative_counts(self) -> np.ndarray:
        # Weighted sums may differ in the last bit; a negative weight would be noise.
        return np.maximum(self.all_counts - self.positive_counts, 0.0)


def init(labels: Sequence) -> BinnedScores:
    from toolkit_binned_auroc.histogram import BINS

    first_column = 1 if len(labels) == 2 else 0
    columns = len(labels) - first_column
    return BinnedScores(np.zeros((columns, BINS)), np.zeros((columns, BINS)), first_column)


def update(state: BinnedScores, batch: Batch) -> BinnedScores:
    from toolkit_binned_auroc.histogram import MAX_ROWS_PER_CALL, count_batch

    scores, y_true = batch.y_score, batch.y_true
    weights = np.empty(0) if batch.sample_weight is None else batch.sample_weight
    rows = y_true.shape[0]
    workers = min(os.cpu_count() or 1, 4)
    if rows < _PARALLEL_MIN_ROWS or workers == 1:
        workers = 1
    workers = max(workers, -(-rows // MAX_ROWS_PER_CALL))
    if workers == 1:
        count_batch(scores, y_true, weights, state.first_column, state.all_counts, state.positive_counts)
        return state
    bounds = np.linspace(0, rows, workers + 1).astype(int)

    def count_slice(part: int) -> BinnedScores:
        lo, hi = bounds[part], bounds[part + 1]
        own = BinnedScores(np.zeros_like(state.all_counts), np.zeros_like(state.positive_counts),
                           state.first_column)
        count_batch(scores[lo:hi], y_true[lo:hi], weights[lo:hi] if weights.size else weights,
                    state.first_column, own.all_counts, own.positive_counts)
        return own

    with ThreadPoolExecutor(min(workers, os.cpu_count() or 1)) as pool:  # the compiled pass releases the GIL
        for own in pool.map(count_slice, range(workers)):
            merge(state, own)
    return state


def merge(a: BinnedScores, b: BinnedScores) -> BinnedScores:
    a.all_counts += b.all_counts
    a.positive_counts += b.positive_counts
    return a


def areas(state: BinnedScores) -> tuple[np.ndarray, np.ndarray]:
    """Per kept column: binned AUROC and its error bound (nan where a class is all or none)."""
    # weights in any unit: a power of two (exact) keeps the pair products below from under/overflowing
    scale = weight_scale(state.all_counts)
    positive, negative = state.positive_counts * scale, state.negative_counts * scale
    positive_total = positive.sum(axis=1)
    negative_total = negative.sum(axis=1)
    negative_below = np.cumsum(negative, axis=1) - negative
    same_bin = np.einsum("cb,cb->c", positive, negative)
    correct = np.einsum("cb,cb->c", positive, negative_below) + 0.5 * same_bin
    pairs = positive_total * negative_total
    with np.errstate(invalid="ignore", divide="ignore"):
        defined = pairs > 0
        area = np.where(defined, correct / np.where(defined, pairs, 1), np.nan)
        bound = np.where(defined, 0.5 * same_bin / np.where(defined, pairs, 1), np.nan)
    return area, bound


def _report(name: str, value: float, bound: float) -> dict[str, float]:
    return {name: float(value), f"{name}_error_bound": float(bound)}


def roc_auc_binned(binned_scores: BinnedScores) -> dict[str, float]:
    area, bound = areas(binned_scores)
    if np.isnan(area[0]):
        warnings.warn("AUROC is undefined: y_true holds only one class")
    return _report("roc_auc_binned", area[0], bound[0])


def _warn_undefined(area: np.ndarray, labels: Sequence) -> None:
    missing = [labels[index] for index in np.flatnonzero(np.isnan(area))]
    if missing:
        warnings.warn(f"AUROC is undefined: labels {missing} are all or none of y_true")


def roc_auc_ovr_macro_binned(binned_scores: BinnedScores, labels: Sequence) -> dict[str, float]:
    area, bound = areas(binned_scores)
    _warn_undefined(area, labels)
    return _report("roc_auc_ovr_macro_binned", area.mean(), bound.mean())


def roc_auc_ovr_weighted_binned(binned_scores: BinnedScores, labels: Sequence) -> dict[str, float]:
    area, bound = areas(binned_scores)
    _warn_undefined(area, labels)
    support = binned_scores.positive_counts.sum(axis=1)
    return _report("roc_auc_ovr_weighted_binned", np.dot(area, support) / support.sum(),
                   np.dot(bound, support) / support.sum())
