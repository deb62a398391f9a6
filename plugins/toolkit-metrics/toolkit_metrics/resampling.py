"""AUROC and log loss over many bootstrap resamples at once: sort once, then weighted sums per resample.

A resample is the same examples with their weights multiplied by how often each was drawn (an
(R, N) count matrix). AUROC is the weighted Mann-Whitney U: for each positive, the weight of the
negatives scored below it plus half of those tied with it. With the examples sorted once per
score column, "negatives below a positive" is a fixed position in the negatives' running sum,
so each resample costs one cumulative sum and one gather, vectorised over the chunk's rows.
From _COMPILED_MIN_EXAMPLES examples on, a compiled pass over the sorted order does the same sums
(``resampled_kernels``): several times faster, and without the running sums' scratch arrays.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

# Below this many examples a thread pool costs more than it saves.
_PARALLEL_MIN_EXAMPLES = 100_000
# From this many examples on, the compiled kernels (resampled_kernels) do the sums: importing numba
# costs about 1 s once per process, which 1,000 resamples of K=2 classes repay from here on.
_COMPILED_MIN_EXAMPLES = 100_000
# Rows of counts turned into floats at a time for the log-loss sums (stays in cache).
_LOSS_BLOCK_ROWS = 4096


@dataclass(frozen=True)
class SortedColumn:
    """One score column's ranking, computed once: who is negative/positive, and where ties fall."""

    negatives: np.ndarray  # example indices of the negatives, by ascending score
    positives: np.ndarray  # example indices of the positives
    below: np.ndarray      # for each positive, how many negatives score strictly lower
    up_to: Optional[np.ndarray]  # ... and how many score lower or equal; None when nothing ties


def sorted_column(scores: np.ndarray, positive: np.ndarray) -> SortedColumn:
    # Any sort will do (numpy's default is several times faster than a stable one): ties are
    # settled by the searches below, and the same scores always sort the same way.
    order = np.argsort(scores)
    is_positive = positive[order]
    negatives, positives = order[~is_positive], order[is_positive]
    negative_scores, positive_scores = scores[negatives], scores[positives]
    below = np.searchsorted(negative_scores, positive_scores, side="left")
    up_to = np.searchsorted(negative_scores, positive_scores, side="right")
    return SortedColumn(negatives, positives, below, None if np.array_equal(below, up_to) else up_to)


@dataclass(frozen=True)
class RankedColumn:
    """One score column's ranking for the compiled kernel: the examples by ascending score, and
    what each step of that order is (see ``resampled_kernels.step_kinds``)."""

    order: np.ndarray
    kinds: np.ndarray


def ranked_column(scores: np.ndarray, positive: np.ndarray) -> RankedColumn:
    from toolkit_metrics.resampled_kernels import step_kinds

    order = np.argsort(scores)
    if order.shape[0] < 2**31:  # half the bytes to read per step
        order = order.astype(np.int32)
    return RankedColumn(order, step_kinds(scores[order], positive[order]))


def _column(score_table, k: int):
    """Column ``k``'s ranking, in the form the resampled sums of this many examples use."""
    y_true, y_score = score_table.y_true, score_table.y_score
    rank = ranked_column if y_true.shape[0] >= _COMPILED_MIN_EXAMPLES else sorted_column
    return rank(np.ascontiguousarray(y_score[:, k]), y_true == k)


def _sorted_columns(score_table) -> list[SortedColumn]:
    y_true, y_score = score_table.y_true, score_table.y_score
    return _per_class(lambda k: _column(score_table, k), range(y_score.shape[1]), y_true.shape[0])


def _per_class(work, classes, n_examples: int) -> list:
    """``work(c)`` for each class, in threads when there is enough to do (numpy lets go of the
    GIL in sorts, gathers and sums)."""
    workers = min(len(classes), os.cpu_count() or 1)
    if workers > 1 and n_examples >= _PARALLEL_MIN_EXAMPLES:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(work, classes))
    return [work(c) for c in classes]


# Rows per block of the two-level running sum (see _running_sums_at).
_BLOCK = 64


