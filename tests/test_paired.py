"""toolkit.paired_test: DeLong against a pairwise O(N^2) reference, McNemar against scipy, the paired
bootstrap against scikit-learn on resampled copies, error rates by simulation, validation and gates."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as sk

import toolkit
from toolkit.evaluation.mcnemar import binomial_two_sided
from toolkit.evaluation.paired import parse_paired_gate
from toolkit.plugin import MetricSpec, create_plugin_manager, hookimpl


def pairwise_components(scores, positive):
    """DeLong's structural components straight from the definition: psi over every pair."""
    x, y = scores[positive], scores[~positive]
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)  # V10 (one per positive), V01 (one per negative)


def reference_delong(score_a, score_b, positive, ci):
    """The textbook two-model DeLong test: the 2 x 2 covariance S10/m + S01/n, contrast (1, -1)."""
    v10_a, v01_a = pairwise_components(score_a, positive)
    v10_b, v01_b = pairwise_components(score_b, positive)
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    covariance = s10 / len(v10_a) + s01 / len(v01_a)
    contrast = np.array([1.0, -1.0])
    difference = v10_a.mean() - v10_b.mean()
    spread = math.sqrt(contrast @ covariance @ contrast)
    z = NormalDist().inv_cdf((1 + ci) / 2)
    p_value = 2 * (1 - NormalDist().cdf(abs(difference) / spread))
    return difference, (difference - z * spread, difference + z * spread), p_value


def _binary_models(n, seed, grid=None):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    shared = rng.normal(size=n)  # both models see the same noise in part: correlated scores
    score_a = 1 / (1 + np.exp(-(1.2 * y_true + shared + rng.normal(size=n))))
    score_b = 1 / (1 + np.exp(-(0.9 * y_true + shared + rng.normal(size=n))))
    if grid:  # scores on a coarse grid: many ties within and across classes
        score_a, score_b = np.round(score_a * grid) / grid, np.round(score_b * grid) / grid
    return y_true, score_a, score_b


@pytest.mark.parametrize("grid", [None, 10])
def test_binary_delong_equals_the_pairwise_reference(grid):
    y_true, score_a, score_b = _binary_models(300, seed=1, grid=grid)
    result = toolkit.paired_test(y_true, y_score_a=score_a, y_score_b=score_b, ci=0.9, seed=0, n_bootstrap=50)
    test = result.tests["roc_auc"]
    difference, interval, p_value = reference_delong(score_a, score_b, y_true == 1, 0.9)
    assert test.method == "DeLong"
    assert test.value_a == pytest.approx(sk.roc_auc_score(y_true, score_a), abs=1e-12)
    assert test.value_b == pytest.approx(sk.roc_auc_score(y_true, score_b), abs=1e-12)
    assert test.difference == pytest.approx(difference, abs=1e-12)
    np.testing.assert_allclose(test.interval, interval, rtol=0, atol=1e-12)
    assert test.p_value == pytest.approx(p_value, rel=1e-9, abs=1e-15)


def _rounded(probabilities, decimals):
    """Rows rounded to ``decimals`` places (ties) that still sum to 1: largest remainders round up."""
    scale = 10 ** decimals
    scaled = probabilities * scale
    counts = np.floor(scaled)
    short = (scale - counts.sum(axis=1)).astype(int)
    order = np.argsort(-(scaled - counts), axis=1)
    for row in range(len(counts)):
        counts[row, order[row, :short[row]]] += 1
    return counts / scale


