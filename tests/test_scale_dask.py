"""Dask collections: statistics computed per partition on 2 real worker processes, merged on the client."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask.utils import key_split
from distributed import Client, LocalCluster, get_task_stream

import toolkit

RNG = np.random.default_rng(31)
N, K = 5000, 4
Y_TRUE = RNG.integers(0, K, N)
SCORES = RNG.dirichlet(np.ones(K), N)
WEIGHTS = RNG.random(N) * 2
NAMES = np.array(["ant", "bee", "cat", "dog"], dtype=object)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    with Client(cluster) as client:
        yield client


def _frame(npartitions: int = 5) -> dd.DataFrame:
    frame = pd.DataFrame(SCORES, columns=[f"p_{name}" for name in NAMES])
    frame["animal"] = NAMES[Y_TRUE]
    frame["weight"] = WEIGHTS
    return dd.from_pandas(frame, npartitions=npartitions)


def test_dask_arrays_give_the_in_memory_result_bit_for_bit(client):
    # Chunks of y_score differ from y_true's on both axes: they are aligned before evaluating.
    y_true = da.from_array(Y_TRUE, chunks=900)
    y_score = da.from_array(SCORES, chunks=(1300, 2))
    with get_task_stream(client) as stream:
        result = toolkit.evaluate(y_true, y_score=y_score)
    ran = [(key_split(task["key"]), task["worker"]) for task in stream.data]
    expected = toolkit.evaluate(Y_TRUE, y_score=SCORES)
    assert result.metrics == expected.metrics
    np.testing.assert_array_equal(result.confusion_matrix, expected.confusion_matrix)
    assert result.labels == expected.labels == [0, 1, 2, 3]
    # Every partition was evaluated by a task on a worker, and both workers took part.
    partition_tasks = [worker for name, worker in ran if name == "partition_evaluator"]
    assert len(partition_tasks) == len(y_true.chunks[0])
    assert len(set(partition_tasks)) == 2


def test_a_series_and_a_frame_of_score_columns_with_string_labels(client):
    frame = _frame()
    result = toolkit.evaluate(frame["animal"], y_score=frame[[f"p_{name}" for name in NAMES]],
                              labels=list(NAMES))
    expected = toolkit.evaluate(NAMES[Y_TRUE], y_score=SCORES, labels=list(NAMES))
    assert result.metrics == expected.metrics
    assert result.metrics["roc_auc_ovr_macro"] == expected.metrics["roc_auc_ovr_macro"]


def test_weighted_results_agree_up_to_the_order_of_float_additions(client):
    frame = _frame(npartitions=7)
    result = toolkit.evaluate(frame["animal"], y_score=frame[[f"p_{name}" for name in NAMES]],
                              sample_weight=frame["weight"], labels=list(NAMES))
    expected = toolkit.evaluate(NAMES[Y_TRUE], y_score=SCORES, sample_weight=WEIGHTS, labels=list(NAMES))
    assert result.metrics.keys() == expected.metrics.keys()
    for name, value in expected.metrics.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
    assert result.metrics["log_loss"] == expected.metrics["log_loss"]  # exact sums


def test_bounded_mode_ships_histograms_and_matches_bounded_in_memory(client):
    result = toolkit.evaluate(da.from_array(Y_TRUE, chunks=1000), y_score=da.from_array(SCORES, chunks=1000),
                              exact=False)
    expected = toolkit.evaluate(Y_TRUE, y_score=SCORES, exact=False)
    assert result.metrics == expected.metrics
    assert "roc_auc_ovr_macro_binned" in result.metrics and "roc_auc_ovr_macro" not in result.metrics


def test_labels_are_inferred_from_binary_scores_as_in_memory(client):
    y_true = (Y_TRUE == 2).astype(int)
    result = toolkit.evaluate(da.from_array(y_true, chunks=800), y_score=da.from_array(SCORES[:, 2], chunks=800))
    expected = toolkit.evaluate(y_true, y_score=SCORES[:, 2])
    assert result.labels == [0, 1]
    assert result.metrics == expected.metrics


def test_a_bad_value_on_a_worker_raises_value_error_on_the_client(client):
    with pytest.raises(ValueError, match=r"y_true contains \[3\], not in labels"):
        three = SCORES[:, :3] / SCORES[:, :3].sum(axis=1, keepdims=True)  # probabilities of three labels
        toolkit.evaluate(da.from_array(Y_TRUE, chunks=1000), y_score=da.from_array(three, chunks=1000),
                         labels=[0, 1, 2])


def test_a_numpy_input_beside_a_dask_one_is_refused(client):
    with pytest.raises(ValueError, match="y_score is a ndarray, not a Dask collection"):
        toolkit.evaluate(da.from_array(Y_TRUE, chunks=1000), y_score=SCORES)
    with pytest.raises(ValueError, match="scheduler must be None"):
        toolkit.evaluate(da.from_array(Y_TRUE, chunks=1000), y_score=da.from_array(SCORES, chunks=1000),
                         scheduler=42)


def test_a_scheduler_address_connects_a_client_for_the_call(cluster):
    result = toolkit.evaluate(da.from_array(Y_TRUE, chunks=2500), y_score=da.from_array(SCORES, chunks=2500),
                              scheduler=cluster.scheduler_address, metrics=["accuracy"])
    assert result["accuracy"] == toolkit.evaluate(Y_TRUE, y_score=SCORES)["accuracy"]


def test_without_a_client_dasks_default_scheduler_runs_the_partitions():
    result = toolkit.evaluate(da.from_array(Y_TRUE, chunks=1200), y_score=da.from_array(SCORES, chunks=1200))
    assert result.metrics == toolkit.evaluate(Y_TRUE, y_score=SCORES).metrics


def test_scheduler_local_starts_a_cluster_of_processes_for_the_call():
    result = toolkit.evaluate(da.from_array(Y_TRUE, chunks=2500), y_score=da.from_array(SCORES, chunks=2500),
                              scheduler="local", metrics=["accuracy", "roc_auc_ovr_macro"])
    expected = toolkit.evaluate(Y_TRUE, y_score=SCORES)
    assert result["roc_auc_ovr_macro"] == expected["roc_auc_ovr_macro"]
