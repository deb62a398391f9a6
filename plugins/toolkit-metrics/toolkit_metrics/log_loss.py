"""Log loss as a streaming statistic: exact sums of the losses and of the weights, two integers.

The sums are kept exactly (each term rounded to a multiple of 2**-60 first), so the result does
not depend on how the examples were split into batches, processes or Dask partitions, nor on
the order they were merged in: the same data gives the same log loss to the last bit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from toolkit.plugin import Batch

QUANTUM_BITS = 60  # sums count units of 2**-QUANTUM_BITS
_CHUNK_ROWS = 1 << 16  # int64 limb sums of this many rows cannot overflow
_FAST_LIMIT = 2.0 ** 62  # larger terms (absurd weights) take the slow exact path


def exact_sum(values: np.ndarray) -> int:
    """The sum of ``values`` (finite, >= 0), each rounded to a multiple of 2**-60, exactly,
    as an integer number of 2**-60 units."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return 0
    largest = x.max()
    if largest >= _FAST_LIMIT:
        return sum(round(Fraction(float(value)) * (1 << QUANTUM_BITS)) for value in x)
    total = 0
    for start in range(0, x.size, _CHUNK_ROWS):  # chunks small enough to stay in cache
        part = x[start:start + _CHUNK_ROWS]
        # part = top * 2**20 + middle + (high + low * 2**-30) * 2**-30; every step is exact in
        # float64 but the rounding of low, and no limb's int64 sum over a chunk can overflow.
        if largest >= 2.0 ** 20:
            top = np.floor(part * 2.0 ** -20)
            part = part - top * 2.0 ** 20
            total += int(top.astype(np.int64).sum()) << (QUANTUM_BITS + 20)
        middle = np.floor(part)
        rest = (part - middle) * 2.0 ** 30
        high = np.floor(rest)
        rest -= high
        rest *= 2.0 ** 30
        low = np.rint(rest, out=rest)
        total += (int(middle.astype(np.int64).sum()) << QUANTUM_BITS) \
            + (int(high.astype(np.int64).sum()) << 30) + int(low.astype(np.int64).sum())
    return total


def init(labels: Sequence) -> list:
    return [0, 0]  # [losses, weights], in units of 2**-60


def update(state: list, batch: Batch) -> list:
    """Add one batch's losses, probabilities clipped to [eps, 1 - eps] of the scores' dtype."""
    y_score = batch.y_score
    eps = np.finfo(y_score.dtype).eps
    n, n_classes = y_score.shape
    if y_score.flags.c_contiguous:  # one flat gather: several times faster than a 2-D fancy index
        true_probability = y_score.reshape(-1).take(batch.y_true + np.arange(0, n * n_classes, n_classes))
    else:
        true_probability = y_score[np.arange(n), batch.y_true]
    losses = -np.log(np.clip(true_probability, eps, 1 - eps, out=true_probability))
    if batch.sample_weight is None:
        return [state[0] + exact_sum(losses), state[1] + (losses.shape[0] << QUANTUM_BITS)]
    weights = batch.sample_weight
    return [state[0] + exact_sum(losses * weights), state[1] + exact_sum(weights)]


def merge(a: list, b: list) -> list:
    return [a[0] + b[0], a[1] + b[1]]


def log_loss(log_loss_terms: list) -> float:
    """Mean negative log probability of the true class (weighted), correctly rounded."""
    losses, weights = log_loss_terms
    return float(Fraction(losses, weights)) if weights > 0 else float("nan")
