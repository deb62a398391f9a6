"""Log loss as a streaming statistic: exact sums of the losses and of the weights, two integers.

The sums are exact (every float64 term is an integer multiple of 2**-UNIT_BITS, so nothing is
rounded), so the result does not depend on how the examples were split into batches, processes
or Dask partitions, nor on the order they were merged in: the same data gives the same log loss
to the last bit. Weights are brought to a unit near 1 by a power of two per batch (exact), so
``w * 1e-300`` and ``w * 1e300`` give what ``w`` gives instead of underflowing or overflowing.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from toolkit.plugin import Batch, weight_scale

# Sums count units of 2**-UNIT_BITS: below the smallest float64 (2**-1074) even after a batch's
# weights were scaled up by as much as 2**1074, so every term is a whole number of units.
UNIT_BITS = 2200
_CHUNK_ROWS = 1 << 18  # rows per step: small work arrays; per-exponent sums of 27-bit limbs stay exact in float64
# From this many rows in a batch on, sums run compiled (compiled_sums): importing numba costs about
# a second once per process, which smaller one-shot evaluations would not earn back.
COMPILED_MIN_ROWS = 500_000


def exact_sum(values: np.ndarray) -> int:
    """The exact sum of finite float64 ``values``, as an integer number of 2**-UNIT_BITS units."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    total = 0
    for start in range(0, x.size, _CHUNK_ROWS):
        mantissa, exponent = np.frexp(x[start:start + _CHUNK_ROWS])
        # each value = m * 2**e exactly, m an integer below 2**53, split into two 27-bit limbs
        # whose per-exponent float64 sums over a chunk are exact integers
        whole = np.ldexp(mantissa, 53).astype(np.int64)
        exponent -= 53
        lowest = int(exponent.min()) if exponent.size else 0
        shifted = exponent - lowest
        high = np.bincount(shifted, weights=whole >> 27)
        low = np.bincount(shifted, weights=whole & ((1 << 27) - 1))
        for offset in np.flatnonzero(high + low != 0).tolist():
            limbs = (int(high[offset]) << 27) + int(low[offset])
            shift = offset + lowest + UNIT_BITS
            total += limbs << shift if shift >= 0 else limbs >> -shift  # (no value is that small)
    return total


def init(labels: Sequence) -> list:
    return [0, 0]  # [losses, weights], in units of 2**-UNIT_BITS


def update(state: list, batch: Batch) -> list:
    """Add one batch's losses, probabilities clipped to [eps, 1 - eps] of the scores' dtype."""
    y_score, weights = batch.y_score, batch.sample_weight
    # Large batches gather and sum in compiled loops (log_loss_compiled): the same values and the
    # same exact integers, several times faster.
    compiled = y_score.shape[0] >= COMPILED_MIN_ROWS
    summed = _compiled_sum if compiled else exact_sum
    shift = 0
    if weights is not None:
        scale = weight_scale(weights)  # a power of two, 2**shift: the weights' largest in [1, 2)
        shift = int(np.frexp(scale)[1]) - 1
    losses = weighted = 0
    for start in range(0, y_score.shape[0], _CHUNK_ROWS):  # chunks: work arrays stay small at any N
        part = slice(start, start + _CHUNK_ROWS)
        # log p <= 0: its sum is negated once, exactly, instead of negating every term
        chunk_logs = _log_probabilities(y_score[part], batch.y_true[part], compiled)
        if weights is None:
            losses -= summed(chunk_logs)
        else:
            chunk_weights = weights[part] * scale
            losses -= summed(chunk_logs * chunk_weights)
            weighted += summed(chunk_weights)
    if weights is None:
        return [state[0] + losses, state[1] + (y_score.shape[0] << UNIT_BITS)]
    return [state[0] + _unscaled(losses, shift), state[1] + _unscaled(weighted, shift)]


def _compiled_sum(values: np.ndarray) -> int:
    from toolkit_metrics.log_loss_compiled import exact_sum_compiled

    if values.dtype.itemsize < 4:  # float16: widened exactly
        values = values.astype(np.float32)
    return exact_sum_compiled(values, UNIT_BITS)


def _log_probabilities(y_score: np.ndarray, y_true: np.ndarray, compiled: bool = False) -> np.ndarray:
    """log of each row's true-class probability, clipped to [eps, 1 - eps] of the scores' dtype."""
    eps = np.finfo(y_score.dtype).eps
    if compiled and y_score.dtype.itemsize >= 4:  # (numba has no float16)
        from toolkit_metrics.log_loss_compiled import clipped_true_class_scores

        probability = clipped_true_class_scores(y_score, y_true, eps, 1 - eps)
    else:
        probability = _true_class_scores(y_score, y_true)
        np.clip(probability, eps, 1 - eps, out=probability)
    return np.log(probability, out=probability)


def _losses(y_score: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Each row's loss: minus the log of its clipped true-class probability (the scores' dtype)."""
    logs = _log_probabilities(y_score, y_true)
    return np.negative(logs, out=logs)


def _true_class_scores(y_score: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """A new array of each row's score in its true class's column."""
    n, n_classes = y_score.shape
    if y_score.flags.c_contiguous:  # one flat gather: several times faster than a 2-D fancy index
        return y_score.reshape(-1).take(y_true + np.arange(0, n * n_classes, n_classes))
    return y_score[np.arange(n), y_true]


def _unscaled(total: int, shift: int) -> int:
    """``total`` / 2**shift, exactly (units are fine enough that no bit is lost)."""
    return total >> shift if shift >= 0 else total << -shift


def merge(a: list, b: list) -> list:
    return [a[0] + b[0], a[1] + b[1]]


def log_loss(log_loss_terms: list) -> float:
    """Mean negative log probability of the true class (weighted), correctly rounded."""
    losses, weights = log_loss_terms
    return float(Fraction(losses, weights)) if weights > 0 else float("nan")
