"""One test per hook, named test_hook_<hook name> (a meta-test checks that every hook has one).

Each test registers a small plugin that implements the hook and drives the real code path that
fires it: ``toolkit.evaluate``, ``Evaluator``, ``Run`` (what the trainer uses) and the manager.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sklearn_metrics

import toolkit
from toolkit.plugin import MetricSpec, StatisticSpec, TrackerSpec, hookimpl
from toolkit.run import Run

Y_TRUE = [0, 1, 2, 2, 1, 0, 2, 1]
Y_PRED = [0, 2, 2, 2, 1, 0, 1, 1]


def test_hook_toolkit_register_metrics(toolkit_plugin_manager):
    class HammingPlugin:
        @hookimpl
        def toolkit_register_metrics(self):
            return [MetricSpec("hamming_loss", lambda confusion: 1 - np.trace(confusion) / confusion.sum(),
                               ("confusion",), higher_is_better=False)]

    toolkit_plugin_manager.register(HammingPlugin(), "hamming")
    result = toolkit.evaluate(Y_TRUE, Y_PRED, sample_weight=np.arange(1, 9))
    expected = sklearn_metrics.hamming_loss(Y_TRUE, Y_PRED, sample_weight=np.arange(1, 9))
    assert result.metrics["hamming_loss"] == pytest.approx(expected, abs=1e-12)
    assert toolkit_plugin_manager.get_metrics()["hamming_loss"].higher_is_better is False


def test_hook_toolkit_register_statistics(toolkit_plugin_manager):
    def update(state, batch):
        weights = np.ones(len(batch)) if batch.sample_weight is None else batch.sample_weight
        return state + np.bincount(batch.y_pred, weights=weights, minlength=state.shape[0])

    class PredictedCountsPlugin:
        @hookimpl
        def toolkit_register_statistics(self):
            return [StatisticSpec("predicted_counts", init=lambda labels: np.zeros(len(labels)),
                                  update=update, merge=lambda a, b: a + b)]

        @hookimpl
        def toolkit_register_metrics(self):
            return [MetricSpec("most_predicted_share", lambda predicted_counts: predicted_counts.max()
                               / predicted_counts.sum(), ("predicted_counts",), None)]

    toolkit_plugin_manager.register(PredictedCountsPlugin(), "predicted-counts")
    left = toolkit.Evaluator([0, 1, 2], ["most_predicted_share"]).update(Y_TRUE[:3], Y_PRED[:3])
    right = toolkit.Evaluator([0, 1, 2], ["most_predicted_share"]).update(Y_TRUE[3:], Y_PRED[3:])
    merged = left.merge(right).compute()
    assert merged.metrics == {"most_predicted_share": pytest.approx(3 / 8)}  # label 2 and 1: 3 each


class InMemoryTracker:
    """A complete tracker that keeps one run's events in a list (TRACKERS, shared by the test)."""

    def __init__(self, **options):
        self.events = []
        TRACKERS.append(self)

    def start(self, run_name):
        self.events.append(("start", run_name))
        return toolkit.plugin.TrackerLink("in-memory", f"run-{len(TRACKERS)}", "memory")

    def log_params(self, params):
        self.events.append(("params", dict(params)))

    def log_metrics(self, metrics, step):
        self.events.append(("metrics", dict(metrics), step))

    def log_evaluation(self, report, step):
        self.events.append(("evaluation", report.confusion_matrix.tolist(), step))

    def log_file(self, name, path):
        self.events.append(("file", name, path))

    def set_tags(self, tags):
        self.events.append(("tags", dict(tags)))

    def finish(self, status):
        self.events.append(("finish", status))

    def describe(self):
        return "in memory"


TRACKERS: list = []


