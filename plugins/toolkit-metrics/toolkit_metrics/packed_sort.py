"""Exact one-vs-rest Mann-Whitney U of many score columns at the cost of sorting them (numba kernels).

Each score becomes an unsigned integer key that sorts like the score (equal scores get equal keys,
-0.0 the key of 0.0), offset from the smallest score's key and shifted left one bit to hold "is
this example of the class". One pass over the (N, K) scores writes the keys of every class; one
``ndarray.sort`` per class (numpy's vectorized sort: what sorting the scores alone costs) lines
them up; one compiled pass over the sorted keys then counts. U = sum over groups of equal scores
of positives * (negatives below + half the negatives in the group): exact integers when unweighted.
A group's negatives sort before its positives, so each positive adds the negatives seen when its
group began plus those seen so far (twice its share), without a branch per group. One column alone
(binary tasks) is packed by a typed loop that compiles to vector instructions; many columns are
packed by slices of rows, and sorted and counted a column at a time, on every CPU the process
may use, busy or not (see ``workers_for_columns``).

One column given two threads (binary tasks on an idle machine) is split by value instead: the
median of a strided sample of its scores is the pivot, keys of scores below it are packed into
one part and the others into another (equal scores always share a part), and each part is sorted
and counted on its own thread. No pair of scores across the parts is tied and the high part's
score is the larger, so U = U_low + U_high + positives_high * negatives_low (in exact integers
unweighted; weighted, the one-thread path's sums added in another order). This halves the sort,
which is most of the cost; a sample that cannot split the column (mostly one value) keeps it
whole. The two threads take each step's tasks as they come free (``shared_steps``), so that a
helper thread kept off the CPU by other processes does not hold the caller up; one thread (a
busy machine: another process running this moment, see ``workers_for_load``) takes the
one-thread path.

Weighted, the key also carries the example's index in its low 32 bits (so that the pass can read
each example's weight), which needs the score keys to span fewer than 2**31 values: every float32
or float16 probability does. Otherwise (float64 with weights, or scores spanning most of the float
range) the keys are argsorted instead, which is exact too, only slower.

This module imports numba: the metric plugin imports it only when there are enough examples to
repay that (see ``ranking``), and compiled code is cached on disk after the first use.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Optional, Sequence

import numpy as np
from numba import njit

from toolkit.plugin import cpu_idle_now, idle_cpus, usable_cpus
from toolkit_metrics.mann_whitney import sortable_keys
from toolkit_metrics.shared_steps import run_steps

_ONE = np.uint64(1)
_INDEX_BITS = np.uint64(32)
_INDEX_MASK = np.uint64(0xFFFFFFFF)
_MAX_INDEXED_EXAMPLES = 1 << 32
_BITS_OF = {2: np.uint16, 4: np.uint32, 8: np.uint64}
# From this many examples on, the keys of several columns are packed by slices of rows in threads.
_PARALLEL_PACK_ROWS = 200_000
# Slices of rows per packing thread: a thread that another process keeps off its CPU a while
# leaves its later slices to the others.
_SLICES_PER_THREAD = 4
# From this many examples on, one column given two threads is split by value and its two parts
# sorted and counted at once. Below it the thread hand-offs and the slower (scalar) partitioning
# pack cost more than half a sort saves: measured (float32, 2 idle CPUs, with a counting pass the
# split no longer needs) it took 1.4x the one-thread time at 1e5 examples, 0.9x at 2e5 and 0.7x
# at 1e6 unweighted; weighted 0.7x at 1e5 and 0.5x at 1e6.
SPLIT_MIN_EXAMPLES = 200_000
# Scores read to choose the value that splits a column (a strided sample).
_SPLIT_SAMPLE = 4_096
# A split is used only if the sample puts at least this share of the scores in each part.
_SPLIT_MIN_SHARE = 0.125


class ClassTotals(NamedTuple):
    """Per class (in the order asked for): U, and the positive and negative totals (weights or counts)."""

    u: np.ndarray
    positive_total: np.ndarray
    negative_total: np.ndarray


@njit(cache=True, nogil=True, inline="always")
def _sortable(bits, sign, all_ones):
    """The unsigned key of a float's bits (uint64): ordered like the floats, -0.0 equal to 0.0."""
    if bits == sign:  # -0.0
        return sign
    if bits & sign:
        return bits ^ all_ones
    return bits | sign