def _softmax(z):
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def _multiclass_models(n, k, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    shared = rng.normal(size=(n, k))
    logits_a = shared + rng.normal(size=(n, k))
    logits_b = shared + rng.normal(size=(n, k))
    logits_a[np.arange(n), y_true] += 1.0
    logits_b[np.arange(n), y_true] += 0.8
    return y_true, _rounded(_softmax(logits_a), 2), _rounded(_softmax(logits_b), 2)  # ties too


def test_one_vs_rest_delong_per_class_and_combined_equal_the_pairwise_reference():
    y_true, score_a, score_b = _multiclass_models(240, 3, seed=2)
    result = toolkit.paired_test(y_true, y_score_a=score_a, y_score_b=score_b, n_bootstrap=20, seed=0)
    k = 3
    # per example, per class: the difference of components, centred in its group, scaled 1/sqrt(s(s-1))
    columns, differences = [], []
    for label in range(k):
        positive = y_true == label
        v10_a, v01_a = pairwise_components(score_a[:, label], positive)
        v10_b, v01_b = pairwise_components(score_b[:, label], positive)
        column = np.empty(len(y_true))
        for group, delta in ((positive, v10_a - v10_b), (~positive, v01_a - v01_b)):
            column[group] = (delta - delta.mean()) / math.sqrt(len(delta) * (len(delta) - 1))
        columns.append(column)
        differences.append(v10_a.mean() - v10_b.mean())
        _, interval, p_value = reference_delong(score_a[:, label], score_b[:, label], positive, 0.95)
        test = result.tests[f"roc_auc/{label}"]
        np.testing.assert_allclose(test.interval, interval, rtol=0, atol=1e-12)
        assert test.p_value == pytest.approx(p_value, rel=1e-9)
    covariance = np.array(columns) @ np.array(columns).T
    shares = np.bincount(y_true, minlength=k) / len(y_true)
    per_class = {side: np.array([sk.roc_auc_score(y_true == label, scores[:, label]) for label in range(k)])
                 for side, scores in (("a", score_a), ("b", score_b))}
    for key, weights in (("roc_auc_ovr_macro", np.full(k, 1 / k)), ("roc_auc_ovr_weighted", shares)):
        test = result.tests[key]
        difference = weights @ np.array(differences)
        spread = math.sqrt(weights @ covariance @ weights)
        assert test.difference == pytest.approx(weights @ (per_class["a"] - per_class["b"]), abs=1e-12)
        assert test.difference == pytest.approx(difference, abs=1e-12)
        assert test.p_value == pytest.approx(math.erfc(abs(difference) / spread / math.sqrt(2)), rel=1e-9)


def test_delong_rejects_about_5_percent_of_the_time_when_the_models_are_equally_good():
    # a and b are exchangeable (same skill, correlated through shared noise): the 5% tests of the
    # binary AUROC and of the combined one-vs-rest AUROC must reject about 5% of the time.
    rng = np.random.default_rng(2024)
    rejected = {"roc_auc": 0, "roc_auc_ovr_macro": 0}
    runs = 400
    for _ in range(runs):
        y_true = rng.integers(0, 2, 150)
        shared = rng.normal(size=150)
        a, b = (y_true + shared + rng.normal(size=150) for _ in range(2))
        result = toolkit.paired_test(y_true, y_score_a=1 / (1 + np.exp(-a)), y_score_b=1 / (1 + np.exp(-b)),
                                     metrics=["roc_auc"])
        rejected["roc_auc"] += result.tests["roc_auc"].p_value < 0.05
        y_true = rng.integers(0, 3, 150)
        shared = rng.normal(size=(150, 3))
        logits = [shared + rng.normal(size=(150, 3)) for _ in range(2)]
        for logit in logits:
            logit[np.arange(150), y_true] += 1.0
        result = toolkit.paired_test(y_true, y_score_a=_softmax(logits[0]), y_score_b=_softmax(logits[1]),
                                     metrics=["roc_auc_ovr_macro"])
        rejected["roc_auc_ovr_macro"] += result.tests["roc_auc_ovr_macro"].p_value < 0.05
    rates = {key: count / runs for key, count in rejected.items()}
    # 400 runs: the standard error of a 5% rate is 1.1 points
    assert all(0.02 <= rate <= 0.09 for rate in rates.values()), rates


@pytest.mark.parametrize("successes, trials", [(0, 0), (3, 10), (7, 10), (5, 10), (0, 25), (40, 100),
                                               (1, 1), (480, 1000), (4_900, 10_000), (120, 100_000)])
def test_two_sided_binomial_equals_scipy(successes, trials):
    expected = 1.0 if trials == 0 else stats.binomtest(successes, trials, 0.5).pvalue
    assert binomial_two_sided(successes, trials) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_accuracy_is_compared_by_the_exact_mcnemar_test():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 3, 400)
    y_pred_a = np.where(rng.random(400) < 0.75, y_true, rng.integers(0, 3, 400))
    y_pred_b = np.where(rng.random(400) < 0.65, y_true, rng.integers(0, 3, 400))
    result = toolkit.paired_test(y_true, y_pred_a=y_pred_a, y_pred_b=y_pred_b, seed=0, n_bootstrap=100)
    test = result.tests["accuracy"]
    a_only = int(np.sum((y_pred_a == y_true) & (y_pred_b != y_true)))
    b_only = int(np.sum((y_pred_a != y_true) & (y_pred_b == y_true)))
    assert test.method == "exact McNemar"
    assert test.difference == pytest.approx(sk.accuracy_score(y_true, y_pred_a) - sk.accuracy_score(y_true, y_pred_b))
    assert test.p_value == pytest.approx(stats.binomtest(a_only, a_only + b_only, 0.5).pvalue, rel=1e-9)
    assert test.interval[0] < test.difference < test.interval[1]
    assert "roc_auc" not in result.tests and "example_count" not in result.tests


