"""The log-loss statistic sums exactly: any split into batches gives the same value to the last bit."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.plugin import Batch
from toolkit_metrics import log_loss as statistic
from toolkit_metrics.log_loss import FIXED_POINT, UNIT_BITS, exact_sum


@given(st.lists(st.one_of(st.floats(-1e300, 1e300, allow_nan=False, allow_subnormal=True),
                          st.sampled_from([-1 / 3, -2 / 3, 1 / 3])), max_size=300))
def test_exact_sum_is_the_exact_sum_of_the_terms(values):
    """Negative terms too (logs are): -1/3's two limbs cancel as floats, yet the term is not 0."""
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


# --- the fixed-point road of unweighted scores --------------------------------------------------

def _extreme_logs(dtype) -> list[float]:
    """The least and greatest logs clipping to [eps, 1 - eps] of ``dtype`` lets through."""
    eps = np.finfo(dtype).eps
    return [float(value) for value in np.log(np.array([eps, 1 - eps], dtype=dtype))]


def _floats(dtype) -> st.SearchStrategy:
    """Any finite float of ``dtype``, often inside its fixed-point range, at its ends and just past them."""
    fixed_point, info = FIXED_POINT[np.dtype(dtype)], np.finfo(dtype)
    ends = [-fixed_point.bound, -fixed_point.least]
    edges = [*ends, 0.0, -0.0, 1.0, *_extreme_logs(dtype), *_extreme_logs(np.float16),
             *(float(np.nextafter(dtype(end), dtype(0))) for end in ends),
             *(float(np.nextafter(dtype(end), dtype(-np.inf))) for end in ends),
             float(info.smallest_subnormal), -float(info.smallest_subnormal)]
    width = info.bits
    return st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=width),
                     st.floats(-fixed_point.bound, -fixed_point.least, exclude_min=True, width=width),
                     st.sampled_from(edges))


def _exact_total(values: np.ndarray) -> Fraction:
    """The exact sum of float values, from each one's integer ratio (sharing no code with exact_sum)."""
    total = 0
    for value in values.astype(np.float64).tolist():
        numerator, denominator = value.as_integer_ratio()  # (the denominator: a power of two)
        total += numerator << (1075 - denominator.bit_length())
    return Fraction(total, 1 << 1074)


def _fixed_point_sum(add, values: np.ndarray):
    fixed_point = FIXED_POINT[values.dtype]
    totals = np.zeros(fixed_point.limbs, dtype=np.int64)
    return fixed_point.whole(totals) if add(values, totals) else None


def test_clipped_logs_lie_in_the_fixed_point_range():
    for dtype, summed_as in ((np.float16, np.float32), (np.float32, np.float32), (np.float64, np.float64)):
        least, greatest = _extreme_logs(dtype)
        fixed_point = FIXED_POINT[np.dtype(summed_as)]
        assert -fixed_point.bound < least and greatest <= -fixed_point.least, dtype


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: st.lists(_floats(dtype), max_size=300).map(lambda values: np.array(values, dtype=dtype))))
def test_fixed_point_sums_are_exact_inside_their_range_and_decline_outside(array):
    from toolkit_metrics.log_loss_compiled import fixed_point_totals

    fixed_point = FIXED_POINT[array.dtype]
    inside = all(fixed_point.least <= -value < fixed_point.bound for value in array.tolist())
    expected = _exact_total(array) * (1 << UNIT_BITS) if inside else None
    assert _fixed_point_sum(statistic._fixed_point_totals, array) == expected
    assert _fixed_point_sum(fixed_point_totals, array) == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fixed_point_limbs_hold_millions_of_the_largest_values(dtype):
    """3e6 values of the largest magnitude: one int64 total of whole units would overflow."""
    from toolkit_metrics.log_loss_compiled import fixed_point_totals

    fixed_point = FIXED_POINT[np.dtype(dtype)]
    ends = np.nextafter(dtype(-fixed_point.bound), dtype(0)), dtype(-fixed_point.least)
    values = np.tile(np.array(ends, dtype=dtype), 1_500_000)
    expected = 1_500_000 * sum(Fraction(float(end)) for end in ends) * (1 << UNIT_BITS)
    assert _fixed_point_sum(statistic._fixed_point_totals, values) == expected
    assert _fixed_point_sum(fixed_point_totals, values) == expected


