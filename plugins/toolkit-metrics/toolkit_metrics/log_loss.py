"""Log loss as a streaming statistic: exact sums of the losses and of the weights, two integers.

The sums are exact (every float64 term is an integer multiple of 2**-UNIT_BITS, so nothing is
rounded), so the result does not depend on how the examples were split into batches, processes
or Dask partitions, nor on the order they were merged in: the same data gives the same log loss
to the last bit. Weights are brought to a unit near 1 by a power of two per batch (exact), so
``w * 1e-300`` and ``w * 1e300`` give what ``w`` gives instead of underflowing or overflowing.

Unweighted scores take a shorter road to the same integers (FIXED_POINT): their clipped logs lie
in [log(eps), log(1 - eps)] of the scores' eps, so each float32 log is a whole number of 2**-47
units below 2**51 (float16's logs widen to float32 exactly), each float64 one of 2**-105 units
below 2**111; a few int64 limb totals sum them exactly in one vector pass, without the
per-exponent scatter. A log outside that range (which clipping rules out) sends the batch down
the general road.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FixedPoint:
    """How one float dtype's logs add up in fixed point. A value v with least <= -v < bound has
    its unit in the last place at 2**-fraction_bits or above, so v * 2**fraction_bits is a whole
    number: it is split into ``limbs`` int64 limbs, each but the top one ``limb_bits`` wide, none
    above 2**28 in magnitude, so their int64 totals stay exact for 2**35 rows per batch."""

    fraction_bits: int
    limbs: int
    limb_bits: int
    least: float
    bound: float
    unsigned: type  # the unsigned integers of the float's width

    def patterns(self, dtype: type) -> tuple[int, int]:
        """[first, end): the bit patterns, read as unsigned integers, of the values in range
        (negative floats' patterns grow with their magnitude: one min and one max check a chunk)."""
        return tuple(int(np.array(value, dtype=dtype).view(self.unsigned)) for value in (-self.least, -self.bound))

    def whole(self, totals: np.ndarray) -> int:
        """The sum that limb totals (top limb first) hold, in units of 2**-UNIT_BITS."""
        units = 0
        for total in totals.tolist():
            units = (units << self.limb_bits) + total
        return units << (UNIT_BITS - self.fraction_bits)


FIXED_POINT = {
    np.dtype(np.float32): FixedPoint(47, 2, 26, 2.0 ** -24, 16.0, np.uint32),  # float32's logs: -15.9 to -2**-23
    np.dtype(np.float64): FixedPoint(105, 4, 28, 2.0 ** -53, 64.0, np.uint64),  # float64's: -36.1 to -2**-52
}
_FIXED_POINT_CHUNK_ROWS = 1 << 16  # compiled road: a work array that stays in the core's cache


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
        for offset in np.flatnonzero((high != 0) | (low != 0)).tolist():  # (not high + low: -1/3 has high == -low)
            limbs = (int(high[offset]) << 27) + int(low[offset])
            shift = offset + lowest + UNIT_BITS
            total += limbs << shift if shift >= 0 else limbs >> -shift  # (no value is that small)
    return total


def init(labels: Sequence) -> list:
    return [0, 0]  # [losses, weights], in units of 2**-UNIT_BITS


def update(state: list, batch: Batch) -> list:
    """Add one batch's losses, probabilities clipped to [eps, 1 - eps] of the scores' dtype."""
    y_score, weights = batch.y_score, batch.sample_weight
    if not y_score.dtype.isnative:  # (numba and the bit-pattern checks read native floats only)
        y_score = y_score.astype(y_score.dtype.newbyteorder("="))
    # Large batches gather and sum in compiled loops (log_loss_compiled): the same values and the
    # same exact integers, several times faster.
    compiled = y_score.shape[0] >= COMPILED_MIN_ROWS
    if weights is None and y_score.dtype in (np.float16, np.float32, np.float64):
        log_sum = _fixed_point_log_sum(y_score, batch.y_true, compiled)
        if log_sum is not None:  # (log p <= 0: its sum is negated once, exactly)
            return [state[0] - log_sum, state[1] + (y_score.shape[0] << UNIT_BITS)]
    summed = _compiled_sum if compiled else exact_sum
    shift = 0
    if weights is not None:
        scale = weight_scale(weights)  # a power of two, 2**shift: the weights' largest in [1, 2)
        shift = int(np.frexp(scale)[1]) - 1
    losses = weighted = 0
    for start in range(0, y_score.shape[0], _CHUNK_ROWS):  # chunks: work arrays stay small at any N
        part = slice(start, start + _CHUNK_ROWS)
        chunk_logs = _log_probabilities(y_score, batch.y_true, part, compiled)
        if weights is None:
            losses -= summed(chunk_logs)
        else:
            chunk_weights = weights[part] * scale
            losses -= summed(chunk_logs * chunk_weights)
            weighted += summed(chunk_weights)
    if weights is None:
        return [state[0] + losses, state[1] + (y_score.shape[0] << UNIT_BITS)]
    return [state[0] + _unscaled(losses, shift), state[1] + _unscaled(weighted, shift)]


def _fixed_point_log_sum(y_score: np.ndarray, y_true: np.ndarray, compiled: bool) -> int | None:
    """The sum of the rows' clipped true-class logs (float16's widened to float32) in units of
    2**-UNIT_BITS, added in fixed point; None when a log falls outside the fixed-point range."""
    if compiled:
        from toolkit_metrics.log_loss_compiled import fixed_point_totals as add

        rows = _FIXED_POINT_CHUNK_ROWS
    else:
        add, rows = _fixed_point_totals, _CHUNK_ROWS
    n = y_score.shape[0]
    float16 = y_score.dtype == np.float16
    fixed_point = FIXED_POINT[np.dtype(np.float32) if float16 else y_score.dtype]
    totals = np.zeros(fixed_point.limbs, dtype=np.int64)
    # compiled: one work array, reused by every chunk (numba has no float16)
    work = np.empty(min(n, rows), dtype=y_score.dtype) if compiled and not float16 else None
    for start in range(0, n, rows):
        part = slice(start, start + rows)
        if work is not None:
            logs = _log_probabilities(y_score, y_true, part, compiled, out=work[:min(rows, n - start)])
        elif float16:  # (its logs widen exactly)
            logs = _float16_logs(np.float32).take(_true_class_scores(y_score.view(np.uint16), y_true, part))
        else:
            logs = _log_probabilities(y_score, y_true, part)
        if not add(logs, totals):
            return None
    return fixed_point.whole(totals)


def _fixed_point_totals(values: np.ndarray, totals: np.ndarray) -> bool:
    """numpy's ``log_loss_compiled.fixed_point_totals``: the same answer and sum (its limbs may
    differ: they are truncated here), for batches too small to earn numba's import."""
    fixed_point = FIXED_POINT[values.dtype]
    first, end = fixed_point.patterns(values.dtype)
    patterns = values.view(fixed_point.unsigned)
    if values.size and (patterns.min() < first or patterns.max() >= end):
        return False
    # The limbs in the floats' own dtype, exactly (scaled by powers of two; a float minus its
    # integer part toward zero is exact), top first. Summed in float64 they stay exact, every
    # partial sum a whole number below 2**53, for 2**24 values at a time.
    low_bits = fixed_point.limb_bits * (fixed_point.limbs - 1)
    for start in range(0, values.size, 1 << 24):
        scaled = values[start:start + (1 << 24)] * values.dtype.type(2.0 ** (fixed_point.fraction_bits - low_bits))
        for limb in range(fixed_point.limbs - 1):
            whole = np.trunc(scaled)
            totals[limb] += int(whole.sum(dtype=np.float64))
            scaled -= whole
            scaled *= values.dtype.type(2.0 ** fixed_point.limb_bits)
        totals[-1] += int(scaled.sum(dtype=np.float64))
    return True


def _compiled_sum(values: np.ndarray) -> int:
    from toolkit_metrics.log_loss_compiled import exact_sum_compiled

    if values.dtype.itemsize < 4:  # float16: widened exactly
        values = values.astype(np.float32)
    return exact_sum_compiled(values, UNIT_BITS)


def _log_probabilities(y_score: np.ndarray, y_true: np.ndarray, rows: slice = slice(None), compiled: bool = False,
                       out: np.ndarray | None = None) -> np.ndarray:
    """log of the true-class probability of each row in ``rows``, clipped to [eps, 1 - eps] of
    the scores' dtype, in that dtype; into ``out`` (compiled only) or a new array."""
    if y_score.dtype == np.float16:
        return _float16_logs(np.float16).take(_true_class_scores(y_score.view(np.uint16), y_true, rows))
    eps = np.finfo(y_score.dtype).eps
    if compiled:
        from toolkit_metrics.log_loss_compiled import clipped_true_class_scores

        probability = clipped_true_class_scores(y_score[rows], y_true[rows], eps, 1 - eps, out)
    else:
        probability = _true_class_scores(y_score, y_true, rows)
        np.clip(probability, eps, 1 - eps, out=probability)
    return np.log(probability, out=probability)


@functools.lru_cache(maxsize=2)
def _float16_logs(dtype: type) -> np.ndarray:
    """Indexed by a float16's bit pattern: the log of that float16 clipped to [eps, 1 - eps],
    numpy's float16 log widened to ``dtype``. (numpy computes float16 clips and logs one value
    at a time; 65536 patterns are fewer than the rows of a large batch.)"""
    values = np.arange(1 << 16).astype(np.uint16).view(np.float16)
    eps = np.finfo(np.float16).eps
    with np.errstate(invalid="ignore"):  # (the NaN patterns: scores never hold them)
        table = np.log(np.clip(values, eps, 1 - eps)).astype(dtype)
    table.flags.writeable = False
    return table


def _losses(y_score: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Each row's loss: minus the log of its clipped true-class probability (the scores' dtype)."""
    logs = _log_probabilities(y_score, y_true)
    return np.negative(logs, out=logs)


def _true_class_scores(y_score: np.ndarray, y_true: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
    """A new array of the score in each row's true class's column, for the rows in ``rows``."""
    n, n_classes = y_score.shape
    start, stop, _ = rows.indices(n)
    # Row- or column-major scores (binary ones arrive column-major): one flat gather, several
    # times faster than a 2-D fancy index.
    if y_score.flags.c_contiguous:
        flat, row_step, column_step = y_score.reshape(-1), n_classes, 1
    elif y_score.flags.f_contiguous:
        flat, row_step, column_step = y_score.reshape(-1, order="F"), 1, n
    else:
        return y_score[np.arange(start, stop), y_true[rows]]
    index = np.arange(start * row_step, stop * row_step, row_step)
    index += y_true[rows] if column_step == 1 else y_true[rows] * column_step
    return flat.take(index)


def _unscaled(total: int, shift: int) -> int:
    """``total`` / 2**shift, exactly (units are fine enough that no bit is lost)."""
    return total >> shift if shift >= 0 else total << -shift


def merge(a: list, b: list) -> list:
    return [a[0] + b[0], a[1] + b[1]]


def log_loss(log_loss_terms: list) -> float:
    """Mean negative log probability of the true class (weighted), correctly rounded."""
    losses, weights = log_loss_terms
    return float(Fraction(losses, weights)) if weights > 0 else float("nan")
