"""Exact, tie-aware, weighted Mann-Whitney U (the AUROC numerator): the sorting reference.

AUROC = U / (W_pos * W_neg), where U sums w_p * w_n over (positive, negative) pairs whose
positive scores higher, and half of w_p * w_n over tied pairs. This is exactly the trapezoidal
area under scikit-learn's ROC curve. ``packed_sort`` computes the same U faster for large inputs.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

_SIGN_FLIP = np.int64(0x7FFFFFFFFFFFFFFF)


class MannWhitney(NamedTuple):
    """U, and the total positive and negative weight (counts when unweighted)."""

    u: float
    positive_total: float
    negative_total: float

    @property
    def auc(self) -> float:
        """U / (W_pos * W_neg); nan when one class is absent (or has zero weight)."""
        if self.positive_total <= 0 or self.negative_total <= 0:
            return float("nan")
        return self.u / (self.positive_total * self.negative_total)


def mann_whitney_sorted(scores: np.ndarray, positive: np.ndarray, weights: Optional[np.ndarray] = None) -> MannWhitney:
    """The reference: sort every score, group ties, count negatives below each group."""
    # Any order within a group of equal scores will do (groups are summed whole); numpy's default
    # argsort (vectorized) is several times faster than a stable one, and as repeatable.
    order = np.argsort(scores)
    sorted_scores = scores[order]
    sorted_positive = positive[order]
    if weights is None:
        positive_weight = sorted_positive.astype(np.float64)
        negative_weight = 1.0 - positive_weight
    else:
        sorted_weights = weights[order]
        positive_weight = np.where(sorted_positive, sorted_weights, 0.0)
        negative_weight = np.where(sorted_positive, 0.0, sorted_weights)
    # -0.0 == 0.0 here, so they form one tie group, as they should.
    starts = np.flatnonzero(np.concatenate(([True], sorted_scores[1:] != sorted_scores[:-1])))
    group_positive = np.add.reduceat(positive_weight, starts)
    group_negative = np.add.reduceat(negative_weight, starts)
    negative_below = np.cumsum(group_negative) - group_negative
    u = _dot(group_positive, negative_below) + 0.5 * _dot(group_positive, group_negative)
    return MannWhitney(u, float(group_positive.sum()), float(group_negative.sum()))


def mann_whitney_packed(scores: np.ndarray, positive: np.ndarray) -> MannWhitney:
    """Unweighted U of non-negative scores (probabilities) in plain numpy: one ``np.sort`` of
    (score bits << 1 | is_positive) keys, then counts per group of equal scores (exact integers).

    The bits of a non-negative float sort like the float (-0.0 is made 0.0 first), with the top
    bit free for the shift; the keys are uint32 for float16/32 scores, uint64 for float64. Several
    times faster than the argsort in ``mann_whitney_sorted`` (numpy sorts plain integers fastest)."""
    unsigned = np.uint64 if scores.dtype.itemsize == 8 else np.uint32
    bits = (scores + scores.dtype.type(0)).view(f"u{scores.dtype.itemsize}")  # (a copy; -0.0 + 0 is 0.0)
    keys = bits.astype(unsigned, copy=False) << unsigned(1)
    keys |= positive
    keys.sort()
    values = keys >> unsigned(1)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    group_positive = np.add.reduceat((keys & unsigned(1)).astype(np.int64), starts)
    group_negative = np.diff(np.append(starts, keys.shape[0])) - group_positive
    negative_below = np.cumsum(group_negative) - group_negative
    twice_u = int(np.multiply(group_positive, 2 * negative_below + group_negative).sum())
    n_positive = int(group_positive.sum())
    return MannWhitney(twice_u / 2, float(n_positive), float(keys.shape[0] - n_positive))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """The dot product without BLAS: numpy's dot wakes a multi-threaded BLAS, which costs more
    than these vectors (and on a busy machine, much more)."""
    return float(np.multiply(a, b).sum())


def sortable_keys(scores: np.ndarray, lowest: Optional[float] = None) -> np.ndarray:
    """int64 keys in the order of the float64 scores; -0.0 and 0.0 get the same key.

    A non-negative float's bits, read as an integer, already sort like the float; a negative
    float's magnitude bits are flipped so that larger magnitudes sort lower. ``lowest`` is
    ``scores.min()`` when the caller knows it.
    """
    if lowest is None:
        lowest = scores.min()
    if lowest > 0:  # no -0.0 and no negatives: the bits themselves, without a copy
        return scores.view(np.int64)
    keys = (scores + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    if lowest < 0:
        keys ^= (keys >> 63) & _SIGN_FLIP
    return keys
