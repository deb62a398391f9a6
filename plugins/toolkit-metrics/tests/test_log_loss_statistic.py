"""The log-loss statistic sums exactly: any split into batches gives the same value to the last bit."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit
from toolkit_metrics.log_loss import UNIT_BITS, exact_sum


@given(st.lists(st.floats(0, 1e300, allow_nan=False, allow_subnormal=True), max_size=300))
def test_exact_sum_is_the_exact_sum_of_the_terms(values):
    expected = sum(Fraction(value) for value in values) * (1 << UNIT_BITS)
    assert exact_sum(np.array(values, dtype=np.float64)) == expected


def test_exact_sum_crosses_chunks_without_overflow():
    values = np.full(5_000_000, 2.0 ** 41 + 0.123)
    assert exact_sum(values) == 5_000_000 * Fraction(2.0 ** 41 + 0.123) * (1 << UNIT_BITS)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.booleans(), st.lists(st.integers(1, 499), max_size=8))
def test_log_loss_is_the_same_to_the_last_bit_however_the_data_is_split(seed, weighted, cuts):
    rng = np.random.default_rng(seed)
    y_true, scores = rng.integers(0, 3, 500), rng.dirichlet([1, 1, 1], 500)
    weights = rng.random(500) * 10 if weighted else None
    whole = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, metrics=["log_loss"])
    cuts = sorted(set(cuts))
    parts = [toolkit.Evaluator([0, 1, 2], ["log_loss"]).update(
        true_part, y_score=score_part, sample_weight=None if weights is None else weight_part)
        for true_part, score_part, weight_part in zip(
            np.split(y_true, cuts), np.split(scores, cuts), np.split(np.ones(500) if weights is None else weights, cuts))]
    merged = parts[-1]
    for part in reversed(parts[:-1]):
        merged.merge(part)
    assert merged.compute()["log_loss"] == whole["log_loss"]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([np.float32, np.float64]),
       st.lists(st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True, width=32), max_size=300))
def test_compiled_exact_sum_is_the_same_integer(dtype, values):
    from toolkit_metrics.log_loss_compiled import exact_sum_compiled

    array = np.array(values, dtype=dtype)
    assert exact_sum_compiled(array, UNIT_BITS) == exact_sum(array.astype(np.float64))
    assert exact_sum_compiled(-array, UNIT_BITS) == -exact_sum(array.astype(np.float64))


def test_compiled_exact_sum_of_the_float_extremes():
    from toolkit_metrics.log_loss_compiled import exact_sum_compiled

    for dtype in (np.float32, np.float64):
        info = np.finfo(dtype)
        values = np.array([0.0, -0.0, info.smallest_subnormal, info.tiny, info.max, -info.max, 1.0], dtype=dtype)
        expected = sum(Fraction(float(value)) for value in values) * (1 << UNIT_BITS)
        assert exact_sum_compiled(values, UNIT_BITS) == expected


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([2, 3, 7]), st.sampled_from(["float16", "float32", "float64"]),
       st.booleans(), st.booleans())
def test_compiled_large_batch_path_gives_the_same_log_loss(seed, n_classes, dtype, weighted, column_major):
    """Large batches gather, clip and sum compiled; forced on small ones, the value is the same bits."""
    from toolkit_metrics import log_loss as statistic

    rng = np.random.default_rng(seed)
    n = 700
    y_true = rng.integers(0, n_classes, n)
    scores = rng.dirichlet(np.ones(n_classes), n).astype(dtype)
    scores[:5] = np.eye(n_classes, dtype=dtype)[rng.integers(0, n_classes, 5)]  # probabilities 0 and 1: clipped
    scores = np.asarray(scores, order="F" if column_major else "C")
    y_score = scores[:, 1] if n_classes == 2 else scores
    weights = rng.random(n) * 1e-300 if weighted else None
    results = []
    for threshold in (10 ** 9, 1):
        original, statistic.COMPILED_MIN_ROWS = statistic.COMPILED_MIN_ROWS, threshold
        try:
            results.append(toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, metrics=["log_loss"],
                                            labels=list(range(n_classes)))["log_loss"])
        finally:
            statistic.COMPILED_MIN_ROWS = original
    assert results[0] == results[1]