@njit(cache=True, nogil=True)
def _pack(bits, y_true, columns, sign, all_ones, base, index_shift, first_index, out):
    """out[j, i] = (key of bits[i, columns[j]] - base) << 1 | (y_true[i] == columns[j]), and with
    ``index_shift`` = 32, that shifted up again over the example index (first_index + i). One pass
    over the rows. Returns whether any score was negative (which a base assumed from 0.0 cannot take)."""
    index_mask = _INDEX_MASK if index_shift else np.uint64(0)
    negative = False
    for i in range(bits.shape[0]):
        label = y_true[i]
        index = np.uint64(first_index + i) & index_mask
        for j in range(columns.shape[0]):
            column = columns[j]
            score_bits = np.uint64(bits[i, column])
            negative |= score_bits > sign  # the sign bit, and more than -0.0
            key = _sortable(score_bits, sign, all_ones) - base
            key = (key << _ONE) | np.uint64(label == column)
            out[j, i] = (key << np.uint64(index_shift)) | index
    return negative


@njit(cache=True, nogil=True)
def _pack_column(bits, y_true, column, sign, out):
    """out[i] = bits[i, column] << 1 | (y_true[i] == column), in out's dtype, for scores assumed
    non-negative (their bits sort like them; -0.0 becomes 0.0). The one-column case (binary
    tasks): typed throughout, so that the loop compiles to vector instructions. Returns whether
    any score was negative after all (then ``out`` is not usable)."""
    key = out.dtype.type
    zero = bits.dtype.type(0)
    one = key(1)
    highest = zero
    for i in range(bits.shape[0]):
        score_bits = bits[i, column]
        highest = max(highest, score_bits)
        value = key(score_bits if score_bits != sign else zero)
        out[i] = (value << one) | key(y_true[i] == column)
    return highest > sign


@njit(cache=True, nogil=True)
def _pack_column_indexed(bits, y_true, column, sign, out):
    """``_pack_column``'s key shifted up over the example index (uint64 ``out``), for weights."""
    zero = bits.dtype.type(0)
    one = np.uint64(1)
    highest = zero
    for i in range(bits.shape[0]):
        score_bits = bits[i, column]
        highest = max(highest, score_bits)
        value = np.uint64(score_bits if score_bits != sign else zero)
        out[i] = (((value << one) | np.uint64(y_true[i] == column)) << _INDEX_BITS) | np.uint64(i)
    return highest > sign


@njit(cache=True, nogil=True)
def _pack_column_split(bits, y_true, column, sign, pivot, index_shift, first_index, low, low_step, high, high_step, out):
    """``_pack_column``'s keys (with ``index_shift`` = 32, ``_pack_column_indexed``'s, examples
    numbered from ``first_index``), scores below ``pivot`` written at out[low], low + low_step, ...
    and the others at out[high], high + high_step, ...: a partition by value, so equal scores share
    a part. Steps are 1 or -1 (as uint64, which wraps). Branch-free: each key is written at both
    slots and one of them advances, so the slot each pointer ends at receives a stray key (the
    caller leaves it out). Returns (how many scores were below ``pivot``, whether any score was
    negative)."""
    key = out.dtype.type
    zero = bits.dtype.type(0)
    one = key(1)
    shift = key(index_shift)
    index_mask = key(_INDEX_MASK) if index_shift else key(0)
    highest = zero
    below_count = 0
    for i in range(bits.shape[0]):
        score_bits = bits[i, column]
        highest = max(highest, score_bits)
        value = score_bits if score_bits != sign else zero
        below = np.uint64(value < pivot)
        packed = (((key(value) << one) | key(y_true[i] == column)) << shift) | (key(first_index + i) & index_mask)
        out[low] = packed
        out[high] = packed
        low += below * low_step
        high += (_ONE - below) * high_step
        below_count += below
    return below_count, highest > sign


