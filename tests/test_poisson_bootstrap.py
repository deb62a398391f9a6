"""bootstrap="poisson": Poisson(1) weights keyed by position, the same intervals for any batching,
merge order or file split, and right coverage on simulated data."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit
from toolkit.evaluation import poisson
from toolkit.evaluation.poisson import _THRESHOLDS, cell_counts, poisson_from_uniform, resample_weights, weights_block

LABELS = [0, 1, 2]


def test_weights_are_poisson_1():
    weights = np.concatenate([resample_weights(11, r, 0, 200_000) for r in range(10)]).astype(np.int64)
    observed = np.bincount(weights, minlength=7)[:7]
    expected = stats.poisson.pmf(np.arange(7), 1.0) * weights.size
    # each frequency within 5 standard errors; mean and variance 1
    assert np.all(np.abs(observed - expected) <= 5 * np.sqrt(expected)), (observed, expected)
    assert weights.mean() == pytest.approx(1.0, abs=0.005) and weights.var() == pytest.approx(1.0, abs=0.01)
    # resamples are independent of each other
    assert abs(np.corrcoef(resample_weights(11, 0, 0, 100_000), resample_weights(11, 1, 0, 100_000))[0, 1]) < 0.02


def test_inversion_by_table_equals_the_direct_search_at_every_threshold():
    edges = _THRESHOLDS.astype(np.int64)
    draws = np.unique(np.clip(np.concatenate([edges - 1, edges, edges + 1, np.arange(0, 2**32, 65_537)]),
                              0, 2**32 - 1)).astype(np.uint32)
    direct = np.searchsorted(_THRESHOLDS, draws.astype(np.uint64), side="right")
    np.testing.assert_array_equal(poisson_from_uniform(draws), direct)
    # the thresholds are Poisson(1)'s cumulative probabilities
    np.testing.assert_allclose(_THRESHOLDS[:8] / 2**32, stats.poisson.cdf(np.arange(8), 1.0), rtol=0, atol=1e-9)


@pytest.mark.parametrize("start", [0, 1, 2, 7, 1000])
def test_a_stream_entered_at_any_position_gives_the_same_weights(start):
    whole = resample_weights(5, 3, 0, start + 50)
    np.testing.assert_array_equal(resample_weights(5, 3, start, 50), whole[start:])


@pytest.mark.parametrize("first, count", [(0, 9), (3, 5), (4, 1), (7, 2)])
def test_any_block_of_positions_and_resamples_is_the_same_part_of_the_whole(first, count):
    whole = weights_block(8, 0, 700, 0, 12)
    np.testing.assert_array_equal(weights_block(8, 123, 400, first, count), whole[123:523, first:first + count])
    np.testing.assert_array_equal(whole[:, 3], resample_weights(8, 3, 0, 700))


def test_the_compiled_kernel_draws_the_numpy_weights_bit_for_bit():
    pytest.importorskip("numba")
    for seed, start, first, count in ((0, 0, 0, 32), (2**62 + 5, 10**12, 7, 5)):
        compiled = weights_block(seed, start, 70_000, first, count, compiled=True)  # several threads
        np.testing.assert_array_equal(compiled, weights_block(seed, start, 70_000, first, count))
    assert poisson.compiled_for(poisson.COMPILED_MIN_WEIGHTS) and not poisson.compiled_for(1000)


def test_cell_counts_depend_only_on_the_counts_and_the_seed():
    counts = np.array([[40, 3], [0, 57]])
    drawn = cell_counts(1, counts, 4000)
    np.testing.assert_array_equal(drawn, cell_counts(1, counts, 4000))
    assert (drawn[:, 1, 0] == 0).all()
    assert drawn[:, 0, 0].mean() == pytest.approx(40, rel=0.02) and drawn[:, 0, 0].var() == pytest.approx(40, rel=0.1)


def _problem(n, seed, weighted):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    scores = rng.random((n, 3))
    scores[np.arange(n), y_true] += 0.4
    scores = np.round(scores / scores.sum(axis=1, keepdims=True), 3)  # ties
    scores[:, -1] = 1 - scores[:, :-1].sum(axis=1)  # rows still sum to 1 (within float rounding)
    return y_true, scores, rng.uniform(0.2, 2.0, n) if weighted else None


def _assert_same_intervals(result, expected):
    assert result.intervals.keys() == expected.intervals.keys()
    for key, interval in expected.intervals.items():
        np.testing.assert_allclose(result.intervals[key], interval, rtol=0, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("weighted", [False, True])
def test_any_batching_and_merge_order_gives_the_in_memory_intervals(weighted):
    y_true, scores, weights = _problem(2000, seed=1, weighted=weighted)
    options = dict(ci=0.9, n_bootstrap=120, seed=9, bootstrap="poisson")
    expected = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, **options)
    assert len(expected.intervals) == len(expected.metrics) and not expected.warnings
    rng = np.random.default_rng(2)
    for _ in range(3):
        parts = np.split(np.arange(2000), np.sort(rng.choice(np.arange(1, 2000), 5, replace=False)))
        evaluators = []
        for part in parts:
            evaluator = toolkit.Evaluator(labels=LABELS, **options)
            evaluator.update(y_true[part], y_score=scores[part], sample_weight=None if weights is None else weights[part])
            evaluators.append(pickle.loads(pickle.dumps(evaluator)))  # as Dask ships them
        # a tree of merges, each keeping the data's order: (0 + 1 + 2) + ((3 + 4) + 5)
        left = evaluators[0].merge(evaluators[1]).merge(evaluators[2])
        right = evaluators[3].merge(evaluators[4]).merge(evaluators[5])
        _assert_same_intervals(left.merge(right).compute(), expected)
    streamed = toolkit.Evaluator(labels=LABELS, **options)
    for start in range(0, 2000, 333):
        streamed.update(y_true[start:start + 333], y_score=scores[start:start + 333],
                        sample_weight=None if weights is None else weights[start:start + 333])
    _assert_same_intervals(streamed.compute(), expected)


def test_files_in_any_batching_give_the_in_memory_intervals(tmp_path):
    y_true, scores, weights = _problem(3000, seed=3, weighted=True)
    frame = pd.DataFrame(scores, columns=["p0", "p1", "p2"])
    frame["label"], frame["weight"] = y_true, weights
    for part, rows in enumerate((slice(0, 1100), slice(1100, 2400), slice(2400, None))):
        frame[rows].to_parquet(tmp_path / f"part-{part}.parquet", row_group_size=500)
    options = dict(ci=0.95, n_bootstrap=100, seed=4)
    expected = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, labels=LABELS,
                                bootstrap="poisson", **options)
    for batch_rows in (256, 999, 5000):
        result = toolkit.evaluate_files(str(tmp_path / "part-*.parquet"), y_true="label", y_score="p*",
                                        sample_weight="weight", labels=LABELS, exact=True, batch_rows=batch_rows,
                                        **options)
        _assert_same_intervals(result, expected)
    bounded = toolkit.evaluate_files(str(tmp_path / "part-*.parquet"), y_true="label", y_score="p*",
                                     labels=LABELS, batch_rows=700, **options)
    unweighted = toolkit.evaluate(y_true, y_score=scores, labels=LABELS, bootstrap="poisson", **options)
    for key in ("accuracy", "f1_macro", "precision/1", "log_loss"):  # bounded memory: counts and log loss
        np.testing.assert_allclose(bounded.intervals[key], unweighted.intervals[key], rtol=0, atol=1e-12)
    assert any(note.startswith("roc_auc_ovr_macro_binned: no confidence interval") for note in bounded.warnings)


def test_dask_in_any_partitioning_gives_the_in_memory_intervals():
    import dask.array as da

    y_true, scores, weights = _problem(2500, seed=6, weighted=True)
    options = dict(labels=LABELS, ci=0.9, n_bootstrap=80, seed=12)
    expected = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, bootstrap="poisson", **options)
    for chunks in (300, 777, 2500):
        result = toolkit.evaluate(da.from_array(y_true, chunks=chunks), y_score=da.from_array(scores, chunks=(chunks, 3)),
                                  sample_weight=da.from_array(weights, chunks=chunks), **options)  # Poisson by default
        _assert_same_intervals(result, expected)


def test_seeds_fix_the_intervals():
    y_true, scores, _ = _problem(500, seed=5, weighted=False)
    first = toolkit.evaluate(y_true, y_score=scores, ci=0.9, n_bootstrap=100, seed=1, bootstrap="poisson")
    again = toolkit.evaluate(y_true, y_score=scores, ci=0.9, n_bootstrap=100, seed=1, bootstrap="poisson")
    other = toolkit.evaluate(y_true, y_score=scores, ci=0.9, n_bootstrap=100, seed=2, bootstrap="poisson")
    assert first.intervals == again.intervals
    assert first.intervals["roc_auc_ovr_macro"] != other.intervals["roc_auc_ovr_macro"]
    assert first.intervals["accuracy"] != other.intervals["accuracy"]
    unseeded = toolkit.Evaluator(labels=LABELS, ci=0.9, n_bootstrap=50, bootstrap="poisson")
    unseeded.update(y_true, y_score=scores)
    assert unseeded.compute().intervals == unseeded.compute().intervals  # the seed is drawn once


@pytest.mark.parametrize("options, message", [
    (dict(bootstrap="jackknife"), "bootstrap must be one of"),
    (dict(bootstrap="poisson", seed=-1), "seed must be a non-negative"),
    (dict(bootstrap="poisson", seed="x"), "seed must be"),
])
def test_bad_poisson_options_are_value_errors(options, message):
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate([0, 1, 1], y_score=[0.2, 0.7, 0.4], ci=0.9, **options)


def _normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(np.asarray(x) / math.sqrt(2)))


def test_95_percent_poisson_intervals_cover_the_true_value_about_95_percent_of_the_time():
    # y ~ Bernoulli(1/2); x | y ~ Normal(+-d/2, 1); score = Phi(x). Predicting 1 when x > 0 makes the
    # true accuracy, and each class's precision, recall and so F1, Phi(d/2); the true AUROC is Phi(d/sqrt 2).
    d, n, datasets = 1.5, 200, 500
    true_values = {"accuracy": float(_normal_cdf(d / 2)), "f1_macro": float(_normal_cdf(d / 2)),
                   "roc_auc": float(_normal_cdf(d / math.sqrt(2)))}
    rng = np.random.default_rng(2025)
    covered = {name: 0 for name in true_values}
    for dataset in range(datasets):
        y_true = rng.integers(0, 2, n)
        x = rng.normal(np.where(y_true == 1, d / 2, -d / 2), 1.0)
        result = toolkit.evaluate(y_true, y_score=_normal_cdf(x), labels=[0, 1], metrics=list(true_values),
                                  ci=0.95, n_bootstrap=200, seed=dataset, bootstrap="poisson")
        for name, truth in true_values.items():
            low, high = result.intervals[name]
            covered[name] += low <= truth <= high
    coverage = {name: hits / datasets for name, hits in covered.items()}
    # 500 datasets: the standard error of a 95% coverage is about 1 point
    assert all(0.90 <= value <= 0.99 for value in coverage.values()), coverage


def _assert_close_intervals(result, expected, keys):
    # weighted counts are summed in another order batch by batch: equal to within rounding
    for key in keys:
        np.testing.assert_allclose(result.intervals[key], expected.intervals[key], rtol=1e-12, atol=1e-12, err_msg=key)


def _count_keys(result):
    """Every interval but AUROC's (which needs every score): counts, weighted counts and log loss."""
    return [key for key in result.intervals if not key.startswith("roc_auc")]


