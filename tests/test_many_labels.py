"""Many labels cost what the examples and the classes present cost: no K x K array."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

import toolkit
from toolkit.evaluation.confusion import DENSE_LABEL_LIMIT, SparseConfusion

K = 20_000


def test_twenty_thousand_labels_allocate_no_k_by_k_array():
    y_true, y_pred = np.arange(50) % 7, np.arange(50) % 5
    toolkit.evaluate([0, 1], y_pred=[0, 1])  # plugins loaded outside the measurement
    tracemalloc.start()
    try:
        result = toolkit.evaluate(y_true, y_pred=y_pred, labels=list(range(K)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MB"  # one K x K int64 would be 3,052 MB
    assert isinstance(result.confusion_matrix, SparseConfusion)
    labels = list(range(K))
    assert result["accuracy"] == accuracy_score(y_true, y_pred)
    for average in ("macro", "micro", "weighted"):
        expected = f1_score(y_true, y_pred, labels=labels, average=average, zero_division=0)
        assert result[f"f1_{average}"] == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert result["precision_macro"] == pytest.approx(
        precision_score(y_true, y_pred, labels=labels, average="macro", zero_division=0), rel=1e-9)
    # per-class keys of absent classes are defined as for few labels
    assert result["recall/19999"] == 0.0 and result["support/19999"] == 0.0
    assert result["recall/3"] == recall_score(y_true, y_pred, labels=[3], average="macro", zero_division=0)
    assert result.to_dict()["confusion_matrix"]["shape"] == [K, K]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.booleans(), st.lists(st.integers(1, 199), max_size=4))
def test_sparse_counts_equal_the_dense_matrix_however_the_batches_are_split(seed, weighted, cuts):
    rng = np.random.default_rng(seed)
    k = DENSE_LABEL_LIMIT + 1
    y_true, y_pred = rng.integers(0, 40, 200), rng.integers(0, 40, 200)
    weights = rng.random(200) * 5 if weighted else None
    labels = list(range(k))
    parts = []
    for rows in np.split(np.arange(200), sorted(set(cuts))):
        evaluator = toolkit.Evaluator(labels, ["accuracy", "f1_macro"])
        parts.append(evaluator.update(y_true[rows], y_pred[rows],
                                      sample_weight=None if weights is None else weights[rows]))
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    sparse = merged.compute().confusion_matrix
    dense = np.zeros((k, k))
    np.add.at(dense, (y_true, y_pred), 1 if weights is None else weights)
    assert sparse.dtype.kind == ("f" if weighted else "i")
    if weighted:
        np.testing.assert_allclose(sparse.toarray(), dense, rtol=1e-12)
    else:
        np.testing.assert_array_equal(sparse.toarray(), dense)  # integer counts: exact
    np.testing.assert_allclose(sparse.sum(axis=0), dense.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sparse.sum(axis=1), dense.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(sparse.diagonal(), np.diag(dense), rtol=1e-12)
