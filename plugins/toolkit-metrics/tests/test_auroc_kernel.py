"""The exact Mann-Whitney (AUROC) kernels against scikit-learn's roc_auc_score and each other.

The packed-key kernel is called directly on small generated inputs, in every key layout (uint32,
uint64, uint64 with the example index when weighted, and the argsort fallback), on float16,
float32 and float64 scores with ties, signed zeros, denormals and the float extremes.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from toolkit_metrics.mann_whitney import mann_whitney_packed, mann_whitney_sorted, sortable_keys
from toolkit_metrics.packed_sort import (key_layout, mann_whitney_columns, usable_cpus, workers_for_columns,
                                         workers_for_load)

TOLERANCE = 1e-9
# Scores that stress the keys: both zeros, signs, denormals, the float extremes, repeats.
SPECIAL_SCORES = [-np.finfo(float).max, -1e300, -2.5, -1.0, -1e-300, -5e-324, -0.0, 0.0, 5e-324,
                  1e-300, 0.1, 0.25, 0.5, 0.75, 1.0, 3.0, 1e300, np.finfo(float).max]
DTYPES = [np.float16, np.float32, np.float64]


def sklearn_auc(scores, positive, weights):
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # its curve overflows on +-1e308
        warnings.simplefilter("ignore")
        return roc_auc_score(positive, scores, sample_weight=weights)


@st.composite
def examples(draw, weighted: bool):
    """(N, K) scores of one float dtype (finite in it), class positions 0..K-1, weights or None."""
    dtype = draw(st.sampled_from(DTYPES))
    n, k = draw(st.integers(2, 60)), draw(st.integers(1, 4))
    width = np.finfo(dtype).bits
    score = st.one_of(st.sampled_from(SPECIAL_SCORES),
                      st.floats(0, 1, width=width),  # probabilities: the packed uint32/uint64 layouts
                      st.floats(allow_nan=False, allow_infinity=False, width=width),
                      st.integers(-3, 3).map(float))  # small integers: many ties
    values = np.array(draw(st.lists(score, min_size=n * k, max_size=n * k)), dtype=np.float64)
    with np.errstate(over="ignore"):
        scores = values.astype(dtype)
    scores[~np.isfinite(scores)] = 0.0  # extremes that overflow the narrower dtypes
    y_true = np.array(draw(st.lists(st.integers(0, k), min_size=n, max_size=n)), dtype=np.intp)
    weights = None
    if weighted:
        weight = st.one_of(st.just(0.0), st.floats(1e-3, 1e3))
        weights = np.array(draw(st.lists(weight, min_size=n, max_size=n)))
    return scores.reshape(n, k), y_true, weights


def defined(positive, weights) -> bool:
    if weights is None:
        return 0 < positive.sum() < positive.size
    return weights[positive].sum() > 0 and weights[~positive].sum() > 0


def check_columns(scores, y_true, weights, workers=1):
    k = scores.shape[1]
    totals = mann_whitney_columns(scores, y_true, weights, range(k), workers)
    for column in range(k):
        alone = mann_whitney_columns(scores, y_true, weights, [column], workers)  # one-column kernels
        assert (alone.u[0], alone.positive_total[0], alone.negative_total[0]) == pytest.approx(
            (totals.u[column], totals.positive_total[column], totals.negative_total[column]), rel=1e-12, abs=1e-300)
        positive = y_true == column
        column_scores = scores[:, column].astype(np.float64)
        reference = mann_whitney_sorted(column_scores, positive, weights)
        assert totals.positive_total[column] == pytest.approx(reference.positive_total, rel=1e-12)
        assert totals.negative_total[column] == pytest.approx(reference.negative_total, rel=1e-12)
        if weights is None:
            assert totals.u[column] == reference.u  # counted exactly, in halves
        else:
            assert totals.u[column] == pytest.approx(reference.u, rel=1e-12, abs=1e-300)
        if defined(positive, weights):
            auc = totals.u[column] / (totals.positive_total[column] * totals.negative_total[column])
            assert auc == pytest.approx(sklearn_auc(column_scores, positive, weights), abs=TOLERANCE)


@settings(max_examples=200, deadline=None)
@given(examples(weighted=False))
def test_unweighted_packed_kernel_matches_sklearn(example):
    check_columns(*example)


@settings(max_examples=200, deadline=None)
@given(examples(weighted=True))
def test_weighted_packed_kernel_matches_sklearn(example):
    check_columns(*example)


def layout_cases():
    rng = np.random.default_rng(3)
    n = 3_000
    probabilities = rng.random((n, 3))
    wide = rng.normal(size=(n, 3)) * 1e300
    return {
        "uint32": (np.round(probabilities, 3).astype(np.float32), None, np.uint32),
        "uint64": (probabilities, None, np.uint64),
        "indexed uint64 (weighted)": (probabilities.astype(np.float16), rng.exponential(size=n), np.uint64),
        "argsort (weighted float64)": (probabilities, rng.exponential(size=n), None),
        "argsort (keys over 2**63)": (wide, None, None),
    }


@pytest.mark.parametrize("name", list(layout_cases()))
@pytest.mark.parametrize("workers", [1, 2])
def test_every_key_layout_on_larger_inputs(name, workers):
    scores, weights, expected_dtype = layout_cases()[name]
    assert key_layout(scores, weights is not None)[1] is expected_dtype
    y_true = np.random.default_rng(4).integers(0, 3, scores.shape[0])
    check_columns(scores, y_true, weights, workers)
    check_columns(np.asfortranarray(scores), y_true, weights, workers)  # any memory layout


def test_negative_zero_ties_with_zero():
    scores = np.array([[-0.0], [0.0], [-0.0], [0.0], [1.0], [-1.0]])
    y_true = np.array([0, 1, 1, 0, 0, 1])
    for dtype in DTYPES:
        totals = mann_whitney_columns(scores.astype(dtype), y_true, None, [0])
        # positives -0.0, 0.0, 1.0 against negatives 0.0, -0.0, -1.0: 2 ties each for the zeros
        assert totals.u[0] == 2 * (0.5 + 0.5 + 1) + 3


def test_absent_class_and_zero_weight_give_zero_totals():
    scores = np.linspace(0, 1, 20).reshape(-1, 2)
    y_true = np.zeros(10, dtype=np.intp)
    assert mann_whitney_columns(scores, y_true, None, [0]).negative_total[0] == 0
    weights = np.where(np.arange(10) % 2 == 0, 0.0, 1.0)
    y_true[::2] = 1
    totals = mann_whitney_columns(scores, y_true, weights, [1])
    assert totals.positive_total[0] == 0 and totals.negative_total[0] == 5


@given(st.lists(st.sampled_from(SPECIAL_SCORES), min_size=2, max_size=60))
def test_sortable_keys_order_like_the_floats(values):
    scores = np.array(values)
    keys = sortable_keys(scores)
    for i in range(len(values)):
        assert np.array_equal(keys[i] < keys, scores[i] < scores)
        assert np.array_equal(keys[i] == keys, scores[i] == scores)  # -0.0 == 0.0 included


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_threads_follow_the_cpus_this_process_may_use():
    """One task never gets a thread pool; a process limited to one CPU (its affinity, as in a
    container or under taskset) gets one thread however idle the machine is."""
    assert workers_for_load(1) == workers_for_columns(1) == 1
    assert 1 <= workers_for_load(64) <= usable_cpus()
    assert workers_for_columns(64) == usable_cpus()
    script = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
              "from toolkit_metrics.packed_sort import usable_cpus, workers_for_columns, workers_for_load; "
              "print(usable_cpus(), workers_for_load(64), workers_for_columns(64))")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["1", "1", "1"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DTYPES), st.data())
def test_numpy_packed_keys_count_as_the_sorting_reference(dtype, data):
    """The small-input path for probabilities: integer keys of non-negative scores (both zeros,
    denormals, the largest float, repeats) give the reference's exact U and totals."""
    width = np.finfo(dtype).bits
    score = st.one_of(st.sampled_from([0.0, -0.0, 5e-324, 0.25, 1.0, 1e300, np.finfo(float).max]),
                      st.floats(0, 1, width=width))
    values = data.draw(st.lists(score, min_size=1, max_size=60))
    with np.errstate(over="ignore"):
        scores = np.array(values).astype(dtype)
    scores[~np.isfinite(scores)] = 0.0
    positive = np.array(data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values))))
    assert mann_whitney_packed(scores, positive) == mann_whitney_sorted(scores.astype(np.float64), positive)


