"""Threshold analysis against scikit-learn's precision_recall_curve and roc_curve; operating points; CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import toolkit
from toolkit.evaluation.thresholds import COLUMNS


@st.composite
def binary_scores(draw):
    n = draw(st.integers(2, 80))
    y_true = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if y_true.min() == y_true.max():
        y_true[0] = 1 - y_true[0]
    y_score = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))) / 10  # many ties
    weights = np.array(draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))) if draw(st.booleans()) else None
    return y_true, y_score, weights


@settings(max_examples=80, deadline=None)
@given(binary_scores())
def test_every_threshold_agrees_with_scikit_learn(problem):
    y_true, y_score, weights = problem
    analysis = toolkit.threshold_analysis(y_true, y_score, sample_weight=weights)
    precision, recall, thresholds = sk.precision_recall_curve(y_true, y_score, sample_weight=weights)
    fpr, tpr, roc_thresholds = sk.roc_curve(y_true, y_score, sample_weight=weights, drop_intermediate=False)
    table = analysis.table
    assert len(analysis) == analysis.n_thresholds == thresholds.size  # fewer than max_points: all kept
    np.testing.assert_allclose(table["threshold"], thresholds)
    np.testing.assert_allclose(table["precision"], precision[:-1], atol=1e-12)
    np.testing.assert_allclose(table["recall"], recall[:-1], atol=1e-12)
    # roc_curve: descending, after a leading threshold of +inf
    np.testing.assert_allclose(table["fpr"], fpr[1:][::-1], atol=1e-12)
    np.testing.assert_allclose(table["recall"], tpr[1:][::-1], atol=1e-12)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)[:-1]
    np.testing.assert_allclose(table["f1"], f1, atol=1e-12)
    best = int(np.flatnonzero(f1 >= f1.max() - 1e-9)[0])  # the lowest threshold among ties
    assert analysis.best_f1.threshold == thresholds[best]
    assert analysis.best_f1.f1 == pytest.approx(f1.max(), abs=1e-12)
    for target in (0.3, 0.6, 0.9, 1.0):
        reached = np.flatnonzero(precision[:-1] >= target)
        point = analysis.at_precision(target)
        assert (point is None) == (reached.size == 0)
        if point is not None:  # the lowest such threshold
            assert point.threshold == thresholds[reached[0]] and point.precision >= target
        reached = np.flatnonzero(recall[:-1] >= target)
        point = analysis.at_recall(target)
        assert point.threshold == thresholds[reached[-1]] and point.recall >= target  # the highest


def test_large_inputs_are_downsampled_keeping_the_operating_points():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 50_000)
    y_score = np.clip(0.3 * y_true + 0.7 * rng.random(50_000), 0, 1)
    analysis = toolkit.threshold_analysis(y_true, y_score, target_precision=0.8, target_recall=0.95)
    assert analysis.n_thresholds > 40_000 and len(analysis) == 1000
    thresholds = analysis.table["threshold"]
    assert np.all(np.diff(thresholds) > 0)
    assert thresholds[0] == y_score.min() and thresholds[-1] == y_score.max()
    kept = [analysis.best_f1, analysis.targets["precision_0.8"], analysis.targets["recall_0.95"]]
    for point in kept:
        row = int(np.flatnonzero(thresholds == point.threshold)[0])
        assert analysis.table["f1"][row] == point.f1
    summary = analysis.summary()
    assert summary["best_f1"]["threshold"] == analysis.best_f1.threshold
    assert summary["targets"]["precision_0.8"]["threshold"] == analysis.targets["precision_0.8"].threshold
    assert summary["n_thresholds"] == analysis.n_thresholds and summary["rows"] == 1000
    # exact on every distinct threshold, not only the kept rows
    precision, recall, sk_thresholds = sk.precision_recall_curve(y_true, y_score)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-300)
    assert analysis.best_f1.threshold == sk_thresholds[int(np.argmax(f1[:-1]))]
    small = toolkit.threshold_analysis(y_true, y_score, max_points=10)
    assert len(small) == 10


def test_csv_has_one_row_per_threshold():
    analysis = toolkit.threshold_analysis([0, 0, 1, 1, 1], [0.1, 0.6, 0.6, 0.8, 0.9])
    rows = list(csv.DictReader(io.StringIO(analysis.to_csv())))
    assert tuple(rows[0]) == COLUMNS
    assert [float(row["threshold"]) for row in rows] == [0.1, 0.6, 0.8, 0.9]
    assert [float(row["precision"]) for row in rows] == [0.6, 0.75, 1.0, 1.0]
    assert [float(row["recall"]) for row in rows] == pytest.approx([1.0, 1.0, 2 / 3, 1 / 3])
    assert [float(row["fpr"]) for row in rows] == [1.0, 0.5, 0.0, 0.0]


def test_binary_evaluations_carry_the_analysis_as_an_artifact():
    result = toolkit.evaluate(["no", "yes", "yes", "no"], y_score=[0.2, 0.7, 0.4, 0.1])
    analysis = result.artifacts["threshold_analysis"]
    assert "not computed yet" in repr(analysis)  # computed on first use only
    assert analysis.positive_label == "yes"
    assert analysis.best_f1.f1 == 1.0 and analysis.best_f1.threshold == 0.4
    multiclass = toolkit.evaluate([0, 1, 2], y_score=np.eye(3))
    assert "threshold_analysis" not in multiclass.artifacts


@pytest.mark.parametrize("arguments, message", [
    (dict(y_true=[0, 1, 2], y_score=np.eye(3)), "binary"),
    (dict(y_true=[0, 1], y_score=[0.2, 0.8], target_precision=1.5), "target_precision"),
    (dict(y_true=[0, 1], y_score=[0.2, 0.8], target_recall=-0.1), "target_recall"),
    (dict(y_true=[0, 1], y_score=[0.2, np.nan]), "NaN"),
    (dict(y_true=[0, 1], y_score=[0.2, 0.8], max_points=1), "max_points"),
])
def test_bad_input_is_a_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        toolkit.threshold_analysis(**arguments)


def test_evaluate_applies_threshold_targets_before_logging():
    y_true = [0, 0, 1, 1, 1, 0, 1]
    y_score = [0.1, 0.6, 0.6, 0.8, 0.9, 0.3, 0.2]
    result = toolkit.evaluate(y_true, y_score=y_score, threshold_targets={"precision": 0.9, "recall": 0.5})
    targets = result.artifacts["threshold_analysis"].targets
    assert targets["precision_0.9"].threshold == 0.8 and targets["precision_0.9"].precision == 1.0
    assert targets["recall_0.5"].threshold == 0.8 and targets["recall_0.5"].recall == 0.5
    for bad, message in (({"f1": 0.5}, "unknown target"), ({"precision": 2}, "between 0 and 1")):
        with pytest.raises(ValueError, match=message):
            toolkit.evaluate(y_true, y_score=y_score, threshold_targets=bad)
    with pytest.raises(ValueError, match="binary task with y_score"):
        toolkit.evaluate([0, 1, 2], y_score=np.eye(3), threshold_targets={"precision": 0.9})
    with pytest.raises(ValueError, match="binary task with y_score"):
        toolkit.evaluate(y_true, y_score=y_score, metrics=["accuracy"], threshold_targets={"recall": 0.9})
