"""Stored predictions: every tracked evaluation of arrays keeps its checked inputs as predictions.npz,
read back through each tracker's reader and evaluated again to the same numbers."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit.evaluation.engine import Evaluator
from toolkit.plugin import (
    FINGERPRINT_TAG, PREDICTIONS_FILE, EvaluationReport, Predictions, read_evaluation_folder, read_predictions,
)
from toolkit.reporting.record import open_reader

RNG = np.random.default_rng(11)
N = 300


def _stored(tmp_path, result) -> Predictions:
    EvaluationReport.from_result(result, result.metrics).write_files(str(tmp_path))
    return read_evaluation_folder(str(tmp_path))["predictions"]


@pytest.mark.parametrize("labels", [[3, 7, 11], ["cat", "dog", "émeu"], [2.0, 5.5, 9.0]])
def test_labels_of_every_kind_round_trip_without_pickle_and_evaluate_to_the_same_numbers(tmp_path, labels):
    if isinstance(labels[0], float):
        labels = [2.0, 5.0, 9.0]  # float labels are whole numbers
    y_true = np.asarray(labels)[RNG.integers(0, 3, N)]
    y_pred = np.asarray(labels)[RNG.integers(0, 3, N)]
    scores = RNG.dirichlet(np.ones(3), N)
    weights = RNG.random(N)
    evaluator = Evaluator(labels, keep_predictions=True)
    result = evaluator.update(y_true, y_pred, scores, sample_weight=weights).compute()

    stored = _stored(tmp_path, result)
    assert stored.labels == tuple(labels) and [type(label) for label in stored.labels] == [type(label) for label in labels]
    arguments = stored.arguments()
    assert np.array_equal(arguments["y_true"], y_true) and np.array_equal(arguments["y_pred"], y_pred)
    assert np.array_equal(arguments["y_score"], scores) and np.array_equal(arguments["sample_weight"], weights)
    assert toolkit.evaluate(**arguments).metrics == result.metrics
    with np.load(tmp_path / PREDICTIONS_FILE, allow_pickle=False) as archive:  # nothing needs pickle
        assert all(archive[name].dtype.kind != "O" for name in archive.files)
    with zipfile.ZipFile(tmp_path / PREDICTIONS_FILE) as archive:  # what deflates is deflated; random scores do not
        methods = {info.filename: info.compress_type for info in archive.infolist()}
    assert methods["y_true.npy"] == methods["y_pred.npy"] == zipfile.ZIP_DEFLATED
    assert methods["y_score.npy"] == zipfile.ZIP_STORED


def test_binary_scores_of_shape_n_keep_their_shape_and_the_threshold_rule(tmp_path):
    y_true = RNG.integers(0, 2, N).astype(bool)
    scores = np.round(RNG.random(N) * 4) / 4  # many exact 0.5 ties: (N,) scores predict positive there
    result = Evaluator([False, True], keep_predictions=True).update(y_true, y_score=scores).compute()
    stored = _stored(tmp_path, result)
    assert stored.y_score.shape == (N,) and stored.y_pred is None and stored.labels == (False, True)
    with zipfile.ZipFile(tmp_path / PREDICTIONS_FILE) as archive:  # five distinct values deflate well
        assert archive.getinfo("y_score.npy").compress_type == zipfile.ZIP_DEFLATED
    assert toolkit.evaluate(**stored.arguments()).metrics == result.metrics


def test_the_fingerprint_names_the_examples_and_their_labels():
    y = RNG.integers(0, 3, N)
    first = Evaluator([0, 1, 2], keep_predictions=True).update(y, y_pred=y).compute().predictions
    same = Evaluator([0, 1, 2], keep_predictions=True).update(y.copy(), y_score=RNG.dirichlet(np.ones(3), N)).compute()
    swapped = y.copy()
    swapped[[0, 1]] = swapped[[1, 0]] if y[0] != y[1] else (y[0], (y[1] + 1) % 3)
    other = Evaluator([0, 1, 2], keep_predictions=True).update(swapped, y_pred=y).compute().predictions
    relabelled = Evaluator([0, 1, 2, 3], keep_predictions=True).update(y, y_pred=y).compute().predictions
    assert first.fingerprint == same.predictions.fingerprint
    assert len({first.fingerprint, other.fingerprint, relabelled.fingerprint}) == 3


def test_inputs_are_kept_by_reference_and_a_merged_evaluator_keeps_none():
    y = RNG.integers(0, 3, N)
    scores = RNG.dirichlet(np.ones(3), N)
    evaluator = Evaluator([0, 1, 2], keep_predictions=True)
    kept = evaluator.update(y, y_score=scores).compute().predictions
    assert kept.y_score is scores and np.shares_memory(kept.y_true, y)  # labels 0..K-1 are their own positions
    assert Evaluator([0, 1, 2]).update(y, y_score=scores).compute().predictions is None
    merged = evaluator.merge(Evaluator([0, 1, 2]).update(y, y_score=scores))
    assert merged.compute().predictions is None  # it never saw the other's examples


def test_an_untracked_evaluation_keeps_nothing():
    y = RNG.integers(0, 2, N)
    assert toolkit.evaluate(y, y_score=RNG.random(N)).predictions is None


def test_a_damaged_predictions_file_is_named(tmp_path):
    np.savez_compressed(tmp_path / PREDICTIONS_FILE, y_true=np.arange(3))
    with pytest.raises(ValueError, match=r"predictions.npz: not a toolkit predictions file .*missing"):
        read_predictions(str(tmp_path))
    assert read_predictions(str(tmp_path / "elsewhere")) is None


@pytest.mark.slow
def test_every_tracker_stores_the_predictions_and_its_reader_gives_them_back(toolkit_evaluate, toolkit_tracking):
    y_true = np.asarray(["north", "south", "west"])[RNG.integers(0, 3, N)]
    scores = RNG.dirichlet(np.ones(3), N)
    weights = RNG.random(N) + 0.5
    result = toolkit_evaluate(y_true, y_score=scores, labels=["north", "south", "west"], sample_weight=weights)
    assert set(toolkit_tracking.trackers) >= {"mlflow", "wandb", "tensorboard"}
    for tracker in toolkit_tracking.trackers:
        (record,) = toolkit_tracking.runs(tracker)
        stored = record.predictions
        assert stored is not None, tracker
        assert np.array_equal(stored.arguments()["y_true"], y_true) and np.array_equal(stored.y_score, scores)
        assert np.array_equal(stored.sample_weight, weights)
        assert record.tags[FINGERPRINT_TAG] == stored.fingerprint == record.evaluation["predictions"][FINGERPRINT_TAG]
        assert toolkit.evaluate(**stored.arguments()).metrics == result.metrics, tracker


@pytest.mark.slow
def test_the_trainer_stores_its_final_evaluation_s_predictions(toolkit_tracking):
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    model = LogisticRegression(max_iter=300)
    store = os.environ["MLFLOW_TRACKING_URI"]
    history = toolkit.Trainer(model, trackers=["mlflow"], progress=False).fit(
        x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]))
    assert os.environ["MLFLOW_TRACKING_URI"] == store  # logging the model leaves the program's setting alone
    reader = open_reader("mlflow")
    record = reader.read_run(reader.list_runs()[0].run_id)
    stored = record.predictions
    assert np.array_equal(stored.arguments()["y_true"], y[1200:])
    assert np.array_equal(stored.y_score, model.predict_proba(x[1200:]))
    assert toolkit.evaluate(**stored.arguments()).metrics == history.final.metrics
    assert history.evaluations[-1].predictions is not None
