"""Poisson bootstrap weights that depend only on the seed, the resample and the example's position.

In a Poisson bootstrap each example gets an independent Poisson(1) weight in each resample,
instead of the multiplicities of N draws with replacement. No example's weight depends on N or
on the other examples, so a resample can be built batch by batch, partition by partition, and
gives the same numbers however the data was split.

* Example ``p`` (its position in the evaluation: batches and merged evaluators in order) gets in
  resamples ``2q`` and ``2q + 1`` the two 32-bit halves of one counter-based hash: SplitMix64's
  output function of ``p * golden + key(seed, q)`` (the SplitMix64 stream of key ``key(seed, q)``
  entered at step ``p``). Each half becomes Poisson(1) by inversion: the smallest k whose
  cumulative probability exceeds the draw, every probability within 2^-32 of Poisson(1)'s (the
  last value stands for the whole tail beyond it, of probability below 2^-32). A lookup table
  on the top 16 bits settles all but about 1 draw in 5,000, which a search settles exactly.
  Any block of positions and resamples costs the same to draw, wherever it starts.
* The draws are made by a compiled kernel (numba) when numba is installed and there are enough
  of them to repay importing it, and by numpy otherwise: the same integer arithmetic, so
  the same weights bit for bit (a test compares them).
* A confusion cell's resampled count, without sample weights, is the sum of its examples'
  Poisson(1) weights, which is Poisson(cell count): it is drawn as that, from a stream keyed by
  the seed alone, so it depends only on the final confusion matrix (O(R K^2), bounded memory).
"""

from __future__ import annotations

import importlib.util
import math
import sys
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
# The stream of cell counts: resample streams use 0 .. R - 1 as their second key.
_CELLS_STREAM = 2**63
GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment
_MIX_1, _MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
# Below this many weights in all, numpy draws them (about 7 ns each): importing numba (about 1 s)
# would cost more than the compiled kernel (under 1 ns each) saves.
COMPILED_MIN_WEIGHTS = 200_000_000
_NUMPY_BLOCK_ROWS = 1 << 14  # rows drawn at a time by numpy: its scratch arrays stay in cache


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


def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on uint64 values (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def stream_keys(seed: int, first_pair: int, pairs: int) -> np.ndarray:
    """The key of each pair of resamples ``first_pair .. first_pair + pairs`` (uint64)."""
    with np.errstate(over="ignore"):
        pair = np.arange(first_pair, first_pair + pairs, dtype=np.uint64)
        return mix(mix(np.uint64(seed) * GOLDEN + np.uint64(1)) ^ mix(pair * GOLDEN + np.uint64(2)))


def poisson_from_uniform(draws: np.ndarray) -> np.ndarray:
    """Poisson(1) values (uint8) from uniform 32-bit integers, by inversion."""
    values = _TABLE[draws >> np.uint32(16)]
    unsettled = np.flatnonzero(values == _UNSETTLED)
    if unsettled.size:
        flat = values.reshape(-1)
        flat[unsettled] = np.searchsorted(_THRESHOLDS, draws.reshape(-1)[unsettled].astype(np.uint64), side="right")
    return values


def compiled_for(weights: int) -> bool:
    """Whether drawing this many weights in all is worth the compiled kernel: from
    COMPILED_MIN_WEIGHTS on, or from a twentieth of that once numba was imported anyway (by the
    metric plugins' kernels), when only loading the cached kernel is left to pay."""
    threshold = COMPILED_MIN_WEIGHTS // 20 if "numba" in sys.modules else COMPILED_MIN_WEIGHTS
    return weights >= threshold and importlib.util.find_spec("numba") is not None


def weights_block(seed: int, start: int, n: int, first: int, count: int, compiled: bool = False) -> np.ndarray:
    """(n, count) uint8 Poisson(1) weights of the positions ``start .. start + n`` in resamples
    ``first .. first + count``, example-major (a row holds one example's weights); ``compiled``
    draws them with the numba kernel (the same values, see :func:`compiled_for`)."""
    first_pair, last_pair = first // 2, (first + count + 1) // 2
    keys = stream_keys(seed, first_pair, last_pair - first_pair)
    if compiled:
        from toolkit.evaluation.poisson_kernels import draw_weights

        pairs = draw_weights(keys, start, n, _TABLE, _THRESHOLDS)
    else:
        pairs = _draw_with_numpy(keys, start, n)
    offset = first - 2 * first_pair
    return np.ascontiguousarray(pairs[:, offset:offset + count]) if pairs.shape[1] != count else pairs


def _draw_with_numpy(keys: np.ndarray, start: int, n: int) -> np.ndarray:
    out = np.empty((n, 2 * keys.size), dtype=np.uint8)
    for row in range(0, n, _NUMPY_BLOCK_ROWS):
        rows = min(_NUMPY_BLOCK_ROWS, n - row)
        with np.errstate(over="ignore"):
            positions = np.arange(start + row, start + row + rows, dtype=np.uint64) * GOLDEN
        hashed = mix(positions[:, None] + keys[None, :])
        draws = np.empty((rows, keys.size, 2), dtype=np.uint32)
        draws[:, :, 0] = hashed & np.uint64(0xFFFFFFFF)  # resample 2q: the low half
        draws[:, :, 1] = hashed >> np.uint64(32)  # resample 2q + 1: the high half
        out[row:row + rows] = poisson_from_uniform(draws.reshape(rows, -1))
    return out


def resample_weights(seed: int, resample: int, start: int, n: int) -> np.ndarray:
    """Poisson(1) weights of the examples at positions ``start .. start + n`` in ``resample``."""
    return weights_block(seed, start, n, resample, 1)[:, 0].copy()


def chunk_width(n: int, n_bootstrap: int, chunk_cells: int) -> int:
    """Resamples per chunk of an (n, width) weight matrix holding about ``chunk_cells`` weights,
    and at least 16: narrower rows make the kernels' gathers of one example's row wasteful."""
    return max(1, min(n_bootstrap, max(16, chunk_cells // max(n, 1))))


def weight_chunks(seed: int, n: int, n_bootstrap: int, chunk_cells: int) -> Iterator[np.ndarray]:
    """(n, width) Poisson weights of the positions 0 .. n - 1, ``width`` resamples at a time
    (see :func:`chunk_width`), laid out example-major like the multinomial counts."""
    width = chunk_width(n, n_bootstrap, chunk_cells)
    compiled = compiled_for(n * n_bootstrap)
    for first in range(0, n_bootstrap, width):
        yield weights_block(seed, 0, n, first, min(width, n_bootstrap - first), compiled)


def cell_counts(seed: int, counts: np.ndarray, n_bootstrap: int) -> np.ndarray:
    """(R,) + counts.shape resampled counts: each cell Poisson(its count), independently."""
    generator = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed, _CELLS_STREAM])))
    return generator.poisson(np.asarray(counts, dtype=np.float64), size=(n_bootstrap,) + np.shape(counts))
