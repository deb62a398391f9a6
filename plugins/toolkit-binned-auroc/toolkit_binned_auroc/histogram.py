"""The score histogram: which bin a score falls in, and a compiled pass that counts a batch.

A score p in [0, 1] is binned by its distance to the nearer end, d = min(p, 1 - p), on a
logarithmic scale: the float32 exponent of d and its top MANTISSA_BITS mantissa bits. So bins
are 2**-MANTISSA_BITS (0.2 %) of d wide, from d = 2**-BINADES up to 0.5: as fine next to 1 as
next to 0, where a confident model puts most of its scores. The bin index never decreases as
the score grows, which is all the AUROC error bound needs; scores below 0 or above 1 share the
end bins (the bound grows to cover them).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MANTISSA_BITS = 9
BINADES = 32  # d from 2**-32 (about 2.3e-10) to 0.5
_LOWEST_EXPONENT = 127 - BINADES  # float32 biased exponent of 2**-BINADES
HALF_BINS = BINADES << MANTISSA_BITS
BINS = 2 * HALF_BINS  # per class: 32768


def bin_index(scores: np.ndarray) -> np.ndarray:
    """The bin of each score (NumPy, for tests and for reading the histograms)."""
    p = np.asarray(scores).astype(np.float32)
    upper = p > np.float32(0.5)
    distance = np.where(upper, np.float32(1) - p, p).astype(np.float32)
    half = (distance.view(np.int32) >> (23 - MANTISSA_BITS)) - (_LOWEST_EXPONENT << MANTISSA_BITS)
    half = np.clip(half, 0, HALF_BINS - 1)
    return np.where(upper, BINS - 1 - half, half).astype(np.int64)


@njit(cache=True)
def _float_bits(value):  # pragma: no cover - compiled
    return np.float32(value).view(np.int32)


@njit(cache=True)
def _bin_of(score):  # pragma: no cover - compiled; the same map as bin_index
    p = np.float32(score)
    upper = p > np.float32(0.5)
    # A negative distance (p < 0 or p > 1) has a negative bit pattern: clipped to the end bin.
    half = (_float_bits(np.float32(1) - p if upper else p) >> (23 - MANTISSA_BITS)) - (
        _LOWEST_EXPONENT << MANTISSA_BITS
    )
    half = min(max(half, 0), HALF_BINS - 1)
    return (BINS - 1 - half) if upper else half


_BLOCK_ROWS = 2048  # a block of rows is binned column by column: one histogram row hot at a time
MAX_ROWS_PER_CALL = 1 << 31  # unweighted counts are uint32 within a call


@njit(cache=True, nogil=True)
def count_batch(scores, y_true, weights, first_column, all_counts, positive_counts):  # pragma: no cover
    """Add one batch: row r of the counts is score column ``first_column + r``; an example counts
    as positive for column j when its true label position is j. ``weights`` empty = weight 1.
    At most MAX_ROWS_PER_CALL rows per call."""
    n, k = scores.shape
    weighted = weights.shape[0] > 0
    # Unweighted counts go to uint32 histograms first: half the size of float64, so they stay
    # in cache, which is what the scattered increments need.
    all_local = np.zeros(all_counts.shape, np.uint32)
    positive_local = np.zeros(positive_counts.shape, np.uint32)
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        for j in range(first_column, k):
            if weighted:
                row = all_counts[j - first_column]
                for i in range(start, stop):
                    row[_bin_of(scores[i, j])] += weights[i]
            else:
                local_row = all_local[j - first_column]
                for i in range(start, stop):
                    local_row[_bin_of(scores[i, j])] += 1
        for i in range(start, stop):
            label = y_true[i]
            if label >= first_column:  # binning the true column again beats a branch above
                if weighted:
                    positive_counts[label - first_column, _bin_of(scores[i, label])] += weights[i]
                else:
                    positive_local[label - first_column, _bin_of(scores[i, label])] += 1
    if not weighted:
        all_counts += all_local
        positive_counts += positive_local
