"""The compiled resampled AUROC and log-loss sums against scikit-learn on resampled copies, and
against the numpy path they replace from 100,000 examples on."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss, roc_auc_score

from toolkit.plugin import Resamples, ScoreTable
from toolkit_metrics import resampling
from toolkit_metrics.resampled_kernels import loss_sums


@st.composite
def resampled(draw):
    """Scores with many ties (or none), classes, optional weights and (N, R) counts with zeros."""
    n, width = draw(st.integers(2, 40)), draw(st.integers(1, 6))
    grid = draw(st.sampled_from([2, 5, 1000]))  # few distinct scores: large tie groups
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(n) * grid) / grid
    positive = rng.random(n) < draw(st.floats(0.05, 0.95))
    weights = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    counts = rng.poisson(1.0, size=(n, width)).astype(np.uint8)
    return scores, positive, weights, counts


@settings(max_examples=200, deadline=None)
@given(resampled())
def test_compiled_auroc_equals_scikit_learn_on_each_resampled_copy(case):
    scores, positive, weights, counts = case
    auc, mass = resampling.resampled_auc_and_mass(resampling.ranked_column(scores, positive), counts, weights)
    for r in range(counts.shape[1]):
        index = np.repeat(np.arange(scores.shape[0]), counts[:, r])
        labels = positive[index]
        copy_weights = None if weights is None else weights[index]
        expected_mass = labels.sum() if weights is None else copy_weights[labels].sum()
        assert mass[r] == pytest.approx(expected_mass, rel=1e-12, abs=1e-12)
        if labels.all() or not labels.any():
            assert np.isnan(auc[r])
        else:
            assert auc[r] == pytest.approx(roc_auc_score(labels, scores[index], sample_weight=copy_weights),
                                           rel=0, abs=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_and_numpy_paths_agree(weighted):
    rng = np.random.default_rng(3)
    n = 5000
    scores, positive = np.round(rng.random(n), 2), rng.random(n) < 0.3
    weights = rng.uniform(0.1, 2.0, n) if weighted else None
    counts = rng.poisson(1.0, size=(n, 33)).astype(np.uint8)
    compiled = resampling.resampled_auc_and_mass(resampling.ranked_column(scores, positive), counts, weights)
    reference = resampling.resampled_auc_and_mass(resampling.sorted_column(scores, positive), counts, weights)
    for ours, theirs in zip(compiled, reference):
        if weighted:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        else:  # integer sums: the same bits
            np.testing.assert_array_equal(ours, theirs)


def test_compiled_log_loss_equals_scikit_learn_on_resampled_copies():
    rng = np.random.default_rng(4)
    n, width = 300, 7
    y_score = rng.dirichlet(np.ones(3), n)
    y_true = rng.integers(0, 3, n)
    weights = rng.uniform(0.1, 2.0, n)
    counts = rng.poisson(1.0, size=(n, width)).astype(np.uint8)
    losses = -np.log(y_score[np.arange(n), y_true])
    sums = loss_sums(losses * weights, weights, counts)
    for r in range(width):
        index = np.repeat(np.arange(n), counts[:, r])
        assert sums[0, r] / sums[1, r] == pytest.approx(
            log_loss(y_true[index], y_score[index], labels=[0, 1, 2], sample_weight=weights[index]), rel=1e-12)


def test_large_evaluations_take_the_compiled_path():
    rng = np.random.default_rng(5)
    n = resampling._COMPILED_MIN_EXAMPLES
    y_true = rng.integers(0, 2, n)
    scores = np.round(rng.random(n), 3)
    table = ScoreTable(y_true, np.column_stack([1 - scores, scores]), None)
    counts = rng.poisson(1.0, size=(n, 4)).astype(np.uint8)
    drawn = resampling.roc_auc(table, [0, 1], Resamples(counts))
    assert isinstance(table.derived("sorted_column_1", None), resampling.RankedColumn)
    reference = resampling.resampled_auc(resampling.sorted_column(scores, y_true == 1), counts, None)
    np.testing.assert_array_equal(drawn, reference)
