"""Poisson bootstrap weights that depend only on the seed, the resample and the example's position.

In a Poisson bootstrap each example gets an independent Poisson(1) weight in each resample,
instead of the multiplicities of N draws with replacement. No example's weight depends on N or
on the other examples, so a resample can be built batch by batch, partition by partition, and
gives the same numbers however the data was split.

* Example ``p`` (its position in the evaluation: batches and merged evaluators in order) gets in
  resample ``r`` the ``p``-th draw of a stream of its own for ``r``: an SFC64 generator seeded
  by ``(seed, r)``, two 32-bit draws per 64-bit output, each turned into Poisson(1) by
  inversion (the smallest k whose cumulative probability exceeds the draw; every probability
  within 2^-32 of Poisson(1)'s). The stream can be entered at any position, so the weights of
  examples ``start .. start + n`` are the same whether or not the ones before them were drawn.
* A confusion cell's resampled count, without sample weights, is the sum of its examples'
  Poisson(1) weights, which is Poisson(cell count): it is drawn as that, from a stream keyed by
  the seed alone, so it depends only on the final confusion matrix (O(R K^2), bounded memory).
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

# Poisson(1)'s cumulative probabilities as 32-bit thresholds: X = how many thresholds are <= u.
_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(40)])
_THRESHOLDS = np.array([min(int(p * 2**32), 2**32 - 1) for p in _CDF if p * 2**32 < 2**32 - 1], dtype=np.uint64)
_UNSETTLED = 255  # a bucket of the lookup table that a threshold cuts: settled by a search
# Each of the 65,536 buckets of the top 16 bits maps to one value, unless a threshold falls inside it.
_LOW = np.arange(2**16, dtype=np.uint64) << np.uint64(16)
_TABLE = np.searchsorted(_THRESHOLDS, _LOW, side="right").astype(np.uint8)
_TABLE[np.searchsorted(_THRESHOLDS, _LOW + np.uint64(0xFFFF), side="right") != _TABLE] = _UNSETTLED
_TRANSPOSE_ROWS = 8192
# The stream of cell counts: resample streams use 0 .. R - 1 as their second key.
_CELLS_STREAM = 2**63


def check_seed(seed) -> int:
    """The integer a Poisson bootstrap is keyed by: ``seed`` itself, or one drawn from a Generator
    or from fresh entropy (None), once, so that merged evaluators share it."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer for bootstrap='poisson', got {seed!r}")
    return int(seed)


def poisson_from_uniform(draws: np.ndarray) -> np.ndarray:
    """Poisson(1) values (uint8) from uniform 32-bit integers, by inversion."""
    values = _TABLE[draws >> np.uint32(16)]
    unsettled = np.flatnonzero(values == _UNSETTLED)
    if unsettled.size:
        values[unsettled] = np.searchsorted(_THRESHOLDS, draws[unsettled].astype(np.uint64), side="right")
    return values


def resample_weights(seed: int, resample: int, start: int, n: int) -> np.ndarray:
    """Poisson(1) weights of the examples at positions ``start .. start + n`` in ``resample``."""
    generator = np.random.SFC64(np.random.SeedSequence([seed, resample]))
    if start // 2:
        generator.random_raw(start // 2)  # SFC64 cannot jump; drawing and dropping is cheap enough
    first = start % 2
    draws = generator.random_raw((first + n + 1) // 2).view(np.uint32)[first:first + n]
    return poisson_from_uniform(draws)


def weight_chunks(seed: int, n: int, n_bootstrap: int, chunk_cells: int) -> Iterator[np.ndarray]:
    """(n, width) Poisson weights of the positions 0 .. n - 1, ``width`` resamples at a time
    (about ``chunk_cells`` weights per chunk), laid out example-major like the multinomial counts."""
    width = max(1, min(n_bootstrap, chunk_cells // max(n, 1)))
    for first in range(0, n_bootstrap, width):
        count = min(width, n_bootstrap - first)
        by_resample = np.empty((count, n), dtype=np.uint8)
        for offset in range(count):
            by_resample[offset] = resample_weights(seed, first + offset, 0, n)
        by_example = np.empty((n, count), dtype=np.uint8)
        for start in range(0, n, _TRANSPOSE_ROWS):  # in blocks that stay in cache: 3x faster than at once
            by_example[start:start + _TRANSPOSE_ROWS] = by_resample[:, start:start + _TRANSPOSE_ROWS].T
        yield by_example


def cell_counts(seed: int, counts: np.ndarray, n_bootstrap: int) -> np.ndarray:
    """(R,) + counts.shape resampled counts: each cell Poisson(its count), independently."""
    generator = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed, _CELLS_STREAM])))
    return generator.poisson(np.asarray(counts, dtype=np.float64), size=(n_bootstrap,) + np.shape(counts))
