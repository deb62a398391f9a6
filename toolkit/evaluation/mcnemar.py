"""The exact McNemar test of two classifiers' accuracy on the same examples, and its interval.

Only the discordant examples carry information: ``b`` that model a gets right and model b gets
wrong, ``c`` the reverse. Under "equal accuracy" each discordant example is a fair coin, so the
p-value is the two-sided exact binomial test of ``b`` successes in ``b + c`` trials at 1/2
(the same as ``scipy.stats.binomtest(b, b + c, 0.5).pvalue``). The interval for the accuracy
difference ``(b - c) / N`` is Agresti and Min's (2005) adjusted Wald interval for matched
proportions: half an example added to each cell of the 2 x 2 table, which keeps it sensible
when there are few discordant examples.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np


class McNemar(NamedTuple):
    difference: float  # accuracy of a minus accuracy of b
    interval: tuple[float, float]
    p_value: float
    a_only: int  # examples a gets right and b gets wrong
    b_only: int


def binomial_two_sided(successes: int, trials: int) -> float:
    """Two-sided exact binomial p-value at probability 1/2: twice the smaller tail, at most 1."""
    if trials == 0:
        return 1.0
    low = min(successes, trials - successes)
    if 2 * low == trials:
        return 1.0
    # log P(X = k) for k = low, low - 1, ..., 0, from log P(X = low) and the ratios between
    # neighbours; the largest term is P(X = low), so the sum is taken relative to it.
    k = np.arange(low, 0, -1, dtype=np.float64)
    log_ratios = np.log(k / (trials - k + 1))  # log P(X = k - 1) - log P(X = k)
    relative = np.exp(np.concatenate(([0.0], np.cumsum(log_ratios))))
    log_top = (math.lgamma(trials + 1) - math.lgamma(low + 1) - math.lgamma(trials - low + 1)
               - trials * math.log(2))
    return min(1.0, 2.0 * math.exp(log_top) * math.fsum(relative))


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray, ci: float) -> McNemar:
    """The exact McNemar test from each example's correctness (bool arrays) under both models."""
    n = int(correct_a.shape[0])
    a_only = int(np.count_nonzero(correct_a & ~correct_b))
    b_only = int(np.count_nonzero(~correct_a & correct_b))
    z = NormalDist().inv_cdf((1 + ci) / 2)
    adjusted_n = n + 2.0
    centre = (a_only - b_only) / adjusted_n
    discordant = a_only + b_only + 1.0
    spread = math.sqrt(max(discordant - (a_only - b_only) ** 2 / adjusted_n, 0.0)) / adjusted_n
    interval = (max(-1.0, centre - z * spread), min(1.0, centre + z * spread))
    return McNemar((a_only - b_only) / n, interval, binomial_two_sided(a_only, a_only + b_only), a_only, b_only)
