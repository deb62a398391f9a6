"""The exact Mann-Whitney (AUROC) kernels against scikit-learn's roc_auc_score.

The bucketed kernel is run with options that crowd many scores into each bucket, so small
generated inputs reach every branch: buckets with one positive, with several, tied buckets, and
keys spanning the whole float range.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from toolkit_metrics.mann_whitney import (
    BUCKETED_MIN_EXAMPLES,
    mann_whitney,
    mann_whitney_bucketed,
    mann_whitney_sorted,
    sortable_keys,
)

TOLERANCE = 1e-9
# Scores that stress the keys: both zeros, signs, denormals, the float extremes, repeats.
SPECIAL_SCORES = [-np.finfo(float).max, -1e300, -2.5, -1.0, -1e-300, -5e-324, -0.0, 0.0, 5e-324,
                  1e-300, 0.1, 0.25, 0.5, 0.75, 1.0, 3.0, 1e300, np.finfo(float).max]
CROWDING = [  # bucket options, from "everything in a few buckets" to the defaults
    dict(sample_stride=1, buckets_per_score=0.05, coarse_bits=1),
    dict(sample_stride=1, buckets_per_score=0.3, coarse_bits=4),
    dict(sample_stride=3, buckets_per_score=1.0),
    {},
]


def sklearn_auc(scores, positive, weights):
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # its curve overflows on +-1e308
        warnings.simplefilter("ignore")
        return roc_auc_score(positive, scores, sample_weight=weights)


def bucketed(scores, positive, weights, **options):
    return mann_whitney_bucketed(scores, positive, np.flatnonzero(positive), weights, **options)


@st.composite
def examples(draw, weighted: bool):
    n = draw(st.integers(2, 60))
    score = st.one_of(st.sampled_from(SPECIAL_SCORES),
                      st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                      st.integers(-3, 3).map(float))  # small integers: many ties
    scores = np.array(draw(st.lists(score, min_size=n, max_size=n)), dtype=np.float64)
    positive = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    weights = None
    if weighted:
        weight = st.one_of(st.just(0.0), st.floats(1e-3, 1e3))
        weights = np.array(draw(st.lists(weight, min_size=n, max_size=n)))
    return scores, positive, weights


def defined(positive, weights) -> bool:
    if weights is None:
        return 0 < positive.sum() < positive.size
    return weights[positive].sum() > 0 and weights[~positive].sum() > 0


@settings(max_examples=200, deadline=None)
@given(examples(weighted=False))
def test_unweighted_kernels_match_sklearn(example):
    scores, positive, _ = example
    results = [mann_whitney_sorted(scores, positive)] + [bucketed(scores, positive, None, **options)
                                                         for options in CROWDING]
    for result in results:
        assert result.positive_total == positive.sum()
        assert result.negative_total == (~positive).sum()
    if not defined(positive, None):
        assert all(np.isnan(result.auc) for result in results)
        return
    for result in results:
        assert 2 * result.u == int(2 * result.u)  # unweighted U is counted exactly, in halves
    # the kernels agree exactly with the reference (checked first: cheap when hypothesis shrinks)
    assert all(result.u == results[0].u for result in results)
    assert results[0].auc == pytest.approx(sklearn_auc(scores, positive, None), abs=TOLERANCE)


@settings(max_examples=200, deadline=None)
@given(examples(weighted=True))
def test_weighted_kernels_match_sklearn(example):
    scores, positive, weights = example
    results = [mann_whitney_sorted(scores, positive, weights)] + [
        bucketed(scores, positive, weights, **options) for options in CROWDING]
    for result in results:
        assert result.positive_total == pytest.approx(weights[positive].sum())
        assert result.negative_total == pytest.approx(weights[~positive].sum())
    if not defined(positive, weights):
        assert all(np.isnan(result.auc) for result in results)
        return
    # the kernels agree with the reference (checked first: cheap when hypothesis shrinks)
    reference = results[0].auc
    assert all(result.auc == pytest.approx(reference, abs=1e-12) for result in results)
    assert reference == pytest.approx(sklearn_auc(scores, positive, weights), abs=TOLERANCE)


@given(st.lists(st.sampled_from(SPECIAL_SCORES), min_size=2, max_size=60))
def test_sortable_keys_order_like_the_floats(values):
    scores = np.array(values)
    keys = sortable_keys(scores)
    for i in range(len(values)):
        assert np.array_equal(keys[i] < keys, scores[i] < scores)
        assert np.array_equal(keys[i] == keys, scores[i] == scores)  # -0.0 == 0.0 included


def test_negative_zero_ties_with_zero():
    scores = np.array([-0.0, 0.0, -0.0, 0.0, 1.0, -1.0])
    positive = np.array([True, False, False, True, True, False])
    for options in CROWDING:
        result = bucketed(scores, positive, None, **options)
        # positives -0.0, 0.0, 1.0 against negatives 0.0, -0.0, -1.0: 2 ties each for the zeros
        assert result.u == pytest.approx(2 * (0.5 + 0.5 + 1) + 3)
        assert result.auc == pytest.approx(sklearn_auc(scores, positive, None), abs=TOLERANCE)


@pytest.mark.parametrize("absent", ["positives", "negatives"])
def test_one_class_absent_is_nan(absent):
    scores = np.linspace(0, 1, 10)
    positive = np.full(10, absent == "negatives")
    for kernel in (mann_whitney_sorted, bucketed):
        assert np.isnan(kernel(scores, positive, None).auc)
        assert np.isnan(kernel(scores, positive, np.ones(10)).auc)


def test_class_with_zero_weight_is_nan():
    scores = np.linspace(0, 1, 10)
    positive = np.arange(10) % 2 == 0
    weights = np.where(positive, 0.0, 1.0)
    for kernel in (mann_whitney_sorted, bucketed):
        assert np.isnan(kernel(scores, positive, weights).auc)


def large_cases():
    """Inputs big enough for mann_whitney to take the bucketed path with its default options."""
    rng = np.random.default_rng(7)
    n = BUCKETED_MIN_EXAMPLES + 10_000
    positive = rng.random(n) < 0.1
    logits = rng.normal(size=n) + positive
    signed_zeros = rng.random(n)
    signed_zeros[::3] = -0.0
    signed_zeros[1::3] = 0.0
    cases = {
        "probabilities": (1 / (1 + np.exp(-logits)), positive, None),
        "logits with negatives, weighted": (logits, positive, rng.uniform(0.1, 3.0, n)),
        "rounded (mostly tied buckets)": (np.round(rng.random(n), 2), positive, None),
        "rounded, weighted": (np.round(rng.random(n), 3) - 0.5, positive, rng.exponential(size=n)),
        "narrow range": (0.5 + 1e-9 * rng.random(n), positive, None),
        "balanced classes": (rng.random(n) ** 3, rng.random(n) < 0.5, None),
        "signed zeros, weighted": (signed_zeros, positive, rng.random(n)),
    }
    return [pytest.param(*case, id=name) for name, case in cases.items()]


@pytest.mark.parametrize("scores, positive, weights", large_cases())
def test_bucketed_path_on_large_inputs(scores, positive, weights):
    result = mann_whitney(scores, positive, weights)
    assert result.auc == pytest.approx(sklearn_auc(scores, positive, weights), abs=TOLERANCE)
    assert result.auc == pytest.approx(mann_whitney_sorted(scores, positive, weights).auc, abs=1e-12)
