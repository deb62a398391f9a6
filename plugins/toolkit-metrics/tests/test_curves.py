"""ROC and PR curves agree with scikit-learn point for point, and are downsampled to <= 1,000 points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

import toolkit
from toolkit.evaluation.curves import MAX_CURVE_POINTS, Curves


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=200), st.integers(min_value=0, max_value=2**31 - 1),
       st.sampled_from([2, 10, 1000]), st.booleans())
def test_binary_curves_equal_scikit_learns(n, seed, distinct_scores, weighted):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    y_true[:2] = [0, 1]  # both classes present
    y_score = rng.integers(0, distinct_scores, n) / distinct_scores  # ties when few distinct scores
    weights = rng.random(n) if weighted else None
    result = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights)
    (roc,) = result.artifacts["roc_curve"]
    fpr, tpr, thresholds = roc_curve(y_true, y_score, sample_weight=weights)
    np.testing.assert_allclose(roc.x, fpr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(roc.y, tpr, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(roc.thresholds, thresholds)
    assert roc.area == pytest.approx(roc_auc_score(y_true, y_score, sample_weight=weights), abs=1e-12)
    assert roc.label == 1
    (pr,) = result.artifacts["pr_curve"]
    precision, recall, pr_thresholds = precision_recall_curve(y_true, y_score, sample_weight=weights,
                                                              drop_intermediate=True)
    np.testing.assert_allclose(pr.y, precision, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pr.x, recall, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(pr.thresholds, pr_thresholds)
    assert pr.area == pytest.approx(average_precision_score(y_true, y_score, sample_weight=weights), abs=1e-12)


def test_multiclass_curves_are_one_vs_rest_per_class():
    rng = np.random.default_rng(1)
    y_true = np.array(["cat", "dog", "owl"])[rng.integers(0, 3, 400)]
    y_score = rng.dirichlet([1, 1, 1], 400)
    result = toolkit.evaluate(y_true, y_score=y_score, labels=["cat", "dog", "owl"])
    curves = result.artifacts["roc_curve"]
    assert [curve.label for curve in curves] == ["cat", "dog", "owl"]
    for column, curve in enumerate(curves):
        fpr, tpr, _ = roc_curve(y_true == curve.label, y_score[:, column])
        np.testing.assert_allclose(curve.x, fpr, atol=1e-12)
        np.testing.assert_allclose(curve.y, tpr, atol=1e-12)


def test_large_curves_are_downsampled_to_at_most_1000_of_their_exact_points():
    rng = np.random.default_rng(2)
    n = 200_000
    y_true = rng.integers(0, 2, n)
    y_score = np.clip(rng.normal(0.4 + 0.2 * y_true, 0.2), 0, 1)
    result = toolkit.evaluate(y_true, y_score=y_score)
    (roc,) = result.artifacts["roc_curve"]
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    assert roc.full_points == len(fpr) > MAX_CURVE_POINTS
    assert len(roc) <= MAX_CURVE_POINTS and len(roc.thresholds) == len(roc)
    assert (roc.x[0], roc.y[0], roc.x[-1], roc.y[-1]) == (0.0, 0.0, 1.0, 1.0)
    # Every kept point is one of scikit-learn's exact points, in the same order.
    positions = np.searchsorted(-thresholds[1:], -roc.thresholds[1:]) + 1
    np.testing.assert_array_equal(thresholds[positions], roc.thresholds[1:])
    np.testing.assert_allclose(fpr[positions], roc.x[1:], atol=1e-12)
    np.testing.assert_allclose(tpr[positions], roc.y[1:], atol=1e-12)
    assert roc.area == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-12)  # from the exact curve
    (pr,) = result.artifacts["pr_curve"]
    assert len(pr) <= MAX_CURVE_POINTS and (pr.x[-1], pr.y[-1]) == (0.0, 1.0)


def test_curves_are_computed_only_when_read():
    result = toolkit.evaluate([0, 1, 1, 0], y_score=[0.1, 0.8, 0.6, 0.3])
    curves = result.artifacts["roc_curve"]
    assert isinstance(curves, Curves) and repr(curves) == "Curves('roc', not computed yet)"
    assert len(curves) == 1 and repr(curves) == "Curves('roc', 1 curves)"


def test_without_scores_there_are_no_curves():
    assert "roc_curve" not in toolkit.evaluate([0, 1, 1], [0, 1, 0]).artifacts