@njit(cache=True, nogil=True)
def _count_sorted(keys):
    """(twice U, positives) from sorted keys (value << 1 | is_positive), unweighted.

    Within a group of equal scores the negatives' keys sort first, so a positive sees every
    negative below it and every one tied with it before it: twice its share of U is the
    negatives seen when its group began plus the negatives seen so far. No branch in the loop
    (a select keeps the group's start), so it runs at about a nanosecond per key."""
    n = keys.shape[0]
    one = keys.dtype.type(1)
    twice_u = 0
    negatives = 0
    negatives_at_group_start = 0
    previous = keys[0] >> one if n else keys.dtype.type(0)
    for i in range(n):
        key = keys[i]
        value = key >> one
        negatives_at_group_start = negatives if value != previous else negatives_at_group_start
        previous = value
        positive = np.int64(key & one)
        twice_u += positive * (negatives_at_group_start + negatives)
        negatives += 1 - positive
    return twice_u, n - negatives


@njit(cache=True, nogil=True, inline="always")
def _close_group(u, negatives_below, positives_total, group_positives, group_negatives):
    """Adds a finished group of equal scores: its positives' pairs with the negatives below, and
    half of those with its own negatives. Returns the new U, negatives below and positives."""
    return (u + group_positives * (negatives_below + 0.5 * group_negatives),
            negatives_below + group_negatives, positives_total + group_positives)


@njit(cache=True, nogil=True)
def _weigh_sorted(keys, weights):
    """(U, positive weight, negative weight) from sorted keys (value << 33 | is_positive << 32 | index).

    As in ``_count_sorted``: a positive's weight counts against the negative weight below its
    group plus the negative weight seen so far (its group's negatives sort first), each halved."""
    value_shift = _INDEX_BITS + _ONE
    twice_u = 0.0
    negatives = 0.0
    positives = 0.0
    negatives_at_group_start = 0.0
    n = keys.shape[0]
    previous = keys[0] >> value_shift if n else np.uint64(0)
    for i in range(n):
        key = keys[i]
        value = key >> value_shift
        negatives_at_group_start = negatives if value != previous else negatives_at_group_start
        previous = value
        weight = weights[np.intp(key & _INDEX_MASK)]
        if (key >> _INDEX_BITS) & _ONE:  # (a branch: cheaper here than a product by 0 or 1)
            twice_u += weight * (negatives_at_group_start + negatives)
            positives += weight
        else:
            negatives += weight
    return twice_u / 2, positives, negatives


@njit(cache=True, nogil=True)
def _weigh_ordered(keys, order, y_true, column, weights, weighted):
    """(U, positive total, negative total) visiting examples in ``order`` (ascending ``keys``);
    the fallback for keys that leave no room for an index. Counts are exact in float64 (halves)."""
    u = 0.0
    negatives_below = 0.0
    positives_total = 0.0
    group_positives = 0.0
    group_negatives = 0.0
    if order.shape[0] == 0:
        return 0.0, 0.0, 0.0
    previous = keys[order[0]]  # (a default of another integer type would make numba compare floats)
    for i in range(order.shape[0]):
        index = order[i]
        value = keys[index]
        if value != previous:
            u, negatives_below, positives_total = _close_group(u, negatives_below, positives_total,
                                                               group_positives, group_negatives)
            group_positives = 0.0
            group_negatives = 0.0
            previous = value
        weight = weights[index] if weighted else 1.0
        if y_true[index] == column:
            group_positives += weight
        else:
            group_negatives += weight
    u, negatives_below, positives_total = _close_group(u, negatives_below, positives_total,
                                                       group_positives, group_negatives)
    return u, positives_total, negatives_below


