"""A plugin's own statistic (the example's calibration histogram): streamed and merged equals one shot."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import toolkit
from toolkit.plugin import create_plugin_manager

BINS = 15  # the example's bin count, restated: the oracle must not borrow the plugin's code


@pytest.fixture(scope="module")
def example_manager(example_site):
    # Module scope (hypothesis runs many examples per test function), so sys.path is handled by hand.
    sys.path.insert(0, str(example_site))
    try:
        yield create_plugin_manager(strict=True)
    finally:
        sys.path.remove(str(example_site))
        for name in [name for name in sys.modules if name.startswith("toolkit_custom_metrics")]:
            del sys.modules[name]


def oracle_ece(y_true: np.ndarray, y_score: np.ndarray, weights: np.ndarray | None) -> float:
    """Expected calibration error written from its definition, one example at a time."""
    weights = np.ones(len(y_true)) if weights is None else weights
    totals = [[0.0, 0.0, 0.0] for _ in range(BINS)]  # weight, confidence, correct
    edges = np.linspace(0.0, 1.0, BINS + 1)
    for truth, row, weight in zip(y_true, y_score, weights):
        predicted = int(np.argmax(row))  # the engine's rule: the first column wins a tie
        confidence = row[predicted]
        chosen = 0
        for b in range(BINS):
            if edges[b] < confidence <= edges[b + 1]:
                chosen = b
        totals[chosen][0] += weight
        totals[chosen][1] += weight * confidence
        totals[chosen][2] += weight * (predicted == truth)
    total_weight = sum(weight for weight, _, _ in totals)
    return sum(abs(correct - confidence) for _, confidence, correct in totals) / total_weight


@st.composite
def evaluations(draw):
    n_classes = draw(st.integers(2, 5))
    n = draw(st.integers(1, 80))
    raw = draw(arrays(np.float64, (n, n_classes), elements=st.floats(0.0, 1.0)))
    raw[:, 0] += 1e-3  # no all-zero row
    y_score = raw / raw.sum(axis=1, keepdims=True)
    y_true = draw(arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    weighted = draw(st.booleans())
    weights = draw(arrays(np.float64, n, elements=st.floats(0.01, 10.0))) if weighted else None
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    workers = draw(st.integers(1, 4))
    assignment = draw(st.lists(st.integers(0, workers - 1), min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    merge_order = draw(st.permutations(range(workers)))
    return y_true, y_score, weights, [0, *cuts, n], assignment, merge_order


@settings(max_examples=150, deadline=None)
@given(evaluations())
def test_streamed_and_merged_calibration_error_equals_the_one_shot_value(example_manager, evaluation):
    y_true, y_score, weights, bounds, assignment, merge_order = evaluation
    labels = list(range(y_score.shape[1]))
    metrics = ["expected_calibration_error"]
    one_shot = toolkit.evaluate(y_true, y_score=y_score, labels=labels, sample_weight=weights,
                                metrics=metrics, plugin_manager=example_manager)

    # Batches go to several evaluators (processes, machines), which are then merged in any order.
    workers = [toolkit.Evaluator(labels, metrics, plugin_manager=example_manager) for _ in merge_order]
    used = set()
    for (start, stop), worker in zip(zip(bounds[:-1], bounds[1:]), assignment):
        if stop > start:
            part = slice(start, stop)
            workers[worker].update(y_true[part], y_score=y_score[part],
                                   sample_weight=None if weights is None else weights[part])
            used.add(worker)
    order = [index for index in merge_order if index in used]
    merged = workers[order[0]]
    for index in order[1:]:
        merged.merge(workers[index])
    streamed = merged.compute()

    expected = oracle_ece(y_true, y_score, weights)
    for value in (one_shot.metrics["expected_calibration_error"], streamed.metrics["expected_calibration_error"]):
        assert math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12)


def test_scores_outside_the_unit_interval_never_reach_the_statistic(example_manager):
    # The engine refuses them before any statistic sees them; calibration needs probabilities,
    # so decision scores cannot be given to it either.
    with pytest.raises(ValueError, match=r"y_score must hold probabilities in \[0, 1\]"):
        toolkit.evaluate([0, 1, 1], y_score=[[2.0, -1.0], [0.2, 0.8], [0.3, 0.7]],
                         metrics=["expected_calibration_error"], plugin_manager=example_manager)
    with pytest.raises(ValueError, match="need probabilities"):
        toolkit.evaluate([0, 1, 1], y_score=[[2.0, -1.0], [0.2, 0.8], [0.3, 0.7]], score_type="decision",
                         metrics=["expected_calibration_error"], plugin_manager=example_manager)


def test_the_statistic_is_only_kept_when_scores_are_given(example_manager):
    result = toolkit.evaluate([0, 1, 1, 2], [0, 1, 2, 2], plugin_manager=example_manager)
    assert "expected_calibration_error" not in result.metrics
    assert "balanced_accuracy" in result.metrics


def test_confidences_on_bin_edges_fall_into_the_lower_bin(example_manager):
    # Bin b is (edge b, edge b+1]: an example whose confidence is exactly an edge belongs below it.
    edges = np.linspace(0.0, 1.0, BINS + 1)
    confidences = edges[8:]  # every edge >= 0.5, so column 0 is the predicted one
    y_score = np.column_stack((confidences, 1 - confidences))
    y_true = np.arange(len(confidences)) % 2
    result = toolkit.evaluate(y_true, y_score=y_score, labels=[0, 1], plugin_manager=example_manager,
                              metrics=["expected_calibration_error", "maximum_calibration_error"])
    assert math.isclose(result.metrics["expected_calibration_error"], oracle_ece(y_true, y_score, None),
                        rel_tol=1e-12, abs_tol=1e-12)
    # Each example alone in its bin: the largest gap is |correct - confidence| of the worst one.
    gaps = np.abs((y_true == 0) - confidences)
    assert math.isclose(result.metrics["maximum_calibration_error"], gaps.max(), rel_tol=1e-12)