def test_predictions_from_scores_follow_evaluate():
    y_true, score_a, score_b = _binary_models(200, seed=4)
    result = toolkit.paired_test(y_true, y_score_a=score_a, y_score_b=score_b, metrics=["accuracy"])
    expected = (toolkit.evaluate(y_true, y_score=score_a, metrics=["accuracy"]).metrics["accuracy"]
                - toolkit.evaluate(y_true, y_score=score_b, metrics=["accuracy"]).metrics["accuracy"])
    assert result.tests["accuracy"].difference == pytest.approx(expected, abs=1e-15)
    assert result.tests["accuracy"].p_value == pytest.approx(stats.binomtest(
        int(np.sum(((score_a >= 0.5) == y_true) & ((score_b >= 0.5) != y_true))),
        int(np.sum(((score_a >= 0.5) == y_true) != ((score_b >= 0.5) == y_true))), 0.5).pvalue, rel=1e-9)


def test_accuracy_difference_interval_covers_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    n, runs, covered = 200, 1000, 0
    # correct under a / under b: P(both) = 0.6, P(a only) = 0.15, P(b only) = 0.1, P(neither) = 0.15
    truth = 0.15 - 0.10
    for _ in range(runs):
        cell = rng.choice(4, size=n, p=[0.6, 0.15, 0.1, 0.15])
        y_true = np.zeros(n, dtype=int)
        y_pred_a = np.where(np.isin(cell, [0, 1]), 0, 1)
        y_pred_b = np.where(np.isin(cell, [0, 2]), 0, 1)
        low, high = toolkit.paired_test(y_true, y_pred_a=y_pred_a, y_pred_b=y_pred_b, labels=[0, 1],
                                        metrics=["accuracy"]).tests["accuracy"].interval
        covered += low <= truth <= high
    assert 0.93 <= covered / runs <= 0.975, covered / runs


class SklearnOnCopies:
    @hookimpl
    def toolkit_register_metrics(self):
        return [MetricSpec("sk_f1_macro", lambda y_true, y_pred, labels, sample_weight: sk.f1_score(
            y_true, y_pred, labels=labels, average="macro", zero_division=0, sample_weight=sample_weight),
            ("y_true", "y_pred", "labels", "sample_weight"), True)]


def test_paired_bootstrap_resamples_both_models_alike_and_equals_scikit_learn_on_copies():
    # weighted: f1_macro (weighted confusion cells) and the peer (scikit-learn on resampled copies)
    # see the same resamples, so their paired intervals and p-values are the same numbers
    manager = create_plugin_manager()
    manager.register(SklearnOnCopies(), "sklearn-on-copies")
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 3, 300)
    y_pred_a = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 3, 300))
    y_pred_b = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 3, 300))
    weights = rng.uniform(0.2, 2.0, 300)
    result = toolkit.paired_test(y_true, y_pred_a=y_pred_a, y_pred_b=y_pred_b, sample_weight=weights,
                                 metrics=["f1_macro", "sk_f1_macro", "accuracy"], n_bootstrap=300, seed=1,
                                 plugin_manager=manager)
    ours, peer = result.tests["f1_macro"], result.tests["sk_f1_macro"]
    assert ours.method == peer.method == result.tests["accuracy"].method == "paired bootstrap"
    assert ours.difference == pytest.approx(peer.difference, abs=1e-12)
    np.testing.assert_allclose(ours.interval, peer.interval, rtol=0, atol=1e-9)
    assert ours.p_value == peer.p_value