def _blocked(source: np.ndarray, rows: np.ndarray, weights: Optional[np.ndarray]) -> np.ndarray:
    """``source[rows]`` (times ``weights`` per row), zero-padded to whole blocks of _BLOCK rows.

    Unweighted counts stay integers: one-byte counts sum to at most 64 * 255 within a block, so
    the within-block prefix fits in uint16.
    """
    width = source.shape[1]
    blocks = -(-rows.shape[0] // _BLOCK)
    if weights is not None:
        dtype = np.float64
    else:
        dtype = np.uint16 if source.dtype == np.uint8 else np.int64
    padded = np.empty((blocks * _BLOCK, width), dtype=dtype)
    taken = np.take(source, rows, axis=0)
    if weights is None:
        padded[: rows.shape[0]] = taken
    else:
        np.multiply(taken, weights[rows][:, None], out=padded[: rows.shape[0]])
    padded[rows.shape[0]:] = 0
    return padded


def _running_sums_at(padded: np.ndarray, below: np.ndarray,
                     up_to: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Twice the negative mass under each positive: ``2 * cumsum(padded)`` read before ``below``,
    or, with ties, the sum of the two reads before ``below`` and before ``up_to``; and the total
    mass of each column (exactly 0 when every row is 0).

    numpy's cumsum along axis 0 walks each column with a stride and is several times slower than
    adding whole rows, so the sum runs in two levels: a prefix within blocks of _BLOCK rows, one
    row-add per step across all blocks at once, then a prefix of the block totals. ``padded``
    (from :func:`_blocked`) is overwritten.
    """
    width = padded.shape[1]
    blocks = padded.shape[0] // _BLOCK
    exact = np.int64 if padded.dtype.kind in "iu" else np.float64
    if blocks == 0:  # no negatives: nothing lies below any positive
        return np.zeros((below.shape[0], width), dtype=exact), np.zeros(width)
    within = padded.reshape(blocks, _BLOCK, width)
    for step in range(1, _BLOCK):
        within[:, step] += within[:, step - 1]
    before_block = np.zeros((blocks, width), dtype=exact)
    np.cumsum(within[:-1, -1], axis=0, out=before_block[1:])

    def read_before(positions: np.ndarray) -> np.ndarray:
        last = positions - 1  # the inclusive prefix of the row before ``position``
        block, offset = np.divmod(np.maximum(last, 0), _BLOCK)
        sums = before_block[block] + within[block, offset]
        sums[last < 0] = 0
        return sums

    first = read_before(below)
    total = (before_block[-1] + within[-1, -1]).astype(np.float64)
    return (2 * first if up_to is None else first + read_before(up_to)), total


def resampled_auc(column: "SortedColumn | RankedColumn", by_example: np.ndarray, weights: Optional[np.ndarray]) -> np.ndarray:
    """AUROC of one column in each resample (columns of the (N, R) ``by_example`` counts);
    nan where a class is absent from a resample."""
    return resampled_auc_and_mass(column, by_example, weights)[0]


def resampled_auc_and_mass(column: "SortedColumn | RankedColumn", by_example: np.ndarray,
                           weights: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`resampled_auc`, and the positives' resampled (weighted) mass, which is the class's
    support in each resample."""
    if isinstance(column, RankedColumn):
        from toolkit_metrics.resampled_kernels import auc_sums

        twice_u, positive_total, negative_total = auc_sums(column.order, column.kinds, by_example, weights)
        return _area(twice_u, positive_total, negative_total), positive_total
    positive_mass = np.take(by_example, column.positives, axis=0)
    if weights is not None:
        positive_mass = positive_mass * weights[column.positives][:, None]
    positive_total = positive_mass.sum(axis=0, dtype=np.float64)
    # the negatives' total from their own running sum: exactly 0 for a resample without negatives
    # (total minus positives could leave a rounding residue with weights)
    twice_below, negative_total = _running_sums_at(
        _blocked(by_example, column.negatives, weights), column.below, column.up_to)
    if weights is None:  # exact in integers: 2U < 2^63 for any N a machine can hold
        twice_u = np.einsum("ij,ij->j", positive_mass.astype(np.int64), twice_below).astype(np.float64)
    else:
        twice_u = np.einsum("ij,ij->j", positive_mass, twice_below)
    return _area(twice_u, positive_total, negative_total), positive_total


def _area(twice_u: np.ndarray, positive_total: np.ndarray, negative_total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((positive_total > 0) & (negative_total > 0),
                        0.5 * twice_u / (positive_total * negative_total), np.nan)


def _one_vs_rest(scores, resamples) -> tuple[np.ndarray, np.ndarray]:
    """(R, K) per-class AUROC and (R, K) per-class support, shared by the macro and weighted
    averages within a chunk."""
    def compute(resamples) -> tuple[np.ndarray, np.ndarray]:
        columns = scores.derived("sorted_columns", _sorted_columns)
        parts = _per_class(lambda column: resampled_auc_and_mass(column, resamples.by_example, scores.sample_weight),
                           columns, scores.y_true.shape[0])
        return np.column_stack([auc for auc, _ in parts]), np.column_stack([mass for _, mass in parts])
    return resamples.derived("one_vs_rest_auc", compute)


def roc_auc(scores, labels: Sequence, resamples) -> np.ndarray:
    column = scores.derived("sorted_column_1", lambda table: _column(table, 1))
    return resampled_auc(column, resamples.by_example, scores.sample_weight)


def roc_auc_ovr_macro(scores, labels: Sequence, resamples) -> np.ndarray:
    return _one_vs_rest(scores, resamples)[0].mean(axis=1)


def roc_auc_ovr_weighted(scores, labels: Sequence, resamples) -> np.ndarray:
    per_class, support = _one_vs_rest(scores, resamples)
    with np.errstate(invalid="ignore"):
        return np.einsum("ij,ij->i", per_class, support) / support.sum(axis=1)


def _example_losses(score_table) -> np.ndarray:
    y_score = score_table.y_score
    eps = np.finfo(y_score.dtype).eps
    return -np.log(np.clip(y_score[np.arange(y_score.shape[0]), score_table.y_true], eps, 1 - eps))


def log_loss(scores, resamples) -> np.ndarray:
    """Each resample's (weighted) mean loss: (loss x weight) @ counts / weight @ counts."""
    losses = scores.derived("example_losses", _example_losses)
    weights = scores.sample_weight
    by_example = resamples.by_example
    weights = np.ones(by_example.shape[0]) if weights is None else weights
    if by_example.shape[0] >= _COMPILED_MIN_EXAMPLES:
        from toolkit_metrics.resampled_kernels import loss_sums

        sums = loss_sums(scores.derived("weighted_losses", lambda table: losses * weights), weights, by_example)
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[0] / sums[1]
    both = np.column_stack([losses * weights, weights])  # (N, 2): one product gives both sums
    sums = np.zeros((2, by_example.shape[1]))
    # float copies of the counts a block of rows at a time: a whole (N, R) float64 copy would
    # cost more memory traffic than the products themselves
    for start in range(0, by_example.shape[0], _LOSS_BLOCK_ROWS):
        rows = slice(start, start + _LOSS_BLOCK_ROWS)
        sums += both[rows].T @ by_example[rows].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums[0] / sums[1]
