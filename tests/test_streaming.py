"""Streaming: any split into batches, and any merge of evaluators, gives the one-shot result."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[key]) and math.isnan(b[key])) or math.isclose(a[key], b[key], rel_tol=1e-12, abs_tol=1e-12)
        for key in a
    )


@st.composite
def split_problems(draw):
    k = draw(st.integers(2, 4))
    n = draw(st.integers(2, 80))
    y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.integers(1, 6), min_size=n * k, max_size=n * k)), float).reshape(n, k)
    scores = raw / raw.sum(axis=1, keepdims=True)
    if k == 2 and draw(st.booleans()):
        scores = scores[:, 1]  # binary scores of shape (N,)
    weights = np.array(draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))) if draw(st.booleans()) else None
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=6))))
    return list(range(k)), y_true, scores, weights, cuts


def _pieces(array, cuts):
    return [None] * (len(cuts) + 1) if array is None else np.split(array, cuts)


@settings(max_examples=80, deadline=None)
@given(split_problems(), st.data())
def test_batches_and_merges_equal_the_one_shot_result(problem, data):
    labels, y_true, scores, weights, cuts = problem
    one_shot = toolkit.evaluate(y_true, y_score=scores, labels=labels, sample_weight=weights)

    streamed = toolkit.Evaluator(labels=labels)
    for true_part, score_part, weight_part in zip(
            _pieces(y_true, cuts), _pieces(scores, cuts), _pieces(weights, cuts)):
        streamed.update(true_part, y_score=score_part, sample_weight=weight_part)
    assert _same(streamed.compute().metrics, one_shot.metrics)

    # each batch in its own evaluator ("another process"), merged in a random order
    parts = []
    for true_part, score_part, weight_part in zip(
            _pieces(y_true, cuts), _pieces(scores, cuts), _pieces(weights, cuts)):
        parts.append(toolkit.Evaluator(labels=labels).update(true_part, y_score=score_part,
                                                             sample_weight=weight_part))
    order = data.draw(st.permutations(range(len(parts))))
    merged = parts[order[0]]
    for index in order[1:]:
        merged.merge(parts[index])
    result = merged.compute()
    assert _same(result.metrics, one_shot.metrics)
    np.testing.assert_allclose(result.confusion_matrix, one_shot.confusion_matrix)