def _exact_log_loss(scores: np.ndarray, y_true: np.ndarray) -> float:
    """The definition, in plain numpy: the mean of each row's clipped true-class log in the scores'
    dtype, summed exactly and rounded once."""
    eps = np.finfo(scores.dtype).eps
    logs = np.log(np.clip(scores[np.arange(len(y_true)), y_true], eps, 1 - eps))
    return float(-_exact_total(logs) / len(y_true))


def _scores_at_the_clip_ends(rng, n: int, n_classes: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """y_true and (n, K) probabilities: half of the true-class ones uniform, half at or past the
    clip range's ends (0, 1, eps, 1 - eps, a subnormal, ...), the rest of each row in one other class."""
    info = np.finfo(dtype)
    ends = np.array([0, 1, info.eps, 1 - info.eps, info.eps / 2, np.nextafter(1 - info.eps, 1),
                     info.smallest_subnormal, 0.5], dtype=dtype)
    y_true = rng.integers(0, n_classes, n)
    probability = np.where(rng.random(n) < 0.5, rng.choice(ends, n), rng.random(n).astype(dtype))
    rows = np.arange(n)
    scores = np.zeros((n, n_classes), dtype=dtype)
    scores[rows, (y_true + rng.integers(1, n_classes, n)) % n_classes] = 1 - probability
    scores[rows, y_true] = probability
    return y_true, scores


def _given_and_seen(scores: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """The scores as given to evaluate (binary: the positive column) and as the statistic sees them."""
    if scores.shape[1] == 2:
        positive = scores[:, 1]
        return positive, np.stack([1 - positive, positive], axis=1)
    if layout == "strided":
        spaced = np.zeros((scores.shape[0], 2 * scores.shape[1]), dtype=scores.dtype)
        spaced[:, ::2] = scores
        return spaced[:, ::2], scores
    return np.asarray(scores, order=layout), scores


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 300), st.sampled_from([2, 3, 7]),
       st.sampled_from([np.float16, np.float32, np.float64]), st.sampled_from(["C", "F", "strided"]), st.booleans())
def test_fixed_point_log_loss_is_the_exact_mean_of_the_clipped_logs(seed, n, n_classes, dtype, layout, compiled):
    y_true, scores = _scores_at_the_clip_ends(np.random.default_rng(seed), n, n_classes, dtype)
    given_scores, seen = _given_and_seen(scores, layout)
    with pytest.MonkeyPatch.context() as patch:
        if compiled:
            patch.setattr(statistic, "COMPILED_MIN_ROWS", 1)
        result = toolkit.evaluate(y_true, y_score=given_scores, metrics=["log_loss"], labels=list(range(n_classes)))
    assert result["log_loss"] == _exact_log_loss(seen, y_true)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_fixed_point_road_is_taken_and_exact_across_chunks(compiled, dtype, n_classes):
    n = (statistic._FIXED_POINT_CHUNK_ROWS if compiled else statistic._CHUNK_ROWS) * 2 + 7
    y_true, scores = _scores_at_the_clip_ends(np.random.default_rng(n_classes), n, n_classes, dtype)
    seen = _given_and_seen(scores, "F")[1]
    assert statistic._fixed_point_log_sum(seen, y_true, compiled) is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statistic, "COMPILED_MIN_ROWS", 1 if compiled else n + 1)
        state = statistic.update(statistic.init([]), Batch(y_true, y_true, seen))
    assert statistic.log_loss(state) == _exact_log_loss(seen, y_true)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", ["f2", "f4", "f8"])
def test_big_endian_scores_give_the_native_log_loss(compiled, weighted, dtype):
    rng = np.random.default_rng(7)
    y_true, scores = _scores_at_the_clip_ends(rng, 500, 3, np.dtype(dtype))
    weights = rng.random(500) if weighted else None
    results = []
    with pytest.MonkeyPatch.context() as patch:
        if compiled:
            patch.setattr(statistic, "COMPILED_MIN_ROWS", 1)
        for order in "<>":
            results.append(toolkit.evaluate(y_true, y_score=scores.astype(order + dtype), sample_weight=weights,
                                            metrics=["log_loss"], labels=[0, 1, 2])["log_loss"])
    assert results[0] == results[1]
