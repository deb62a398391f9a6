"""A plugin's own statistic: a mergeable calibration histogram, and the calibration errors from it.

Every example falls into one of ``BINS`` equal-width bins by the probability the model gave its
predicted label (bin b holds confidences in (EDGES[b], EDGES[b+1]], with 0 in the first bin).
Each bin keeps three weighted sums (examples, confidence, correct predictions); sums merge by
addition, so batches, processes and machines combine into exactly the one-pass histogram.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from toolkit.plugin import Batch

BINS = 15
# Bin b holds confidences in (EDGES[b], EDGES[b + 1]]; 0 goes to the first bin.
EDGES = np.linspace(0.0, 1.0, BINS + 1)


@dataclass(frozen=True)
class CalibrationHistogram:
    """Per-bin weighted sums, and how many confidences fell outside [0, 1]."""

    weight: np.ndarray
    confidence: np.ndarray
    correct: np.ndarray
    outside_unit_interval: int = 0

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())


def empty_histogram(labels: Sequence) -> CalibrationHistogram:
    zeros = np.zeros(BINS, dtype=np.float64)
    return CalibrationHistogram(zeros, zeros.copy(), zeros.copy())


def add_batch(state: CalibrationHistogram, batch: Batch) -> CalibrationHistogram:
    rows = np.arange(len(batch))
    confidence = batch.y_score[rows, batch.y_pred]
    correct = (batch.y_pred == batch.y_true).astype(np.float64)
    weight = np.ones(len(batch)) if batch.sample_weight is None else batch.sample_weight
    bins = np.clip(np.searchsorted(EDGES, confidence, side="left") - 1, 0, BINS - 1)
    outside = int(((confidence < 0) | (confidence > 1)).sum())
    return CalibrationHistogram(
        weight=state.weight + np.bincount(bins, weights=weight, minlength=BINS),
        confidence=state.confidence + np.bincount(bins, weights=weight * confidence, minlength=BINS),
        correct=state.correct + np.bincount(bins, weights=weight * correct, minlength=BINS),
        outside_unit_interval=state.outside_unit_interval + outside,
    )


def merge_histograms(a: CalibrationHistogram, b: CalibrationHistogram) -> CalibrationHistogram:
    return CalibrationHistogram(
        a.weight + b.weight, a.confidence + b.confidence, a.correct + b.correct,
        a.outside_unit_interval + b.outside_unit_interval,
    )


def _usable(histogram: CalibrationHistogram) -> bool:
    if histogram.outside_unit_interval:
        warnings.warn(
            f"{histogram.outside_unit_interval} scores of predicted labels lie outside [0, 1]: "
            "calibration error needs probabilities"
        )
        return False
    if histogram.total_weight == 0:
        warnings.warn("calibration error is undefined: every sample weight is 0")
        return False
    return True


def expected_calibration_error(calibration_histogram: CalibrationHistogram) -> float:
    """Sum over bins of (bin weight / total weight) * |accuracy - mean confidence| in the bin."""
    histogram = calibration_histogram
    if not _usable(histogram):
        return float("nan")
    return float(np.abs(histogram.correct - histogram.confidence).sum() / histogram.total_weight)


def maximum_calibration_error(calibration_histogram: CalibrationHistogram) -> float:
    """The largest |accuracy - mean confidence| over the bins that hold any weight."""
    histogram = calibration_histogram
    if not _usable(histogram):
        return float("nan")
    filled = histogram.weight > 0
    gaps = np.abs(histogram.correct[filled] - histogram.confidence[filled]) / histogram.weight[filled]
    return float(gaps.max())
