"""Compiled (numba) AUROC sums over many bootstrap resamples at once, in one pass over the sorted scores.

The examples are sorted by score once per column. Walking them in that order, a running sum per
resample holds the negatives' mass seen so far; a positive adds its mass times that running sum
to U. Tied scores form a group: the group's positives count the negatives below the group fully
and the group's own negatives by half. Each step adds one example's row of R counts, which is
why the counts are laid out example-major. Unweighted sums are exact integers.

This module imports numba: ``resampling`` imports it only for enough examples to repay that, and
compiled code is cached on disk after the first use.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from numba import njit

LONE_NEGATIVE, LONE_POSITIVE, TIED, GROUP_END = 0, 1, 2, 4  # TIED | is positive, | GROUP_END on a tie group's last
# Rows are touched this many steps before their turn: the sorted order visits them at random, and
# a load issued early hides most of the wait for memory (about 2x at N = 1e6).
_AHEAD = 32


def step_kinds(sorted_scores: np.ndarray, is_positive: np.ndarray) -> np.ndarray:
    """What each example of the sorted order is (uint8): lone negative, lone positive, or member of
    a tie group (its class in bit 0, GROUP_END on the group's last member)."""
    n = sorted_scores.shape[0]
    differs = sorted_scores[1:] != sorted_scores[:-1]
    ends = np.ones(n, dtype=bool)
    ends[:-1] = differs
    starts = np.ones(n, dtype=bool)
    starts[1:] = differs
    tied = ~(starts & ends)
    return (is_positive.astype(np.uint8) | (tied * np.uint8(TIED)) | ((tied & ends) * np.uint8(GROUP_END))).astype(np.uint8)


@njit(cache=True, nogil=True)
def _counted(order, kinds, by_example, below, group_positive, group_negative, positives, twice_u):
    """Unweighted sums; ``below`` .. ``positives`` are zeroed scratch of the narrowest integer
    type that cannot overflow (int32 for most N: twice as many lanes per instruction)."""
    width = by_example.shape[1]
    n = order.shape[0]
    lone_u = np.zeros(width, np.int64)  # lone positives: mass x negatives below (doubled at the end)
    tied_u = np.zeros(width, np.int64)  # already doubled: 2 x below + the group's negatives
    touched = 0
    for step in range(n):
        if step + _AHEAD < n:  # a load that nothing waits for: the row is in cache when its turn comes
            touched += by_example[order[step + _AHEAD], 0]
        row = by_example[order[step]]
        kind = kinds[step]
        if kind == 0:
            for r in range(width):
                below[r] += row[r]
        elif kind == 1:
            for r in range(width):
                mass = row[r]
                lone_u[r] += np.int64(mass) * below[r]
                positives[r] += mass
        else:
            if kind & 1:
                for r in range(width):
                    group_positive[r] += row[r]
            else:
                for r in range(width):
                    group_negative[r] += row[r]
            if kind & 4:
                for r in range(width):
                    tied_u[r] += np.int64(group_positive[r]) * (2 * np.int64(below[r]) + group_negative[r])
                    positives[r] += group_positive[r]
                    below[r] += group_negative[r]
                    group_positive[r] = 0
                    group_negative[r] = 0
    for r in range(width):
        twice_u[r] = 2 * lone_u[r] + tied_u[r]
    return touched


@njit(cache=True, nogil=True)
def _weighted(order, kinds, by_example, weights, twice_u, positive_total, negative_total):
    width = by_example.shape[1]
    n = order.shape[0]
    touched = 0.0
    below = np.zeros(width)
    lone_u = np.zeros(width)
    group_positive = np.zeros(width)
    group_negative = np.zeros(width)
    tied_u = np.zeros(width)
    positives = np.zeros(width)
    for step in range(n):
        if step + _AHEAD < n:
            touched += by_example[order[step + _AHEAD], 0] * weights[order[step + _AHEAD]]
        example = order[step]
        row = by_example[example]
        weight = weights[example]
        kind = kinds[step]
        if kind == 0:
            for r in range(width):
                below[r] += row[r] * weight
        elif kind == 1:
            for r in range(width):
                mass = row[r] * weight
                lone_u[r] += mass * below[r]
                positives[r] += mass
        else:
            if kind & 1:
                for r in range(width):
                    group_positive[r] += row[r] * weight
            else:
                for r in range(width):
                    group_negative[r] += row[r] * weight
            if kind & 4:
                for r in range(width):
                    tied_u[r] += group_positive[r] * (2 * below[r] + group_negative[r])
                    positives[r] += group_positive[r]
                    below[r] += group_negative[r]
                    group_positive[r] = 0.0
                    group_negative[r] = 0.0
    for r in range(width):
        twice_u[r] = 2 * lone_u[r] + tied_u[r]
        positive_total[r] = positives[r]
        negative_total[r] = below[r]
    return touched


def auc_sums(order: np.ndarray, kinds: np.ndarray, by_example: np.ndarray,
             weights: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resample (columns of ``by_example``): twice U, the positives' and the negatives' mass."""
    width = by_example.shape[1]
    if weights is None:
        narrow = by_example.dtype.itemsize == 1 and order.shape[0] * 255 < 2**31
        scratch = [np.zeros(width, np.int32 if narrow else np.int64) for _ in range(4)]
        twice_u = np.zeros(width, np.int64)
        _counted(order, kinds, by_example, *scratch, twice_u)
        below, _, _, positives = scratch
        out = [twice_u, positives, below]
    else:
        out = [np.zeros(width) for _ in range(3)]
        _weighted(order, kinds, by_example, weights, *out)
    return tuple(part.astype(np.float64) for part in out)


@njit(cache=True, nogil=True)
def _loss_sums(losses, weights, by_example, sums):
    width = by_example.shape[1]
    for example in range(by_example.shape[0]):
        row = by_example[example]
        loss, weight = losses[example], weights[example]
        for r in range(width):
            sums[0, r] += loss * row[r]
            sums[1, r] += weight * row[r]


def loss_sums(weighted_losses: np.ndarray, weights: np.ndarray, by_example: np.ndarray) -> np.ndarray:
    """(2, R): each resample's sum of count x weighted loss and of count x weight, in example order."""
    sums = np.zeros((2, by_example.shape[1]))
    _loss_sums(weighted_losses, weights, by_example, sums)
    return sums