def test_bounded_files_resample_weighted_counts_batch_by_batch(tmp_path):
    y_true, scores, weights = _problem(3000, seed=13, weighted=True)
    frame = pd.DataFrame(scores, columns=["p0", "p1", "p2"]).assign(label=y_true, weight=weights)
    frame[:1300].to_parquet(tmp_path / "part-0.parquet")
    frame[1300:].to_parquet(tmp_path / "part-1.parquet")
    options = dict(labels=LABELS, ci=0.95, n_bootstrap=100, seed=21)
    expected = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, bootstrap="poisson", **options)
    keys = _count_keys(expected)
    assert {"f1_macro", "support/1", "log_loss"} <= set(keys)
    for batch_rows in (128, 1000, 4000):
        result = toolkit.evaluate_files(str(tmp_path / "part-*.parquet"), y_true="label", y_score="p*",
                                        sample_weight="weight", batch_rows=batch_rows, **options)
        assert not any(note.startswith(tuple(f"{key}: no confidence" for key in keys)) for note in result.warnings)
        _assert_close_intervals(result, expected, keys)


def test_bounded_dask_resamples_weighted_counts_in_any_partitioning():
    import dask.array as da

    y_true, scores, weights = _problem(2500, seed=14, weighted=True)
    options = dict(labels=LABELS, ci=0.9, n_bootstrap=80, seed=22)
    expected = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, bootstrap="poisson", **options)
    for chunks in (300, 1250):
        result = toolkit.evaluate(da.from_array(y_true, chunks=chunks), y_score=da.from_array(scores, chunks=(chunks, 3)),
                                  sample_weight=da.from_array(weights, chunks=chunks), exact=False, **options)
        _assert_close_intervals(result, expected, _count_keys(expected))