def test_paired_bootstrap_unweighted_matches_the_ordinary_paired_bootstrap_in_distribution():
    rng = np.random.default_rng(6)
    n = 300
    y_true = rng.integers(0, 3, n)
    y_pred_a = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, 3, n))
    y_pred_b = np.where(rng.random(n) < 0.62, y_true, rng.integers(0, 3, n))
    result = toolkit.paired_test(y_true, y_pred_a=y_pred_a, y_pred_b=y_pred_b, metrics=["f1_macro"],
                                 n_bootstrap=4000, seed=2)
    differences = []
    for _ in range(500):  # the 2.5% quantile of 500 draws has a standard error of about 0.004 here
        index = rng.integers(0, n, n)
        differences.append(sk.f1_score(y_true[index], y_pred_a[index], average="macro")
                           - sk.f1_score(y_true[index], y_pred_b[index], average="macro"))
    np.testing.assert_allclose(result.tests["f1_macro"].interval, np.quantile(differences, [0.025, 0.975]),
                               atol=0.015)


def test_identical_models_differ_by_nothing():
    y_true, score_a, _ = _binary_models(100, seed=8)
    result = toolkit.paired_test(y_true, y_score_a=score_a, y_score_b=score_a.copy(), n_bootstrap=50, seed=0)
    for key, test in result.tests.items():
        assert test.difference == 0 and test.p_value == 1.0, key
        assert test.interval[0] <= 0 <= test.interval[1], key


@pytest.mark.parametrize("arguments, message", [
    (dict(y_pred_a=[0, 1, 1]), "y_pred_b or y_score_b"),
    (dict(y_score_a=[0.1, 0.8, 0.4], y_pred_b=[0, 1, 1]), "y_score_a and y_score_b"),
    (dict(y_pred_a=[0, 1], y_pred_b=[0, 1, 1]), "y_pred_a has 2 values"),
    (dict(y_score_a=[0.1, 0.8, 0.4], y_score_b=[0.1, np.nan, 0.4]), "y_score_b contains NaN"),
    (dict(y_pred_a=[0, 1, 1], y_pred_b=[0, 1, 5], labels=[0, 1]), "y_pred_b contains"),
    (dict(y_pred_a=[0, 1, 1], y_pred_b=[0, 1, 1], sample_weight=[1, -1, 1]), "sample_weight"),
    (dict(y_pred_a=[0, 1, 1], y_pred_b=[0, 1, 1], ci=1.5), "ci must be"),
    (dict(y_pred_a=[0, 1, 1], y_pred_b=[0, 1, 1], metrics=["nope"]), "metrics names unknown"),
])
def test_bad_input_is_a_value_error_naming_the_argument(arguments, message):
    with pytest.raises(ValueError, match=message):
        toolkit.paired_test([0, 1, 0], **arguments)


def test_gates_on_a_paired_comparison():
    y_true, score_a, score_b = _binary_models(600, seed=9)
    result = toolkit.paired_test(y_true, y_score_a=score_a, y_score_b=score_b, metrics=["roc_auc", "log_loss"],
                                 n_bootstrap=200, seed=0)
    assert result.tests["roc_auc"].better() == "a" and result.tests["log_loss"].better() == "a"
    outcomes = result.check(["roc_auc: a better, p < 0.05", "roc_auc: b better", "log_loss: a better, p<1e-30"])
    assert [outcome.passed for outcome in outcomes] == [True, False, False]
    assert str(parse_paired_gate(" roc_auc : b better ")) == "roc_auc: b better, p < 0.05"
    for bad in ("roc_auc b better", "roc_auc: c better", "roc_auc: b better, p < 2"):
        with pytest.raises(ValueError, match="paired gate"):
            parse_paired_gate(bad)
    with pytest.raises(ValueError, match="not compared"):
        result.check(["accuracy: a better"])
    assert result.to_dict()["tests"]["roc_auc"]["method"] == "DeLong"
    assert "roc_auc" in result.table()
