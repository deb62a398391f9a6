"""Bootstrap intervals: exact against scikit-learn on resampled copies, right coverage on simulated data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import toolkit
from toolkit.evaluation.bootstrap import bootstrap_intervals
from toolkit.evaluation.statistics import ScoreTable
from toolkit.plugin import MetricSpec, Resamples, create_plugin_manager, hookimpl


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*args, **kwargs)
        except ValueError:  # scikit-learn raises where a resample lacks a class; we say nan
            return math.nan


class SklearnOnCopies:
    """Metrics that scikit-learn computes on each resampled copy of the raw inputs: the peer."""

    def __init__(self, weighted: bool) -> None:
        self.weight = ("sample_weight",) if weighted else ()

    @hookimpl
    def toolkit_register_metrics(self):
        weight = self.weight
        return [
            MetricSpec("sk_accuracy", lambda y_true, y_pred, sample_weight=None: sk.accuracy_score(
                y_true, y_pred, sample_weight=sample_weight), ("y_true", "y_pred") + weight, True),
            MetricSpec("sk_f1_macro", lambda y_true, y_pred, labels, sample_weight=None: _quiet(
                sk.f1_score, y_true, y_pred, labels=labels, average="macro", zero_division=0,
                sample_weight=sample_weight), ("y_true", "y_pred", "labels") + weight, True),
            MetricSpec("sk_roc_auc", lambda y_true, y_score, sample_weight=None: _quiet(
                sk.roc_auc_score, y_true, y_score if y_score.ndim == 1 else y_score[:, 1],
                sample_weight=sample_weight), ("y_true", "y_score") + weight, True, tasks=("binary",)),
            MetricSpec("sk_log_loss", lambda y_true, y_score, labels, sample_weight=None: sk.log_loss(
                y_true, y_score, labels=labels, sample_weight=sample_weight),
                ("y_true", "y_score", "labels") + weight, False),
        ]


def _manager_with_peer(weighted: bool = False):
    manager = create_plugin_manager()
    manager.register(SklearnOnCopies(weighted), "sklearn-on-copies")
    return manager


def _binary_problem(n: int, seed: int, weighted: bool):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    y_score = np.round(np.clip(0.25 * y_true + rng.random(n) * 0.75, 0, 1), 2)  # ties on a coarse grid
    weights = rng.uniform(0.2, 3.0, n) if weighted else None
    return y_true, y_score, weights


@pytest.mark.parametrize("weighted", [False, True])
def test_per_example_resampling_equals_scikit_learn_on_the_same_resampled_copies(weighted):
    # With weights, confusion metrics and score metrics share each chunk's draws with the peer
    # metrics, so the intervals must be the same numbers, not merely close.
    y_true, y_score, weights = _binary_problem(400, seed=1, weighted=weighted)
    metrics = ["roc_auc", "sk_roc_auc", "log_loss", "sk_log_loss"]
    if weighted:
        metrics += ["accuracy", "sk_accuracy", "f1_macro", "sk_f1_macro"]
    result = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, metrics=metrics, ci=0.9,
                              n_bootstrap=300, seed=7, plugin_manager=_manager_with_peer(weighted))
    pairs = [("roc_auc", "sk_roc_auc"), ("log_loss", "sk_log_loss")]
    if weighted:
        pairs += [("accuracy", "sk_accuracy"), ("f1_macro", "sk_f1_macro")]
    for ours, peer in pairs:
        assert result.metrics[ours] == pytest.approx(result.metrics[peer], abs=1e-9)
        np.testing.assert_allclose(result.intervals[ours], result.intervals[peer], rtol=0, atol=1e-9)


def test_multinomial_confusion_draws_match_the_ordinary_bootstrap_in_distribution():
    # Unweighted confusion metrics draw the cells directly; the peer resamples examples. Same
    # distribution, different draws: the percentiles agree to Monte Carlo error.
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 3, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 3, 300))
    result = toolkit.evaluate(y_true, y_pred, metrics=["accuracy", "sk_accuracy", "f1_macro", "sk_f1_macro"],
                              ci=0.9, n_bootstrap=1500, seed=11, plugin_manager=_manager_with_peer())
    for ours, peer in (("accuracy", "sk_accuracy"), ("f1_macro", "sk_f1_macro")):
        np.testing.assert_allclose(result.intervals[ours], result.intervals[peer], atol=0.008)


@st.composite
def scored_problems(draw):
    k = draw(st.integers(2, 4))
    n = draw(st.integers(2, 40))
    y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.integers(0, 3), min_size=n * k, max_size=n * k)), float).reshape(n, k) + 0.5
    weights = np.array(draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))) if draw(st.booleans()) else None
    counts = np.array(draw(st.lists(st.lists(st.integers(0, 3), min_size=n, max_size=n), min_size=1, max_size=5)))
    return y_true, raw / raw.sum(axis=1, keepdims=True), weights, counts


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scored_problems())
def test_every_resample_function_equals_compute_on_resampled_copies(problem):
    y_true, y_score, weights, counts = problem
    k = y_score.shape[1]
    labels = list(range(k))
    table = ScoreTable(y_true, y_score, weights)
    resamples = Resamples(np.ascontiguousarray(counts.T.astype(np.int32)))
    task = "binary" if k == 2 else "multiclass"
    specs = [spec for spec in toolkit.plugin.create_plugin_manager().get_metrics().values()
             if spec.resample is not None and task in spec.tasks]
    assert specs, "the standard metrics provide resample functions"
    for spec in specs:
        needs = spec.resample_needs if spec.resample_needs is not None else spec.needs
        arguments = {need: {"scores": table, "labels": labels}[need] for need in needs}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast = np.asarray(spec.resample(resamples=resamples, **arguments, **spec.params), dtype=float)
            slow = []
            for row in counts:  # the same metric through toolkit.evaluate on the resampled copy
                index = np.repeat(np.arange(len(y_true)), row)
                if index.size == 0:
                    slow.append(math.nan)
                    continue
                copy = toolkit.evaluate(y_true[index], y_score=y_score[index], labels=labels, metrics=[spec.name],
                                        sample_weight=None if weights is None else weights[index])
                slow.append(copy.metrics[spec.name])
        np.testing.assert_allclose(fast, np.asarray(slow, dtype=float), rtol=1e-12, atol=1e-12,
                                   err_msg=spec.name)


def _normal_cdf(x):
    from math import erf, sqrt
    return 0.5 * (1 + np.vectorize(erf)(np.asarray(x) / sqrt(2)))


SEED = 2024


def test_95_percent_intervals_cover_the_true_value_about_95_percent_of_the_time():
    # y ~ Bernoulli(1/2); x | y ~ Normal(+-d/2, 1); score = Phi(x). Then the true accuracy at 0.5
    # is Phi(d/2), the true AUROC Phi(d/sqrt 2), and the true log loss E[-log Phi(x)], x ~ N(d/2, 1).
    d, n, datasets = 1.5, 200, 600
    grid = np.linspace(d / 2 - 9, d / 2 + 9, 200_001)
    density = np.exp(-0.5 * (grid - d / 2) ** 2) / math.sqrt(2 * math.pi)
    true_values = {
        "accuracy": float(_normal_cdf(d / 2)),
        "roc_auc": float(_normal_cdf(d / math.sqrt(2))),
        "log_loss": float(np.trapezoid(-np.log(_normal_cdf(grid)) * density, grid)),
    }
    rng = np.random.default_rng(SEED)
    covered = {name: 0 for name in true_values}
    for _ in range(datasets):
        y_true = rng.integers(0, 2, n)
        x = rng.normal(np.where(y_true == 1, d / 2, -d / 2), 1.0)
        result = toolkit.evaluate(y_true, y_score=_normal_cdf(x), metrics=list(true_values), ci=0.95,
                                  n_bootstrap=200, seed=rng)
        for name, truth in true_values.items():
            low, high = result.intervals[name]
            covered[name] += low <= truth <= high
    coverage = {name: hits / datasets for name, hits in covered.items()}
    # 600 datasets: the standard error of a 95% coverage is 0.9 points (3,000 datasets gave
    # 94-95% for all three); the band is about 3.5 standard errors either side.
    assert all(0.915 <= value <= 0.985 for value in coverage.values()), coverage


def test_intervals_cover_every_scalar_metric_and_are_logged_as_ci_keys():
    y_true, y_score, _ = _binary_problem(300, seed=3, weighted=False)
    result = toolkit.evaluate(y_true, y_score=y_score, ci=0.95, n_bootstrap=200, seed=1)
    assert set(result.intervals) == set(result.metrics)
    for key, (low, high) in result.intervals.items():
        assert low <= high, key
        if key != "example_count":
            assert low <= result.metrics[key] + 0.05 and result.metrics[key] - 0.05 <= high, key
    assert result.intervals["example_count"] == (300.0, 300.0)
    logged = result.logged_metrics()
    assert logged["roc_auc_ci_low"] == result.intervals["roc_auc"][0]
    assert logged["f1/1_ci_high"] == result.intervals["f1/1"][1]
    assert result.to_dict()["intervals"]["accuracy"] == list(result.intervals["accuracy"])


def test_same_seed_same_intervals_and_streaming_equals_one_shot():
    y_true, y_score, weights = _binary_problem(240, seed=9, weighted=True)
    one_shot = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, ci=0.9, n_bootstrap=150, seed=4)
    again = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, ci=0.9, n_bootstrap=150, seed=4)
    other = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, ci=0.9, n_bootstrap=150, seed=5)
    assert one_shot.intervals == again.intervals
    assert one_shot.intervals["roc_auc"] != other.intervals["roc_auc"]
    first = toolkit.Evaluator(labels=[0, 1], ci=0.9, n_bootstrap=150, seed=4)
    second = toolkit.Evaluator(labels=[0, 1], ci=0.9, n_bootstrap=150, seed=4)
    first.update(y_true[:100], y_score=y_score[:100], sample_weight=weights[:100])
    second.update(y_true[100:], y_score=y_score[100:], sample_weight=weights[100:])
    merged = first.merge(second).compute()
    for key, interval in one_shot.intervals.items():
        np.testing.assert_allclose(merged.intervals[key], interval, rtol=1e-12, err_msg=key)


def test_undefined_resamples_are_left_out_and_reported():
    # one positive in 40: many resamples hold no positive, where AUROC is undefined
    y_true = np.zeros(40, dtype=int)
    y_true[0] = 1
    y_score = np.linspace(0, 1, 40)
    result = toolkit.evaluate(y_true, y_score=y_score, metrics=["roc_auc"], ci=0.9, n_bootstrap=200, seed=0)
    low, high = result.intervals["roc_auc"]
    assert 0 <= low <= high <= 1
    assert any(note.startswith("roc_auc: undefined in") for note in result.warnings)


@pytest.mark.parametrize("options, message", [
    (dict(ci=1.5), "ci must be"), (dict(ci=0), "ci must be"), (dict(ci="95%"), "ci must be"),
    (dict(ci=0.95, n_bootstrap=1), "n_bootstrap"), (dict(ci=0.95, n_bootstrap=10.5), "n_bootstrap"),
    (dict(ci=0.95, seed="x"), "seed"),
])
def test_bad_bootstrap_options_are_value_errors(options, message):
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate([0, 1, 1], y_score=[0.2, 0.7, 0.4], **options)


def test_a_metric_whose_statistic_cannot_be_resampled_gets_a_note_not_an_interval():
    class Positives:
        @hookimpl
        def toolkit_register_statistics(self):
            return [toolkit.plugin.StatisticSpec("positives", init=lambda labels: 0,
                                          update=lambda state, batch: state + int((batch.y_true == 1).sum()),
                                          merge=lambda a, b: a + b)]

        @hookimpl
        def toolkit_register_metrics(self):
            return [MetricSpec("positive_count", lambda positives: float(positives), ("positives",), None)]

    manager = create_plugin_manager()
    manager.register(Positives(), "positives")
    result = toolkit.evaluate([0, 1, 1], [0, 1, 0], metrics=["accuracy", "positive_count"], ci=0.9,
                              n_bootstrap=50, seed=0, plugin_manager=manager)
    assert "accuracy" in result.intervals and "positive_count" not in result.intervals
    assert any("positive_count: no confidence interval" in note for note in result.warnings)


def test_bootstrap_intervals_function_takes_engine_values_directly():
    confusion = np.array([[40, 10], [5, 45]])
    spec = toolkit.plugin.create_plugin_manager().get_metrics()["accuracy"]
    intervals = bootstrap_intervals([spec], {"confusion": confusion, "labels": [0, 1]}, ci=0.95,
                                    n_bootstrap=4000, seed=0)
    low, high = intervals["accuracy"]
    # the normal approximation: 0.85 +- 1.96 * sqrt(0.85 * 0.15 / 100)
    assert low == pytest.approx(0.85 - 0.07, abs=0.012) and high == pytest.approx(0.85 + 0.07, abs=0.012)