def _float_key(value: np.floating, unsigned) -> int:
    """The ``_sortable`` key of one float, in Python integers."""
    width = value.dtype.itemsize * 8
    bits = int(np.asarray(value).view(unsigned))
    sign, all_ones = 1 << (width - 1), (1 << width) - 1
    if bits == sign:
        return sign
    return bits ^ all_ones if bits & sign else bits | sign


def workers_for_load(tasks: int) -> int:
    """Threads worth starting now: the CPUs this process may run on (its affinity) that are idle
    this moment (``idle_cpus``), plus this thread's own; an idle machine gets every CPU, a busy
    one a single thread. Where there is no count of running threads, the load average stands in
    (it lags a minute behind a process starting or stopping)."""
    if tasks <= 1:
        return 1
    idle = idle_cpus()
    if idle is None:
        try:
            idle = int(usable_cpus() - os.getloadavg()[0] + 0.5)
        except (AttributeError, OSError):  # not every platform reports a load average
            return 1
    return max(1, min(tasks, usable_cpus(), 1 + idle))


def workers_for_columns(columns: int) -> int:
    """Threads for ``columns`` score columns: every CPU this process may run on (its affinity), at
    most one per column, however busy the machine. Their work is cut into tasks (slices of rows
    to pack, then columns to sort) that the threads take as they come free, so a thread that
    another process keeps off its CPU delays only the task it holds: measured at 1e6 x 10 on 2
    CPUs with one CPU-bound process beside it, two threads took 0.86-0.91x the time of one. (One
    column split by value is not so: two threads on a busy machine took as long as one or
    longer, so the split waits for an idle CPU; see ``workers_for_load``.)"""
    return max(1, min(columns, usable_cpus()))


def key_layout(y_score: np.ndarray, weighted: bool) -> tuple[int, Optional[type]]:
    """The smallest score's key (subtracted from every key) and the packed keys' dtype: uint32
    when the keys span fewer than 2**31 values, uint64 when fewer than 2**63 (or, weighted, when
    an index fits beside them), None when they must be argsorted instead."""
    unsigned = _BITS_OF[y_score.dtype.itemsize]
    base = _float_key(y_score.min(), unsigned)
    span = _float_key(y_score.max(), unsigned) - base
    if weighted:
        return base, np.uint64 if span < 1 << 31 and y_score.shape[0] <= _MAX_INDEXED_EXAMPLES else None
    return base, np.uint32 if span < 1 << 31 else np.uint64 if span < 1 << 63 else None


def _layout_if_non_negative(y_score: np.ndarray, weighted: bool) -> Optional[tuple[int, type]]:
    """``key_layout`` for scores that are all >= 0 (probabilities), known without reading them:
    their keys start at 0.0's; None where the layout depends on the range."""
    if y_score.dtype.itemsize == 8:
        return None if weighted else (1 << 63, np.uint64)
    if weighted:
        return None if y_score.shape[0] > _MAX_INDEXED_EXAMPLES else (1 << (y_score.dtype.itemsize * 8 - 1), np.uint64)
    return 1 << (y_score.dtype.itemsize * 8 - 1), np.uint32