@pytest.mark.parametrize("weighted", [False, True])
def test_columns_packed_by_slices_on_two_threads_equal_one_thread(monkeypatch, weighted):
    """Rows packed in slices taken by two threads (a slice's example indices offset by its first
    row, weighted) give the one-thread totals exactly, and scikit-learn's AUROC."""
    from toolkit_metrics import packed_sort

    monkeypatch.setattr(packed_sort, "_PARALLEL_PACK_ROWS", 1_000)
    rng = np.random.default_rng(11)
    n, k = 5_003, 4  # (rows not divisible by the slices)
    y_true = rng.integers(0, k, n)
    scores = rng.dirichlet(np.ones(k), n)
    scores = np.round(scores + 0.3 * np.eye(k)[y_true], 2).astype(np.float32)  # ties
    weights = rng.exponential(size=n) if weighted else None
    one = mann_whitney_columns(scores, y_true, weights, range(k), workers=1)
    two = mann_whitney_columns(scores, y_true, weights, range(k), workers=2)
    for field in ("u", "positive_total", "negative_total"):
        assert np.array_equal(getattr(one, field), getattr(two, field))
    for column in range(k):
        auc = two.u[column] / (two.positive_total[column] * two.negative_total[column])
        assert auc == pytest.approx(sklearn_auc(scores[:, column].astype(np.float64), y_true == column, weights),
                                    abs=TOLERANCE)