def test_hook_toolkit_register_trackers(toolkit_plugin_manager):
    class InMemoryTrackerPlugin:
        @hookimpl
        def toolkit_register_trackers(self):
            return [TrackerSpec("in-memory", InMemoryTracker, description="keeps runs in a list")]

    toolkit_plugin_manager.register(InMemoryTrackerPlugin(), "in-memory-tracker")
    assert toolkit_plugin_manager.get_trackers()["in-memory"].factory is InMemoryTracker
    TRACKERS.clear()
    result = toolkit.evaluate(Y_TRUE, Y_PRED, trackers=["in-memory"], run_name="tracked",
                              params={"model": {"depth": 3}})
    (tracker,) = TRACKERS
    assert isinstance(tracker, toolkit.plugin.Tracker)
    kinds = [event[0] for event in tracker.events]
    assert kinds[0] == "start" and tracker.events[0] == ("start", "tracked")
    assert ("params", {"model.depth": 3}) in tracker.events  # flattened by the run, not the tracker
    (metrics_event,) = [event for event in tracker.events if event[0] == "metrics"]
    assert metrics_event[1]["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert ("evaluation", result.confusion_matrix.tolist(), None) in tracker.events  # step None: evaluate()
    assert tracker.events[-1] == ("finish", "FINISHED")
    with pytest.raises(ValueError, match=r"unknown tracker\(s\) \['in-memroy'\]"):
        toolkit.evaluate(Y_TRUE, Y_PRED, trackers=["in-memroy"])


def test_hook_toolkit_model_adapter(toolkit_plugin_manager):
    class Polynomial:
        coefficients = (1.0, 2.0)

    class PolynomialAdapterPlugin:
        @hookimpl
        def toolkit_model_adapter(self, model):
            return ("polynomial-adapter", model) if isinstance(model, Polynomial) else None

    class CatchAllPlugin:  # registered first, so called last: only asked when no one else answers
        @hookimpl
        def toolkit_model_adapter(self, model):
            return ("fallback", model)

    toolkit_plugin_manager.register(CatchAllPlugin(), "fallback")
    toolkit_plugin_manager.register(PolynomialAdapterPlugin(), "polynomial")
    model = Polynomial()
    assert toolkit_plugin_manager.get_model_adapter(model) == ("polynomial-adapter", model)
    assert toolkit_plugin_manager.get_model_adapter("other") == ("fallback", "other")  # first non-None wins
    toolkit_plugin_manager.unregister(name="fallback")
    assert toolkit_plugin_manager.get_model_adapter("other") is None


def test_hook_toolkit_build_model(toolkit_plugin_manager):
    calls = []

    class PolynomialBuilderPlugin:
        @hookimpl
        def toolkit_build_model(self, framework, spec, input_shape, labels, seed):
            calls.append((framework, dict(spec), input_shape, labels, seed))
            if framework != "polynomial":
                return None
            if "degree" not in spec:
                raise ValueError("model.degree is missing")
            return {"degree": spec["degree"], "inputs": input_shape[0], "outputs": len(labels)}

    toolkit_plugin_manager.register(PolynomialBuilderPlugin(), "polynomial-builder")
    built = toolkit_plugin_manager.build_model("polynomial", {"degree": 3}, (8, 8), [0, 1, 2], seed=7)
    assert built == {"degree": 3, "inputs": 8, "outputs": 3}
    assert calls[-1] == ("polynomial", {"degree": 3}, (8, 8), [0, 1, 2], 7)
    assert toolkit_plugin_manager.build_model("no-such-framework", {}, (8,), [0, 1]) is None
    with pytest.raises(ValueError, match="model.degree is missing"):
        toolkit_plugin_manager.build_model("polynomial", {}, (8,), [0, 1])


def test_hook_toolkit_run_started(toolkit_hook_recorder):
    toolkit.evaluate(Y_TRUE, Y_PRED, run_name="started")
    (call,) = toolkit_hook_recorder.arguments("toolkit_run_started")
    assert call["run"].name == "started"
    assert toolkit_hook_recorder.names()[0] == "toolkit_run_started"


def test_hook_toolkit_params_logged(toolkit_hook_recorder):
    toolkit.evaluate(Y_TRUE, Y_PRED, params={"model": "cnn", "epochs": 3})
    (call,) = toolkit_hook_recorder.arguments("toolkit_params_logged")
    assert call["params"] == {"model": "cnn", "epochs": 3}
    assert toolkit_hook_recorder.names()[:2] == ["toolkit_run_started", "toolkit_params_logged"]
    toolkit.evaluate(Y_TRUE, Y_PRED)  # no params: the hook is not fired
    assert len(toolkit_hook_recorder.arguments("toolkit_params_logged")) == 1


def test_hook_toolkit_epoch_ended(toolkit_hook_recorder):
    with Run("training") as run:  # the trainer's path: one call per epoch
        for epoch, loss in enumerate([0.9, 0.5]):
            run.log_epoch(epoch, {"loss": loss})
    calls = toolkit_hook_recorder.arguments("toolkit_epoch_ended")
    assert [(call["epoch"], call["logs"]) for call in calls] == [(0, {"loss": 0.9}), (1, {"loss": 0.5})]
    assert all(call["run"] is run for call in calls)


def test_hook_toolkit_evaluation_ended(toolkit_hook_recorder):
    result = toolkit.evaluate(Y_TRUE, Y_PRED)
    (call,) = toolkit_hook_recorder.arguments("toolkit_evaluation_ended")
    assert call["result"] is result and call["step"] is None
    assert call["result"].metrics["accuracy"] == pytest.approx(0.75)
    with Run("training") as run:
        run.log_evaluation(result, step=4)
    assert toolkit_hook_recorder.arguments("toolkit_evaluation_ended")[-1]["step"] == 4


def test_hook_toolkit_artifact_logged(toolkit_hook_recorder, tmp_path):
    path = tmp_path / "confusion_matrix.csv"
    np.savetxt(path, toolkit.evaluate(Y_TRUE, Y_PRED).confusion_matrix, delimiter=",", fmt="%d")
    with Run("artifacts") as run:
        run.log_artifact("confusion_matrix", str(path))
    (call,) = toolkit_hook_recorder.arguments("toolkit_artifact_logged")
    assert (call["name"], call["path"]) == ("confusion_matrix", str(path))
    assert np.loadtxt(call["path"], delimiter=",").sum() == len(Y_TRUE)


def test_hook_toolkit_run_ended(toolkit_hook_recorder):
    toolkit.evaluate(Y_TRUE, Y_PRED, run_name="ends")
    (call,) = toolkit_hook_recorder.arguments("toolkit_run_ended")
    assert call["status"] == "FINISHED" and call["run"].status == "FINISHED"
    assert toolkit_hook_recorder.names()[-1] == "toolkit_run_ended"
    assert toolkit_hook_recorder.arguments("toolkit_run_failed") == []


@pytest.mark.parametrize("error, status", [(RuntimeError("diverged"), "FAILED"), (KeyboardInterrupt(), "KILLED")])
def test_hook_toolkit_run_failed(toolkit_hook_recorder, error, status):
    with pytest.raises(type(error)):
        with Run("fails") as run:
            run.log_epoch(0, {"loss": math.inf})
            raise error
    (call,) = toolkit_hook_recorder.arguments("toolkit_run_failed")
    assert call["error"] is error and call["status"] == status and run.status == status
    assert toolkit_hook_recorder.names() == ["toolkit_run_started", "toolkit_epoch_ended", "toolkit_run_failed"]