def test_bounded_state_does_not_grow_with_the_examples():
    y_true, scores, weights = _problem(20_000, seed=15, weighted=True)
    evaluator = toolkit.Evaluator(labels=LABELS, exact=False, ci=0.9, n_bootstrap=50, seed=3, bootstrap="poisson")
    sizes = []
    for start in range(0, 20_000, 1000):
        part = slice(start, start + 1000)
        evaluator.update(y_true[part], y_score=scores[part], sample_weight=weights[part])
        sizes.append(len(pickle.dumps(evaluator)))
    sums = evaluator._poisson_sums
    assert not sums.pending and sums.cells.shape == (50, 9) and sums.count == 20_000
    assert max(sizes) - min(sizes) < 1000, sizes  # fixed-size states: no per-example data kept


def test_spawned_parts_merge_in_order_and_misplaced_parts_are_refused():
    y_true, scores, weights = _problem(1500, seed=16, weighted=True)
    options = dict(labels=LABELS, exact=False, ci=0.9, n_bootstrap=60, seed=5, bootstrap="poisson")
    root = toolkit.Evaluator(**options)
    root.update(y_true[:500], y_score=scores[:500], sample_weight=weights[:500])
    left, right = root.spawn(), root.spawn()
    left.update(y_true[500:1000], y_score=scores[500:1000], sample_weight=weights[500:1000])
    right.update(y_true[1000:], y_score=scores[1000:], sample_weight=weights[1000:])
    result = root.merge(left.merge(right)).compute()
    whole = toolkit.Evaluator(**options).update(y_true, y_score=scores, sample_weight=weights).compute()
    _assert_close_intervals(result, whole, _count_keys(whole))
    misplaced = toolkit.Evaluator(**options).update(y_true[:10], y_score=scores[:10], sample_weight=weights[:10])
    with pytest.raises(ValueError, match="placed at position 0 .* come at position 1500"):
        root.merge(misplaced)


