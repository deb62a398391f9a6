"""One pipeline for every source: arrays, files and Dask get the same options and the same result."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

import toolkit

RNG = np.random.default_rng(23)
N = 2000
Y_TRUE = RNG.integers(0, 2, N)
SCORES = np.clip(RNG.normal(0.4 + 0.25 * Y_TRUE, 0.2), 0, 1)
OPTIONS = dict(gates={"roc_auc": ">= 0.5", "accuracy": ">= 0.99"}, ci=0.9, n_bootstrap=200, seed=3,
               threshold_targets={"precision": 0.8, "recall": 0.9})


@pytest.fixture
def parquet_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.table({"label": Y_TRUE, "score": SCORES}), path, row_group_size=300)
    return str(path)


def _same(result, reference):
    assert result.metrics.keys() == reference.metrics.keys()
    for key, value in reference.metrics.items():
        assert result.metrics[key] == pytest.approx(value, abs=1e-12, nan_ok=True), key
    assert [(gate.gate.metric, gate.passed) for gate in result.gates] == [
        (gate.gate.metric, gate.passed) for gate in reference.gates]
    assert result.intervals.keys() == reference.intervals.keys()
    ours, theirs = result.artifacts["threshold_analysis"], reference.artifacts["threshold_analysis"]
    assert ours.summary() == theirs.summary()


def test_arrays_files_and_dask_accept_every_option_and_agree(parquet_file):
    in_memory = toolkit.evaluate(Y_TRUE, y_score=SCORES, **OPTIONS)
    assert in_memory.metrics["roc_auc"] == pytest.approx(roc_auc_score(Y_TRUE, SCORES), abs=1e-12)
    assert in_memory.metrics["f1"] == pytest.approx(f1_score(Y_TRUE, SCORES >= 0.5), abs=1e-12)
    assert [gate.passed for gate in in_memory.gates] == [True, False]
    low, high = in_memory.intervals["roc_auc"]
    assert low < in_memory.metrics["roc_auc"] < high
    assert set(in_memory.artifacts["threshold_analysis"].targets) == {"precision_0.8", "recall_0.9"}

    from_files = toolkit.evaluate_files(parquet_file, y_true="label", y_score="score", exact=True,
                                        batch_rows=256, **OPTIONS)
    _same(from_files, in_memory)
    on_dask = toolkit.evaluate(da.from_array(Y_TRUE, chunks=500), y_score=da.from_array(SCORES, chunks=500),
                               **OPTIONS)
    _same(on_dask, in_memory)


def test_threshold_targets_are_the_threshold_metric_s_params():
    result = toolkit.evaluate(Y_TRUE, y_score=SCORES, metrics={"threshold_analysis": {"target_recall": 0.5}})
    point = result.artifacts["threshold_analysis"].targets["recall_0.5"]
    assert point.recall >= 0.5
    with pytest.raises(ValueError, match="target_recall must be a number between 0 and 1"):
        toolkit.evaluate(Y_TRUE, y_score=SCORES, metrics={"threshold_analysis": {"target_recall": 2.0}})


@pytest.mark.parametrize("call, message", [
    (lambda: toolkit.evaluate(Y_TRUE, y_pred=Y_TRUE, threshold_targets={"precision": 0.9}), "binary task with y_score"),
    (lambda: toolkit.evaluate(RNG.integers(0, 3, 30), y_score=RNG.dirichlet(np.ones(3), 30),
                              threshold_targets={"recall": 0.9}), "binary task with y_score"),
    (lambda: toolkit.evaluate(Y_TRUE, y_score=SCORES, metrics=["accuracy"], threshold_targets={"recall": 0.9}),
     "among metrics"),
    (lambda: toolkit.evaluate(Y_TRUE, y_score=SCORES, exact=False, threshold_targets={"recall": 0.9}),
     "exact=True"),
    (lambda: toolkit.evaluate(Y_TRUE, y_score=SCORES, gates=["nonsense >= 1"]), "nonsense"),
])
def test_options_that_cannot_apply_are_refused_before_anything_runs(call, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        call()
    assert list(tmp_path.iterdir()) == []


def test_an_evaluator_spawns_an_empty_one_alike_that_merges_back():
    evaluator = toolkit.Evaluator([0, 1], ci=0.9, n_bootstrap=100, seed=1)
    other = evaluator.spawn()
    evaluator.update(Y_TRUE[:1000], y_score=SCORES[:1000])
    other.update(Y_TRUE[1000:], y_score=SCORES[1000:])
    merged = evaluator.merge(other).compute()
    assert merged.metrics == toolkit.evaluate(Y_TRUE, y_score=SCORES).metrics
    assert merged.intervals == toolkit.evaluate(Y_TRUE, y_score=SCORES, ci=0.9, n_bootstrap=100, seed=1).intervals
