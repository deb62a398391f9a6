"""Compiled (numba) drawing of Poisson bootstrap weights: the same arithmetic as the numpy path of
:mod:`toolkit.evaluation.poisson`, several times faster; and the batch-by-batch sums of
:mod:`toolkit.evaluation.poisson_sums` drawn and added in one pass, without the weights in memory. Imported only when numba is installed
and a block of weights is large enough to repay importing it; compiled code is cached on disk."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1, _MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_LOW_HALF = np.uint64(0xFFFFFFFF)
# Below this many rows one thread does the block: starting threads costs more than it saves.
_PARALLEL_MIN_ROWS = 65_536


@njit(cache=True, nogil=True, inline="always")
def _poisson(draw, table, thresholds):
    value = table[draw >> np.uint64(16)]
    if value != 255:
        return value
    found = 0
    while found < thresholds.shape[0] and thresholds[found] <= draw:  # rare: a threshold's own bucket
        found += 1
    return found


@njit(cache=True, nogil=True, inline="always")
def _mix(z):
    """SplitMix64's output function (poisson.mix)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _draw_rows(keys, start, first_row, last_row, table, thresholds, out):
    for row in range(first_row, last_row):
        base = np.uint64(start + row) * _GOLDEN
        for pair in range(keys.shape[0]):
            z = _mix(base + keys[pair])
            out[row, 2 * pair] = _poisson(z & _LOW_HALF, table, thresholds)
            out[row, 2 * pair + 1] = _poisson(z >> np.uint64(32), table, thresholds)


def draw_weights(keys: np.ndarray, start: int, n: int, table: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(n, 2 * len(keys)) uint8 weights of positions ``start .. start + n``, rows split over threads."""
    out = np.empty((n, 2 * keys.size), dtype=np.uint8)
    workers = min(os.cpu_count() or 1, max(1, n // _PARALLEL_MIN_ROWS))
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    if workers == 1:
        _draw_rows(keys, start, 0, n, table, thresholds, out)
        return out
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda part: _draw_rows(keys, start, bounds[part], bounds[part + 1], table, thresholds, out),
                      range(workers)))
    return out


@njit(cache=True, nogil=True)
def _fold_rows(keys, start, first_row, last_row, cells, weights, terms, table, thresholds,
               cell_sums, term_sums, examples):
    """Adds rows ``first_row .. last_row``: weight x draw to ``cell_sums[cell]`` (when ``cells`` has
    rows), terms x draw to ``term_sums``, draws to ``examples``; resamples 2q, 2q + 1 per key q.
    Each row's draws go to a buffer first, so that the sums run as whole-row vector adds."""
    with_cells = cells.shape[0] > 0
    drawn = np.empty(2 * keys.shape[0], dtype=np.float64)
    for row in range(first_row, last_row):
        base = np.uint64(start + row) * _GOLDEN
        for pair in range(keys.shape[0]):
            z = _mix(base + keys[pair])
            drawn[2 * pair] = _poisson(z & _LOW_HALF, table, thresholds)
            drawn[2 * pair + 1] = _poisson(z >> np.uint64(32), table, thresholds)
        for j in range(terms.shape[1]):
            term = terms[row, j]
            sums = term_sums[j]
            for r in range(drawn.shape[0]):
                sums[r] += drawn[r] * term
        if with_cells:
            weight = weights[row]
            sums = cell_sums[cells[row]]
            for r in range(drawn.shape[0]):
                sums[r] += drawn[r] * weight
                examples[r] += drawn[r]


def fold_sums(keys: np.ndarray, start: int, cells: np.ndarray, weights: np.ndarray, terms: np.ndarray,
              n_cells: int, table: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_cells, 2P) cell sums, (m, 2P) term sums and (2P,) example counts of the rows of one batch
    at positions ``start ..``, in the resamples of the P keys; drawn and added in one pass, in
    two halves of the rows on threads (a fixed split: the same sums on any machine)."""
    n = terms.shape[0]
    parts = 2 if n >= _PARALLEL_MIN_ROWS else 1
    bounds = np.linspace(0, n, parts + 1).astype(np.int64)
    width = 2 * keys.size
    outputs = [(np.zeros((n_cells if cells.shape[0] else 0, width)), np.zeros((terms.shape[1], width)),
                np.zeros(width)) for _ in range(parts)]

    def run(part: int) -> None:
        _fold_rows(keys, start, bounds[part], bounds[part + 1], cells, weights, terms, table, thresholds, *outputs[part])

    with ThreadPoolExecutor(min(parts, os.cpu_count() or 1)) as pool:
        list(pool.map(run, range(parts)))
    if parts == 1:
        return outputs[0]
    return tuple(first + second for first, second in zip(*outputs))


@njit(cache=True, nogil=True)
def _cell_rows(by_example, cells, weights, cell_sums):
    for example in range(by_example.shape[0]):
        row = by_example[example]
        sums = cell_sums[cells[example]]
        weight = weights[example]
        for r in range(row.shape[0]):
            sums[r] += row[r] * weight


def weighted_cell_sums(by_example: np.ndarray, cells: np.ndarray, weights: np.ndarray, n_cells: int) -> np.ndarray:
    """(n_cells, R): each cell's sum of count x weight over its examples, for the (N, R) counts
    ``by_example`` (bootstrap resamples), in example order."""
    cell_sums = np.zeros((n_cells, by_example.shape[1]))
    _cell_rows(by_example, cells, weights, cell_sums)
    return cell_sums
