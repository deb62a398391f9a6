"""The log-loss statistic's large-batch kernels (numba): each row's true-class score, and exact
sums of float32 or float64 values in one pass (the same integers ``log_loss.exact_sum`` gives).

Any finite float is m * 2**e exactly (m an integer below 2**53): ``exact_sum_compiled`` adds m,
split into two 26/27-bit limbs, to int64 totals per exponent field: no rounding, and no overflow
below 2**36 values; Python integers then shift each exponent's totals into place. The logs of
clipped probabilities need less (``fixed_point_totals``): each is a whole number of units of the
dtype's ``log_loss.FIXED_POINT``, so a few int64 limb totals, with no scatter, hold their exact sum.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from toolkit_metrics.log_loss import FIXED_POINT

_LIMB_BITS = 26
# float dtype -> (unsigned view, mantissa bits stored, exponent field mask, sign bit, exponent of
# the subnormals' unit in the last place)
_FORMATS = {
    np.dtype(np.float32): (np.uint32, 23, 0xFF, 31, -149),
    np.dtype(np.float64): (np.uint64, 52, 0x7FF, 63, -1074),
}


@njit(cache=True, nogil=True)
def _limb_totals(bits, mantissa_bits, exponent_mask, sign_bit, high, low):
    """Adds every value's mantissa limbs (signed) into high[field] and low[field]."""
    fraction_mask = (bits.dtype.type(1) << bits.dtype.type(mantissa_bits)) - bits.dtype.type(1)
    implicit = np.int64(1) << np.int64(mantissa_bits)
    limb_mask = (np.int64(1) << np.int64(_LIMB_BITS)) - np.int64(1)
    sign = bits.dtype.type(1) << bits.dtype.type(sign_bit)
    for i in range(bits.shape[0]):
        value = bits[i]
        field = np.int64((value >> bits.dtype.type(mantissa_bits)) & bits.dtype.type(exponent_mask))
        mantissa = np.int64(value & fraction_mask)
        if field != 0:
            mantissa |= implicit
        else:  # subnormal (or zero): the exponent of field 1, no implicit bit
            field = 1
        if value & sign:
            mantissa = -mantissa
        high[field] += mantissa >> np.int64(_LIMB_BITS)  # (arithmetic shift: floor, low limb stays >= 0)
        low[field] += mantissa & limb_mask


def fixed_point_totals(values: np.ndarray, totals: np.ndarray) -> bool:
    """Adds float32 or float64 ``values`` as whole numbers of units, split into limbs, to the
    limb totals (top first) of their dtype's ``log_loss.FIXED_POINT``; True when every value was
    in the range where those units are exact (else the totals are meaningless)."""
    fixed_point = FIXED_POINT[values.dtype]
    first, end = (fixed_point.unsigned(pattern) for pattern in fixed_point.patterns(values.dtype))
    patterns = values.view(fixed_point.unsigned)
    # (the constants go in as arguments: numba's disk cache would not see them change in log_loss)
    if values.dtype == np.float32:  # 51-bit units: converted to int64 whole, then split
        return _float32_totals(values, patterns, totals, np.float32(2.0 ** fixed_point.fraction_bits),
                               fixed_point.limb_bits, first, end)
    low_bits = fixed_point.limb_bits * (fixed_point.limbs - 1)
    return _float64_totals(values, patterns, totals, 2.0 ** (fixed_point.fraction_bits - low_bits),
                           2.0 ** fixed_point.limb_bits, first, end)


@njit(cache=True, nogil=True)
def _float32_totals(values, patterns, totals, scale, limb_bits, first_pattern, end_pattern):
    limb_mask = (np.int64(1) << np.int64(limb_bits)) - np.int64(1)
    least, greatest = patterns.dtype.type(-1), patterns.dtype.type(0)
    high = low = np.int64(0)
    for i in range(values.shape[0]):  # (min, max and sums only: compiles to vector code)
        least = min(least, patterns[i])
        greatest = max(greatest, patterns[i])
        units = np.int64(values[i] * scale)  # (scale is a power of two: exact)
        high += units >> np.int64(limb_bits)  # (arithmetic shift: floor, the low limb stays >= 0)
        low += units & limb_mask
    totals[0] += high
    totals[1] += low
    return values.shape[0] == 0 or (least >= first_pattern and greatest < end_pattern)


@njit(cache=True, nogil=True)
def _float64_totals(values, patterns, totals, top_scale, limb_scale, first_pattern, end_pattern):
    """Four limbs, split in float64 exactly: the top one truncated, then each remainder (a float
    minus its integer part toward zero is exact) scaled up by 2**limb_bits."""
    least, greatest = patterns.dtype.type(-1), patterns.dtype.type(0)
    top = upper = lower = bottom = np.int64(0)
    for i in range(values.shape[0]):
        least = min(least, patterns[i])
        greatest = max(greatest, patterns[i])
        scaled = values[i] * top_scale
        whole = np.trunc(scaled)
        top += np.int64(whole)
        scaled = (scaled - whole) * limb_scale
        whole = np.trunc(scaled)
        upper += np.int64(whole)
        scaled = (scaled - whole) * limb_scale
        whole = np.trunc(scaled)
        lower += np.int64(whole)
        bottom += np.int64((scaled - whole) * limb_scale)
    totals[0] += top
    totals[1] += upper
    totals[2] += lower
    totals[3] += bottom
    return values.shape[0] == 0 or (least >= first_pattern and greatest < end_pattern)


def exact_sum_compiled(values: np.ndarray, unit_bits: int) -> int:
    """The exact sum of finite float32/float64 ``values`` in units of 2**-unit_bits."""
    unsigned, mantissa_bits, exponent_mask, sign_bit, lowest = _FORMATS[values.dtype]
    high = np.zeros(exponent_mask + 1, dtype=np.int64)
    low = np.zeros(exponent_mask + 1, dtype=np.int64)
    _limb_totals(np.ascontiguousarray(values).reshape(-1).view(unsigned), mantissa_bits, exponent_mask, sign_bit,
                 high, low)
    total = 0
    for field in np.flatnonzero(high | low).tolist():
        # the unit in the last place at this field: 2**(lowest + field - 1)
        total += ((int(high[field]) << _LIMB_BITS) + int(low[field])) << (lowest + field - 1 + unit_bits)
    return total


@njit(cache=True, nogil=True)
def _gather_clipped(y_score, y_true, low, high, out):
    for i in range(y_true.shape[0]):
        out[i] = min(max(y_score[i, y_true[i]], low), high)


@njit(cache=True, nogil=True)
def _select_clipped(negative_column, positive_column, y_true, low, high, out):
    for i in range(y_true.shape[0]):
        score = positive_column[i] if y_true[i] == 1 else negative_column[i]
        out[i] = min(max(score, low), high)


def clipped_true_class_scores(y_score: np.ndarray, y_true: np.ndarray, low, high,
                              out: np.ndarray | None = None) -> np.ndarray:
    """Each row's score in its true class's column, clipped to [low, high] (the values numpy's
    gather and ``np.clip`` give), from any memory layout, into ``out`` or a new array."""
    if out is None:
        out = np.empty(y_true.shape[0], dtype=y_score.dtype)
    low, high = y_score.dtype.type(low), y_score.dtype.type(high)
    if y_score.shape[1] == 2:  # binary: a select between two columns compiles to vector code
        _select_clipped(y_score[:, 0], y_score[:, 1], y_true, low, high, out)
    else:
        _gather_clipped(y_score, y_true, low, high, out)
    return out
