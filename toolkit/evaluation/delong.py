"""DeLong's test for the difference of two correlated AUROCs, by midranks in O(N log N).

DeLong, DeLong and Clarke-Pearson (1988) write each AUROC as a two-sample U-statistic whose
variance comes from per-example "structural components"; Sun and Xu (2014) compute those from
midranks (ties share the mean of their ranks) instead of comparing every pair:

* a positive's component is the fraction of negatives it outscores (ties count one half):
  ``(midrank among all - midrank among positives) / n_negatives``;
* a negative's component is the fraction of positives that outscore it:
  ``1 - (midrank among all - midrank among negatives) / n_positives``.

Either class's components average to the AUROC. For two models scored on the same examples,
the difference of their components gives the difference of AUROCs and its variance
``var(positives' differences) / m + var(negatives' differences) / n`` (sample variances), which
is DeLong's covariance estimate applied to the contrast (1, -1).

Several classes (one-vs-rest): each class k has its own positives, so its components are
centred within its two groups and scaled by ``1 / sqrt(size * (size - 1))``; the covariance of
the per-class differences is then the cross-product of these per-example columns. The
diagonal is each class's DeLong variance exactly; the off-diagonal terms carry the correlation
that comes from scoring the same examples, so a weighted combination of classes (the macro or
support-weighted one-vs-rest AUROC) gets its variance from the same estimate.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, ties sharing the mean of their ranks (O(N log N))."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    n = ordered.shape[0]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.append(starts[1:], n)  # one past each tie group
    group_rank = (starts + ends + 1) / 2.0  # the mean of ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def components(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Each example's DeLong structural component for the AUROC of ``scores`` (positives = the
    flagged examples); needs at least one example of each class."""
    m = int(positive.sum())
    n = positive.shape[0] - m
    overall = midranks(scores)
    result = np.empty(positive.shape[0], dtype=np.float64)
    result[positive] = (overall[positive] - midranks(scores[positive])) / n
    result[~positive] = 1.0 - (overall[~positive] - midranks(scores[~positive])) / m
    return result


class Contrast(NamedTuple):
    """Per-class AUROC differences (a - b) and their estimated covariance matrix."""

    difference: np.ndarray  # (K,)
    covariance: np.ndarray  # (K, K)
    auc_a: np.ndarray
    auc_b: np.ndarray


def contrast(scores_a: np.ndarray, scores_b: np.ndarray, positives: np.ndarray) -> Contrast:
    """DeLong for K one-vs-rest problems at once.

    ``scores_a`` and ``scores_b`` are (N, K) score columns, ``positives`` an (N, K) boolean
    matrix (column k flags class k's positives). Every class needs at least two positives and
    two negatives (the sample variances), which the caller checks.
    """
    n_examples, k = positives.shape
    centred = np.empty((n_examples, k))
    difference, auc_a, auc_b = np.empty(k), np.empty(k), np.empty(k)
    for column in range(k):
        positive = positives[:, column]
        in_a = components(scores_a[:, column], positive)
        in_b = components(scores_b[:, column], positive)
        auc_a[column], auc_b[column] = in_a[positive].mean(), in_b[positive].mean()
        delta = in_a - in_b
        difference[column] = auc_a[column] - auc_b[column]
        for group in (positive, ~positive):
            size = int(group.sum())
            centred[group, column] = (delta[group] - delta[group].mean()) / np.sqrt(size * (size - 1.0))
    return Contrast(difference, centred.T @ centred, auc_a, auc_b)
