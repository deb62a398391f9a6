"""The plugin's own tests, written with the fixtures of toolkit.testing (a pytest plugin of the core)."""

import math

import pytest
from sklearn import metrics as sklearn_metrics

import toolkit
from toolkit.testing import check_plugin


def test_metrics_are_registered(toolkit_plugin_manager):
    info = {info.name: info for info in toolkit_plugin_manager.plugin_infos()}
    (ours,) = [entry for entry in info.values() if "balanced_accuracy" in entry.metrics]
    assert ours.statistics == ("calibration_histogram",)
    assert toolkit_plugin_manager.broken == []


@pytest.mark.parametrize("weighted", [False, True])
def test_values_agree_with_scikit_learn(toolkit_plugin_manager, make_classification_data, weighted):
    data = make_classification_data(500, n_classes=4, seed=1, weighted=weighted)
    result = toolkit.evaluate(**data.as_kwargs(), labels=data.labels)  # the fixture's manager is in use
    weights = data.sample_weight
    assert result.metrics["balanced_accuracy"] == pytest.approx(
        sklearn_metrics.balanced_accuracy_score(data.y_true, data.y_pred, sample_weight=weights), abs=1e-9)
    assert result.metrics["matthews_corrcoef"] == pytest.approx(
        sklearn_metrics.matthews_corrcoef(data.y_true, data.y_pred, sample_weight=weights), abs=1e-9)
    assert result.metrics["top_k_accuracy"] == pytest.approx(
        sklearn_metrics.top_k_accuracy_score(data.y_true, data.y_score, k=2, sample_weight=weights), abs=1e-9)


def test_calibrated_scores_have_a_small_calibration_error(toolkit_plugin_manager, make_classification_data):
    # The synthetic labels are drawn from the scores themselves, so the scores are calibrated.
    data = make_classification_data(20_000, n_classes=3, seed=2)
    error = toolkit.evaluate(data.y_true, y_score=data.y_score, metrics=["expected_calibration_error"])
    assert error.metrics["expected_calibration_error"] < 0.03


def test_streaming_in_batches_gives_the_one_shot_values(toolkit_plugin_manager, classification_data):
    names = ["balanced_accuracy", "matthews_corrcoef", "top_k_accuracy", "expected_calibration_error"]
    one_shot = toolkit.evaluate(**classification_data.as_kwargs(), metrics=names)
    evaluator = toolkit.Evaluator(classification_data.labels, names)
    for batch in classification_data.batches(37):
        evaluator.update(**batch.as_kwargs())
    streamed = evaluator.compute()
    for name in names:
        assert math.isclose(streamed.metrics[name], one_shot.metrics[name], rel_tol=1e-12), name


def test_evaluation_is_recorded_by_real_trackers(toolkit_evaluate, toolkit_tracking, classification_data):
    # Every installed tracker that offers a test sandbox, writing into the test's temporary folder.
    result = toolkit_evaluate(**classification_data.as_kwargs(), run_name="custom-metrics")
    expected = result.metrics["matthews_corrcoef"]
    assert toolkit_tracking.trackers, "no tracker was sandboxed"
    for tracker in toolkit_tracking.trackers:
        (run,) = toolkit_tracking.runs(tracker)
        assert run.status == "FINISHED" and run.run_name == "custom-metrics", tracker
        assert run.metrics["matthews_corrcoef"] == pytest.approx(expected, abs=1e-12), tracker


def test_the_plugin_passes_the_conformance_checks(toolkit_plugin_manager):
    # Batches merged in any order, pickled states, needs, finite values and declared order.
    from toolkit_custom_metrics import plugin

    report = check_plugin(plugin, plugin_manager=toolkit_plugin_manager)
    assert report.statistics == ["calibration_histogram"] and len(report.metrics) == 5
