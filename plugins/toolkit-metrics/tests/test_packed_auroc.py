"""AUROC of inputs large enough for the compiled packed-key path, through toolkit.evaluate: equal
to scikit-learn's, and streaming (batches, merged evaluators) equal to one shot. (Small generated
inputs are forced through that path in test_against_sklearn.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

import toolkit
from toolkit_metrics import ranking

TOLERANCE = 1e-9
PACKED_FROM = 20_000  # the path's threshold for these tests (its default is set for the per-process numba cost)


@pytest.fixture(autouse=True)
def packed_path_from_20_000(monkeypatch):
    monkeypatch.setattr(ranking, "PACKED_MIN_EXAMPLES", PACKED_FROM)


def large_problem(n_classes: int, dtype, weighted: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 3 * PACKED_FROM // 2
    labels = [f"class {k}" for k in range(n_classes)]
    true_index = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes))
    logits[np.arange(n), true_index] += 1.0
    scores = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 4).astype(dtype)  # ties
    weights = rng.uniform(0.1, 3.0, n) if weighted else None
    y_true = np.array(labels, dtype=object)[true_index]
    return labels, y_true, scores, weights


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_large_inputs_match_sklearn_and_streaming_equals_one_shot(n_classes, dtype, weighted):
    labels, y_true, scores, weights = large_problem(n_classes, dtype, weighted)
    binary = n_classes == 2
    y_score = scores[:, 1] if binary else scores
    one_shot = toolkit.evaluate(y_true, y_score=y_score, labels=labels, sample_weight=weights)
    keys = ["roc_auc"] if binary else ["roc_auc_ovr_macro", "roc_auc_ovr_weighted"]
    exact = scores.astype(np.float64)
    # scikit-learn's one-vs-rest mean, class by class (its multiclass check wants rows summing
    # to 1 within 1e-5, which rounded float16 scores miss)
    columns = [1] if binary else range(n_classes)
    per_class = np.array([sk.roc_auc_score(y_true == labels[k], exact[:, k], sample_weight=weights)
                          for k in columns])
    support = np.array([(y_true == labels[k]) @ (np.ones(len(y_true)) if weights is None else weights)
                        for k in columns])
    expected = {"roc_auc": per_class[0], "roc_auc_ovr_macro": per_class.mean(),
                "roc_auc_ovr_weighted": per_class @ support / support.sum()}
    for key in keys:
        assert math.isclose(one_shot.metrics[key], expected[key], rel_tol=0, abs_tol=TOLERANCE), key

    # three evaluators over uneven batches, merged: the same table, so the same bits
    cuts = [0, 5_000, 17_000, len(y_true)]
    evaluators = []
    for start, stop in zip(cuts, cuts[1:]):
        evaluator = toolkit.Evaluator(labels)
        evaluator.update(y_true[start:stop], y_score=y_score[start:stop],
                         sample_weight=None if weights is None else weights[start:stop])
        evaluators.append(evaluator)
    merged = evaluators[0].merge(evaluators[1]).merge(evaluators[2]).compute()
    for key in keys:
        assert merged.metrics[key] == one_shot.metrics[key], key