def mann_whitney_columns(
    y_score: np.ndarray,
    y_true: np.ndarray,
    weights: Optional[np.ndarray],
    columns: Sequence[int],
    workers: int = 1,
    layout: Optional[tuple[int, Optional[type]]] = None,
) -> ClassTotals:
    """U of each score column in ``columns`` for the examples whose ``y_true`` (class positions,
    intp) equals that column, against all others; exact, ties counted half.

    ``y_score`` is a float16/32/64 (N, K) array in any memory layout; it is read, never copied
    whole: the keys of a group of columns at a time take at most as much memory as the scores.
    ``layout`` is ``key_layout``'s answer when known; by default, scores are first assumed to be
    non-negative (saving two passes for min and max), and measured when one is not.
    """
    n = y_score.shape[0]
    columns = np.asarray(columns, dtype=np.intp)
    unsigned = _BITS_OF[y_score.dtype.itemsize]
    assumed = layout is None and _layout_if_non_negative(y_score, weights is not None)
    base, key_dtype = layout or assumed or key_layout(y_score, weights is not None)
    tasks = len(columns)
    if key_dtype is None:
        def one_column(j: int) -> tuple:
            keys = sortable_keys(np.ascontiguousarray(y_score[:, columns[j]], dtype=np.float64))
            return _weigh_ordered(keys, np.argsort(keys), y_true, columns[j],
                                  np.empty(0) if weights is None else weights, weights is not None)
        return ClassTotals(*np.array(_map(one_column, range(tasks), workers), dtype=np.float64).reshape(tasks, 3).T)

    # Columns per pass over the scores, so that their keys take no more memory than the scores.
    per_pass = max(1, min(tasks, (y_score.shape[1] * y_score.dtype.itemsize) // np.dtype(key_dtype).itemsize))
    keys = None  # (made when first needed: a split column packs into a buffer of its own)
    width = y_score.dtype.itemsize * 8
    sign, all_ones = np.uint64(1 << (width - 1)), np.uint64((1 << width) - 1)

    def sort_and_count(j: int) -> tuple:
        row = keys[j]
        row.sort()
        if weights is None:
            twice_u, n_positive = _count_sorted(row)
            return twice_u / 2, n_positive, n - n_positive
        return _weigh_sorted(row, weights)

    bits = y_score.view(unsigned)
    results = []
    for start in range(0, tasks, per_pass):
        group = columns[start:start + per_pass]
        splittable = assumed and len(group) == 1 and workers > 1 and n >= SPLIT_MIN_EXAMPLES and cpu_idle_now()
        pivot = _split_pivot(bits[:, group[0]], unsigned(sign)) if splittable else None
        if pivot is not None:
            totals = _split_column(bits, y_true, group[0], weights, unsigned(sign), pivot, key_dtype)
            if totals is not None:
                results.append(totals)
                continue
            return mann_whitney_columns(y_score, y_true, weights, columns, workers,
                                        key_layout(y_score, weights is not None))
        keys = np.empty((per_pass, n), dtype=key_dtype) if keys is None else keys
        if assumed and len(group) == 1:
            pack_column = _pack_column if weights is None else _pack_column_indexed
            negative = pack_column(bits, y_true, group[0], unsigned(sign), keys[0])
        else:
            negative = _pack_rows(bits, y_true, group, (sign, all_ones, np.uint64(base)),
                                  32 if weights is not None else 0, keys, workers)
        if negative and assumed:
            return mann_whitney_columns(y_score, y_true, weights, columns, workers,
                                        key_layout(y_score, weights is not None))
        results += _map(sort_and_count, range(len(group)), workers)
    return ClassTotals(*np.array(results, dtype=np.float64).reshape(tasks, 3).T)


def _split_pivot(column_bits: np.ndarray, sign) -> Optional[np.unsignedinteger]:
    """A score (its bits) that splits a column of non-negative scores about in half, chosen from
    a strided sample: scores below it go to one part, the others to the other. None when the
    sample holds a negative score, or puts less than ``_SPLIT_MIN_SHARE`` in a part (many ties)."""
    sample = column_bits[::max(1, column_bits.shape[0] // _SPLIT_SAMPLE)].copy()
    if (sample > sign).any():
        return None
    sample[sample == sign] = 0  # -0.0 is 0.0
    sample.sort()
    median = sample[sample.shape[0] // 2]
    # below the median, or up to it (pivot one above): whichever splits the sample more evenly
    below, up_to = np.searchsorted(sample, median, "left"), np.searchsorted(sample, median, "right")
    half = sample.shape[0] / 2
    pivot, low_share = (median, below) if abs(below - half) <= abs(up_to - half) else (median + 1, up_to)
    if min(low_share, sample.shape[0] - low_share) < _SPLIT_MIN_SHARE * sample.shape[0]:
        return None
    return column_bits.dtype.type(pivot)


def _split_column(bits, y_true, column: int, weights, sign, pivot, key_dtype: type) -> Optional[tuple]:
    """(U, positive total, negative total) of one column on two threads, split by value at
    ``pivot``: first each half of the rows is packed on its own thread, then each part (the
    scores below the pivot, the others) is sorted and counted on its own thread. The halves
    write towards each other so that each part ends up contiguous without counting it first: in
    a buffer of n + n // 2 + 3 keys, with p = n // 2 and q = n + 2, the first half's
    low keys go down from p and its high keys up from q, the second half's low keys up from
    p + 1 and its high keys down from q - 1; the low part is then [p - L1 + 1, p + L2 + 1) and
    the high part [q - H2, q + H1), and every pointer's stray slot lies outside both. Equal
    scores share a part, so every pair across the parts ranks the high part's score above:
    U = U_low + U_high + positives_high * negatives_low. None when a score is negative (these
    keys assumed none)."""
    n = bits.shape[0]
    half = n // 2
    low_start, high_start = half, n + 2  # (the second half's n - half keys fit between, with both strays)
    keys = np.empty(high_start + half + 1, dtype=key_dtype)
    rows = (slice(0, half), slice(half, n))
    # per half: (low pointer, its step, high pointer, its step); steps of -1 wrap as uint64
    backward = np.uint64(-1 & 0xFFFFFFFFFFFFFFFF)
    pointers = ((low_start, backward, high_start, _ONE), (low_start + 1, _ONE, high_start - 1, backward))
    packed: list = [None, None]  # per half: (scores below the pivot, whether any was negative)
    counted: list = [None, None]

    def pack(part: int) -> None:
        low, low_step, high, high_step = pointers[part]
        packed[part] = _pack_column_split(bits[rows[part]], y_true[rows[part]], column, sign, pivot,
                                          0 if weights is None else 32, rows[part].start,
                                          np.uint64(low), low_step, np.uint64(high), high_step, keys)

    def rank(part: int) -> None:
        if packed[0][1] or packed[1][1]:
            return
        (first_low, _), (second_low, _) = packed
        first_high, second_high = half - first_low, n - half - second_low
        own = (keys[low_start - first_low + 1:low_start + second_low + 1] if part == 0
               else keys[high_start - second_high:high_start + first_high])
        own.sort()
        counted[part] = (own.shape[0], _count_sorted(own) if weights is None else _weigh_sorted(own, weights))

    run_steps([[functools.partial(step, part) for part in (0, 1)] for step in (pack, rank)])
    if packed[0][1] or packed[1][1]:
        return None
    (low_size, low), (_, high) = counted
    if weights is None:  # (twice U, positives): exact integers
        positives = low[1] + high[1]
        return (low[0] + high[0] + 2 * high[1] * (low_size - low[1])) / 2, positives, n - positives
    return low[0] + high[0] + high[1] * low[2], low[1] + high[1], low[2] + high[2]


def _pack_rows(bits, y_true, group, constants: tuple, index_shift: int, keys: np.ndarray, workers: int) -> bool:
    """``_pack`` of every row, by slices of rows on ``workers`` threads (one pass writes the keys
    of several columns; it costs about as much as sorting one of them). Returns whether any score
    was negative."""
    n = bits.shape[0]
    slices = _SLICES_PER_THREAD * workers if n >= _PARALLEL_PACK_ROWS and workers > 1 else 1
    bounds = [n * part // slices for part in range(slices + 1)]
    return any(_map(lambda part: _pack(bits[bounds[part]:bounds[part + 1]], y_true[bounds[part]:bounds[part + 1]],
                                       group, *constants, index_shift, bounds[part],
                                       keys[:, bounds[part]:bounds[part + 1]]),
                    range(slices), workers))


def _map(function, items, workers: int) -> list:
    """``[function(item) for item in items]``, on ``workers`` threads (the kernels release the GIL)."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(function, items))
