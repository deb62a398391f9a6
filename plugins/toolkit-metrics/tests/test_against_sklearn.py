"""Every metric of the plugin's key table (README) agrees with scikit-learn (zero_division=0) to 1e-9."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import toolkit
from toolkit_metrics import ranking

TOLERANCE = 1e-9


@st.composite
def problems(draw, min_classes: int = 2, max_classes: int = 5):
    """Labels (ints or strings), y_true, y_pred, probability scores with ties, optional weights.

    Classes may be absent from y_true or never predicted; scores are drawn from a coarse grid so
    ties are common.
    """
    k = draw(st.integers(min_classes, max_classes))
    n = draw(st.integers(1, 60))
    string_labels = draw(st.booleans())
    labels = [f"class {i}" for i in range(k)] if string_labels else sorted(
        draw(st.lists(st.integers(-5, 50), min_size=k, max_size=k, unique=True)))
    true_index = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    pred_index = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.integers(0, 4), min_size=n * k, max_size=n * k)), dtype=float)
    raw = raw.reshape(n, k) + 0.5
    scores = raw / raw.sum(axis=1, keepdims=True)
    weights = None
    if draw(st.booleans()):
        weights = np.array(draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n)))
    label_array = np.array(labels, dtype=object if string_labels else None)
    return labels, label_array[true_index], label_array[pred_index], scores, weights


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=0, abs_tol=TOLERANCE)


def _check_counting_metrics(result, labels, y_true, y_pred, weights):
    m = result.metrics
    common = dict(labels=labels, sample_weight=weights, zero_division=0)
    assert _close(m["accuracy"], sk.accuracy_score(y_true, y_pred, sample_weight=weights))
    for name, function in (("precision", sk.precision_score), ("recall", sk.recall_score),
                           ("f1", sk.f1_score)):
        for average in ("macro", "micro", "weighted"):
            assert _close(m[f"{name}_{average}"], _quiet(function, y_true, y_pred, average=average, **common)), \
                (name, average)
        per_class = _quiet(function, y_true, y_pred, average=None, **common)
        for label, value in zip(labels, per_class):
            assert _close(m[f"{name}/{label}"], value), (name, label)
    support = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0,
                                                 sample_weight=weights)[3]
    for label, value in zip(labels, support):
        assert _close(m[f"support/{label}"], value)
    np.testing.assert_allclose(
        result.confusion_matrix, sk.confusion_matrix(y_true, y_pred, labels=labels, sample_weight=weights),
        rtol=0, atol=TOLERANCE)
    assert m["example_count"] == len(y_true)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_classes=3))
def test_multiclass_metrics_match_sklearn(problem):
    labels, y_true, y_pred, scores, weights = problem
    result = toolkit.evaluate(y_true, y_pred, scores, labels=labels, sample_weight=weights)
    assert result.task == "multiclass" and result.labels == labels
    _check_counting_metrics(result, labels, y_true, y_pred, weights)
    m = result.metrics
    assert _close(m["log_loss"], sk.log_loss(y_true, scores, labels=labels, sample_weight=weights))
    if len(set(y_true.tolist())) == len(labels):  # scikit-learn defines OvR AUROC only then
        for average in ("macro", "weighted"):
            expected = sk.roc_auc_score(y_true, scores, multi_class="ovr", average=average,
                                        labels=labels, sample_weight=weights)
            assert _close(m[f"roc_auc_ovr_{average}"], expected), average
    else:
        assert math.isnan(m["roc_auc_ovr_macro"]) and math.isnan(m["roc_auc_ovr_weighted"])
        assert any("AUROC is undefined" in note for note in result.warnings)
    assert "precision" not in m and "roc_auc" not in m  # binary-only keys


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_classes=2, max_classes=2))
def test_binary_metrics_match_sklearn(problem):
    labels, y_true, y_pred, scores, weights = problem
    positive_scores = scores[:, 1]
    result = toolkit.evaluate(y_true, y_pred, positive_scores, labels=labels, sample_weight=weights)
    assert result.task == "binary"
    _check_counting_metrics(result, labels, y_true, y_pred, weights)
    m = result.metrics
    binary = dict(labels=labels, pos_label=labels[1], sample_weight=weights, zero_division=0)
    assert _close(m["precision"], _quiet(sk.precision_score, y_true, y_pred, **binary))
    assert _close(m["recall"], _quiet(sk.recall_score, y_true, y_pred, **binary))
    assert _close(m["f1"], _quiet(sk.f1_score, y_true, y_pred, **binary))
    assert _close(m["log_loss"], sk.log_loss(y_true, positive_scores, labels=labels, sample_weight=weights))
    if len(set(y_true.tolist())) == 2:
        expected = sk.roc_auc_score(np.asarray(y_true) == labels[1], positive_scores, sample_weight=weights)
        assert _close(m["roc_auc"], expected)
    else:
        assert math.isnan(m["roc_auc"])
        assert "roc_auc: AUROC is undefined: y_true holds only one class" in result.warnings
    assert "roc_auc_ovr_macro" not in m


def test_zero_division_gives_zero_and_a_warning_like_sklearn():
    result = toolkit.evaluate([0, 1, 2, 2], [0, 0, 2, 2], labels=[0, 1, 2])
    assert result.metrics["precision/1"] == 0.0
    assert result.metrics["precision_macro"] == pytest.approx(
        sk.precision_score([0, 1, 2, 2], [0, 0, 2, 2], average="macro", zero_division=0))
    assert any("precision is ill-defined for labels [1]" in note for note in result.warnings)


def test_confusion_matrix_is_an_artifact_too():
    result = toolkit.evaluate(["b", "a", "a"], ["a", "a", "b"])
    assert result.labels == ["a", "b"]
    np.testing.assert_array_equal(result.confusion_matrix, [[1, 1], [1, 0]])
    np.testing.assert_array_equal(result.artifacts["confusion_matrix"], result.confusion_matrix)
    assert result.confusion_matrix.dtype == np.int64


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_classes=2), st.sampled_from([np.float16, np.float32, np.float64]))
def test_small_inputs_forced_through_the_packed_kernel_match_sklearn(problem, dtype):
    labels, y_true, y_pred, scores, weights = problem
    scores = scores.astype(dtype)
    binary = len(labels) == 2
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ranking, "PACKED_MIN_EXAMPLES", 0)
        result = toolkit.evaluate(y_true, y_pred, scores[:, 1] if binary else scores, labels=labels,
                                  sample_weight=weights)
    exact = scores.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if binary and len(set(y_true.tolist())) == 2:
            expected = sk.roc_auc_score(np.asarray(y_true) == labels[1], exact[:, 1], sample_weight=weights)
            assert math.isclose(result.metrics["roc_auc"], expected, rel_tol=0, abs_tol=TOLERANCE)
        elif not binary and len(set(y_true.tolist())) == len(labels):
            # class by class, as scikit-learn's one-vs-rest does (its multiclass entry point wants
            # rows summing to 1 within 1e-5, which float16 rounding misses)
            truth = np.asarray(y_true)
            per_class = np.array([sk.roc_auc_score(truth == label, exact[:, k], sample_weight=weights)
                                  for k, label in enumerate(labels)])
            support = np.array([np.sum((truth == label) * (1.0 if weights is None else weights))
                                for label in labels])
            for average, expected in (("macro", per_class.mean()),
                                      ("weighted", per_class @ support / support.sum())):
                assert math.isclose(result.metrics[f"roc_auc_ovr_{average}"], expected, rel_tol=0,
                                    abs_tol=TOLERANCE), average
