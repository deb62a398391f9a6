"""The rules of the README for default labels, derived predictions and undefined values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

import toolkit


def test_labels_default_to_the_sorted_union_of_true_and_predicted():
    result = toolkit.evaluate([3, 1, 1], [1, 7, 1])
    assert result.labels == [1, 3, 7]
    np.testing.assert_array_equal(result.confusion_matrix, [[1, 0, 1], [1, 0, 0], [0, 0, 0]])


def test_labels_are_range_k_when_only_score_columns_are_given():
    result = toolkit.evaluate([0, 2, 2], y_score=[[0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.4, 0.4, 0.2]])
    assert result.labels == [0, 1, 2]
    # argmax with the first column winning the tie in the last row
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score([0, 2, 2], [0, 2, 0]))


def test_binary_scores_predict_the_positive_class_at_one_half():
    y_true = ["no", "yes", "yes", "no"]
    scores = [0.5, 0.5, 0.2, 0.49]
    result = toolkit.evaluate(y_true, y_score=scores)
    assert result.labels == ["no", "yes"] and result.task == "binary"
    # 0.5 -> yes, 0.5 -> yes, 0.2 -> no, 0.49 -> no
    np.testing.assert_array_equal(result.confusion_matrix, [[1, 1], [1, 1]])
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score([0, 1, 1, 0], scores))


def test_string_labels_in_given_order_set_the_positive_class():
    result = toolkit.evaluate(["spam", "ham", "spam"], ["spam", "spam", "spam"], labels=["spam", "ham"])
    assert result.labels == ["spam", "ham"]
    assert result.metrics["precision"] == 0.0  # positive class is labels[1] == "ham", never predicted
    assert result.metrics["recall/spam"] == 1.0


def test_one_class_present_gives_nan_auroc_and_keeps_everything_else():
    result = toolkit.evaluate([1, 1, 1], y_score=[0.9, 0.2, 0.7])
    assert result.labels == [0, 1]
    assert math.isnan(result.metrics["roc_auc"])
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert "roc_auc: AUROC is undefined: y_true holds only one class" in result.warnings


def test_a_metric_that_raises_is_nan_with_the_reason_and_the_rest_survive():
    def broken(confusion):
        raise ZeroDivisionError("bad plugin")

    class Broken:
        @toolkit.plugin.hookimpl
        def toolkit_register_metrics(self):
            return [toolkit.plugin.MetricSpec("broken", broken, ("confusion",), True)]

    manager = toolkit.plugin.create_plugin_manager()
    manager.register(Broken())
    result = toolkit.evaluate([0, 1], [0, 1], plugin_manager=manager)
    assert math.isnan(result.metrics["broken"])
    assert "broken: failed with ZeroDivisionError: bad plugin" in result.warnings
    assert result.metrics["accuracy"] == 1.0


def test_raw_inputs_reach_metrics_as_given_joined_over_batches():
    seen = {}

    def record(y_true, y_pred, labels):
        seen.update(y_true=list(y_true), y_pred=list(y_pred), labels=labels)
        return 0.0

    class Raw:
        @toolkit.plugin.hookimpl
        def toolkit_register_metrics(self):
            return [toolkit.plugin.MetricSpec("raw", record, ("y_true", "y_pred", "labels"), None)]

    manager = toolkit.plugin.create_plugin_manager()
    manager.register(Raw())
    evaluator = toolkit.Evaluator(labels=["a", "b"], metrics=["raw", "accuracy"], plugin_manager=manager)
    evaluator.update(["a", "b"], y_score=[0.2, 0.9])
    evaluator.update(["b"], y_pred=None, y_score=[0.4])
    result = evaluator.compute()
    assert seen == {"y_true": ["a", "b", "b"], "y_pred": ["a", "b", "a"], "labels": ["a", "b"]}
    assert set(result.metrics) == {"raw", "accuracy"}


def test_results_render_as_json_ready_dicts():
    result = toolkit.evaluate([1, 1], y_score=[0.9, 0.2])
    as_dict = result.to_dict()
    assert as_dict["metrics"]["roc_auc"] is None
    assert as_dict["labels"] == [0, 1]
    assert as_dict["confusion_matrix"] == [[0, 0], [1, 1]]