def test_a_statistic_declares_terms_and_from_sums_together():
    from toolkit.plugin import StatisticSpec

    def step(state, batch):
        return state

    with pytest.raises(ValueError, match="terms and from_sums must both be callables"):
        StatisticSpec("half", init=lambda labels: 0, update=step, merge=lambda a, b: a + b, terms=lambda batch: None)


@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_batch_sums_equal_the_numpy_ones(weighted, monkeypatch):
    pytest.importorskip("numba")
    from toolkit.evaluation.poisson_sums import PoissonSums
    from toolkit.plugin import Batch

    rng = np.random.default_rng(17)
    n = 70_000  # two halves on threads
    y_true, y_pred = rng.integers(0, 3, n), rng.integers(0, 3, n)
    batch = Batch(y_true, y_pred, rng.dirichlet(np.ones(3), n), rng.uniform(0.1, 2.0, n) if weighted else None)
    folded = []
    for threshold in (10**15, 1):  # numpy, then compiled
        monkeypatch.setattr(poisson, "COMPILED_MIN_WEIGHTS", threshold)
        sums = PoissonSums(3, 101, 3, start=41, term_statistics=["log_loss_terms"])
        sums.add(batch, toolkit.plugin.get_plugin_manager().get_statistics())
        folded.append(sums)
    numpy_sums, compiled_sums = folded
    np.testing.assert_allclose(compiled_sums.sums["log_loss_terms"], numpy_sums.sums["log_loss_terms"], rtol=1e-12)
    if weighted:
        np.testing.assert_allclose(compiled_sums.cells, numpy_sums.cells, rtol=1e-12)
        np.testing.assert_array_equal(compiled_sums.examples, numpy_sums.examples)
    else:
        assert compiled_sums.cells is None and numpy_sums.cells is None


def test_compiled_weighted_cell_sums_add_count_times_weight_per_cell():
    pytest.importorskip("numba")
    from toolkit.evaluation.poisson_kernels import weighted_cell_sums

    rng = np.random.default_rng(18)
    counts = rng.poisson(1.0, size=(5000, 24)).astype(np.uint8)
    cells, weights = rng.integers(0, 9, 5000), rng.uniform(0.1, 2.0, 5000)
    expected = np.zeros((9, 24))
    np.add.at(expected, cells, counts * weights[:, None])
    np.testing.assert_allclose(weighted_cell_sums(counts, cells, weights, 9), expected, rtol=1e-12)


def test_bounded_slices_resample_weighted_counts_and_log_loss_in_any_partitioning():
    import dask.array as da

    y_true, scores, weights = _problem(2400, seed=19, weighted=True)
    region = np.random.default_rng(19).choice(["north", "south"], 2400)
    options = dict(labels=LABELS, ci=0.9, n_bootstrap=60, seed=23)
    expected = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, slice_by={"region": region},
                                bootstrap="poisson", **options)
    for chunks in (350, 2400):
        result = toolkit.evaluate(da.from_array(y_true, chunks=chunks), y_score=da.from_array(scores, chunks=(chunks, 3)),
                                  sample_weight=da.from_array(weights, chunks=chunks),
                                  slice_by={"region": da.from_array(region, chunks=chunks)}, exact=False, **options)
        for name, alone in expected.slices.items():
            keys = _count_keys(alone)
            assert "log_loss" in keys and "f1_macro" in keys
            _assert_close_intervals(result.slices[name], alone, keys)
