"""Binned AUROC: the bin map, the compiled counting pass, the error bound against scikit-learn, merging."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

import toolkit
from toolkit.plugin import Batch
from toolkit_binned_auroc import auroc
from toolkit_binned_auroc.histogram import BINS, bin_index, count_batch

BINARY_METRICS = ["roc_auc", "roc_auc_binned"]
MULTICLASS_METRICS = ["roc_auc_ovr_macro", "roc_auc_ovr_weighted",
                      "roc_auc_ovr_macro_binned", "roc_auc_ovr_weighted_binned"]


@given(st.lists(st.floats(-2, 3, allow_nan=False, width=32), min_size=1, max_size=200))
def test_the_bin_never_decreases_as_the_score_grows(values):
    scores = np.sort(np.array(values, dtype=np.float32))
    bins = bin_index(scores)
    assert bins.min() >= 0 and bins.max() < BINS
    assert (np.diff(bins) >= 0).all()


def test_bins_are_fine_next_to_both_ends():
    # 0.2 % of the distance to the nearer end: these neighbours near 0 and near 1 are apart.
    near_one = np.array([0.999, 0.99901, 0.9999, 0.99991], dtype=np.float32)
    near_zero = 1 - near_one.astype(np.float64)
    assert len(set(bin_index(near_one).tolist())) == 4
    assert len(set(bin_index(near_zero).tolist())) == 4
    assert bin_index(np.array([-1.0, 0.0]))[0] == bin_index(np.array([0.0]))[0] == 0
    assert bin_index(np.array([2.0]))[0] == bin_index(np.array([1.0]))[0] == BINS - 1


@pytest.mark.parametrize("weighted", [False, True])
def test_the_compiled_pass_counts_what_numpy_counts(weighted):
    rng = np.random.default_rng(3)
    n, k = 5000, 4
    scores = rng.random((n, k))
    y_true = rng.integers(0, k, n)
    weights = rng.random(n) if weighted else np.empty(0)
    all_counts, positive_counts = np.zeros((k, BINS)), np.zeros((k, BINS))
    count_batch(scores, y_true, weights, 0, all_counts, positive_counts)
    w = weights if weighted else np.ones(n)
    for column in range(k):
        bins = bin_index(scores[:, column])
        np.testing.assert_allclose(all_counts[column], np.bincount(bins, weights=w, minlength=BINS), rtol=1e-12)
        positive = y_true == column
        np.testing.assert_allclose(positive_counts[column],
                                   np.bincount(bins[positive], weights=w[positive], minlength=BINS), rtol=1e-12)


@st.composite
def scored_problems(draw):
    """Classes, true labels, probability scores on a coarse grid (many ties) and optional weights."""
    k = draw(st.integers(2, 4))
    n = draw(st.integers(2, 80))
    y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    grid = draw(st.sampled_from([4, 1000, 10 ** 6]))
    raw = np.array(draw(st.lists(st.integers(1, grid), min_size=n * k, max_size=n * k)), float)
    scores = raw.reshape(n, k) / raw.reshape(n, k).sum(axis=1, keepdims=True)
    weights = np.array(draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))) if draw(st.booleans()) else None
    return k, y_true, scores, weights


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scored_problems())
def test_binned_auroc_is_within_its_reported_bound_of_scikit_learn(problem):
    k, y_true, scores, weights = problem
    if k == 2:
        if len(set(y_true.tolist())) < 2:
            return
        result = toolkit.evaluate(y_true, y_score=scores[:, 1], labels=[0, 1], sample_weight=weights,
                                  metrics=["roc_auc_binned"])
        exact = roc_auc_score(y_true, scores[:, 1], sample_weight=weights)
        assert abs(result["roc_auc_binned"] - exact) <= result["roc_auc_binned_error_bound"] + 1e-12
        return
    if len(set(y_true.tolist())) < k:
        return
    result = toolkit.evaluate(y_true, y_score=scores, labels=list(range(k)), sample_weight=weights,
                              metrics=MULTICLASS_METRICS)
    m = result.metrics
    for average in ("macro", "weighted"):
        exact = roc_auc_score(y_true, scores, multi_class="ovr", average=average, sample_weight=weights)
        assert abs(m[f"roc_auc_ovr_{average}"] - exact) < 1e-9
        binned = f"roc_auc_ovr_{average}_binned"
        assert abs(m[binned] - exact) <= m[f"{binned}_error_bound"] + 1e-12


def test_scores_in_separate_bins_give_exact_auroc_and_a_zero_bound():
    # Scores 1 % apart on a log scale from both ends never share a bin: no pair counts as a tie.
    # (Down to a distance of 1e-4: float32, which the bins read, spaces values 6e-8 apart near 1.)
    rng = np.random.default_rng(5)
    distances = 0.5 * 0.99 ** np.arange(1, 900)
    scores = np.concatenate([distances, 1 - distances])
    y_true = (rng.random(scores.size) < scores).astype(int)
    result = toolkit.evaluate(y_true, y_score=scores, metrics=BINARY_METRICS)
    assert result["roc_auc_binned_error_bound"] == 0.0
    assert result["roc_auc_binned"] == pytest.approx(roc_auc_score(y_true, scores), abs=1e-12)


def test_the_bound_is_small_for_continuous_scores_and_the_error_smaller():
    rng = np.random.default_rng(6)
    n = 200_000
    y_true = rng.integers(0, 2, n)
    scores = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.5 * y_true)))
    result = toolkit.evaluate(y_true, y_score=scores, metrics=BINARY_METRICS)
    error = abs(result["roc_auc_binned"] - roc_auc_score(y_true, scores))
    assert result["roc_auc_binned_error_bound"] < 1e-3
    assert error <= result["roc_auc_binned_error_bound"]


def test_states_merge_to_the_state_of_all_the_data():
    rng = np.random.default_rng(7)
    y_true, scores = rng.integers(0, 3, 3000), rng.random((3000, 3))
    whole = auroc.update(auroc.init([0, 1, 2]), Batch(y_true, y_true, scores))
    halves = [auroc.update(auroc.init([0, 1, 2]), Batch(y_true[part], y_true[part], scores[part]))
              for part in (slice(0, 1234), slice(1234, None))]
    merged = auroc.merge(*halves)
    np.testing.assert_array_equal(merged.all_counts, whole.all_counts)
    np.testing.assert_array_equal(merged.positive_counts, whole.positive_counts)


def test_a_large_batch_counted_on_threads_equals_one_thread():
    rng = np.random.default_rng(8)
    n = auroc._PARALLEL_MIN_ROWS + 12345
    y_true, scores = rng.integers(0, 3, n), rng.random((n, 3)).astype(np.float32)
    threaded = auroc.update(auroc.init([0, 1, 2]), Batch(y_true, y_true, scores))
    single = auroc.init([0, 1, 2])
    count_batch(scores, y_true, np.empty(0), 0, single.all_counts, single.positive_counts)
    np.testing.assert_array_equal(threaded.all_counts, single.all_counts)
    np.testing.assert_array_equal(threaded.positive_counts, single.positive_counts)


def test_binned_metrics_are_opt_in_and_stand_in_for_exact_auroc_when_memory_is_bounded():
    rng = np.random.default_rng(9)
    y_true, scores = rng.integers(0, 3, 500), rng.dirichlet([1, 1, 1], 500)
    default = toolkit.evaluate(y_true, y_score=scores)
    assert "roc_auc_ovr_macro" in default.metrics
    assert not [name for name in default.metrics if "binned" in name]
    bounded = toolkit.evaluate(y_true, y_score=scores, exact=False)
    assert "roc_auc_ovr_macro" not in bounded.metrics
    assert bounded["roc_auc_ovr_macro_binned"] == pytest.approx(default["roc_auc_ovr_macro"],
                                                                abs=bounded["roc_auc_ovr_macro_binned_error_bound"])
    assert any(note.startswith("roc_auc_ovr_macro: left out") for note in bounded.warnings)


def test_a_missing_class_is_nan_with_a_warning():
    result = toolkit.evaluate([0, 0, 1, 1], y_score=np.eye(3)[[0, 0, 1, 1]] * 0.75 + 0.0833333333333333,
                              labels=[0, 1, 2], metrics=["roc_auc_ovr_macro_binned"])
    assert np.isnan(result["roc_auc_ovr_macro_binned"])
    assert any("labels [2]" in note for note in result.warnings)
