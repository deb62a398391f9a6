"""Log loss's statistic as a weighted sum of per-example terms, so the Poisson bootstrap resamples
it batch by batch (``StatisticSpec.terms`` / ``from_sums``) when every score cannot be kept."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from toolkit.plugin import Batch
from toolkit_metrics.log_loss import UNIT_BITS, _losses


def terms(batch: Batch) -> np.ndarray:
    """(n, 2): each example's loss and 1; weighted sums give the two sums the statistic holds."""
    losses = _losses(batch.y_score, batch.y_true).astype(np.float64)
    return np.column_stack([losses, np.ones_like(losses)])


def from_sums(sums: np.ndarray) -> list:
    """The statistic's state ([losses, weights] in units of 2**-UNIT_BITS) from the two sums:
    every float64 is a whole number of units, so nothing is rounded."""
    return [int(Fraction(float(total)) * (1 << UNIT_BITS)) for total in sums]
