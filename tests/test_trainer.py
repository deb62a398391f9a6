"""Trainer: lifecycle hooks in order, per-epoch evaluation equal to scikit-learn's, failures.

The models are real scikit-learn estimators trained through the toolkit-sklearn plugin (no
TensorFlow here: the Keras path has its own tests beside its plugin).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

import toolkit
from toolkit.plugin import create_plugin_manager, hookimpl


class Recorder:
    """A plugin implementing every lifecycle hook; it records what it was called with."""

    def __init__(self, fail_at_epoch: int | None = None) -> None:
        self.calls: list[tuple] = []
        self.fail_at_epoch = fail_at_epoch

    @hookimpl
    def toolkit_run_started(self, run):
        self.calls.append(("run_started", run.name))

    @hookimpl
    def toolkit_params_logged(self, run, params):
        self.calls.append(("params_logged", dict(params)))

    @hookimpl
    def toolkit_epoch_ended(self, run, epoch, logs):
        self.calls.append(("epoch_ended", epoch, dict(logs)))
        if epoch == self.fail_at_epoch:
            raise RuntimeError(f"planted failure at epoch {epoch}")

    @hookimpl
    def toolkit_evaluation_ended(self, run, result, step):
        self.calls.append(("evaluation_ended", step, result))

    @hookimpl
    def toolkit_artifact_logged(self, run, name, path):
        self.calls.append(("artifact_logged", name))

    @hookimpl
    def toolkit_run_ended(self, run, status):
        self.calls.append(("run_ended", status))

    @hookimpl
    def toolkit_run_failed(self, run, error, status):
        self.calls.append(("run_failed", status, str(error)))

    def kinds(self) -> list[str]:
        return [call[0] for call in self.calls]

    def of(self, kind: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == kind]


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    return x[:1400], y[:1400], x[1400:], y[1400:]


def manager_with(recorder: Recorder):
    manager = create_plugin_manager()
    manager.register(recorder, "recorder")
    return manager


def test_trainer_is_exported_and_light():
    assert toolkit.Trainer.__module__ == "toolkit.trainer"


def test_hooks_fire_in_order_with_scikit_learn_values_every_epoch(digits):
    x, y, x_val, y_val = digits
    recorder = Recorder()
    model = SGDClassifier(loss="log_loss", random_state=0)
    trainer = toolkit.Trainer(model, trackers=(), params={"note": "sgd"}, run_name="sgd-digits",
                              plugin_manager=manager_with(recorder), progress=False)
    history = trainer.fit(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=200)

    assert recorder.kinds() == (["run_started", "params_logged"]
                                + ["epoch_ended", "evaluation_ended"] * 3 + ["run_ended"])
    assert recorder.calls[0] == ("run_started", "sgd-digits")
    params = recorder.of("params_logged")[0][1]
    assert params["framework"] == "sklearn"
    assert params["estimator"] == "sklearn.linear_model._stochastic_gradient.SGDClassifier"
    assert params["estimator.loss"] == "log_loss"
    assert (params["epochs"], params["batch_size"], params["note"]) == (3, 200, "sgd")
    assert (params["train_examples"], params["validation_examples"]) == (1400, 397)
    assert [call[1] for call in recorder.of("epoch_ended")] == [0, 1, 2]
    assert [call[1] for call in recorder.of("evaluation_ended")] == [1, 2, 3]  # epoch N is step N
    # Framework values are recorded under train/ so they never collide with the engine's keys.
    assert set(recorder.of("epoch_ended")[0][2]) == {"train/accuracy"}
    assert recorder.of("run_ended") == [("run_ended", "FINISHED")]

    final = recorder.of("evaluation_ended")[-1][2]
    assert final is history.final
    scores = model.predict_proba(x_val)
    assert final.metrics["accuracy"] == pytest.approx(accuracy_score(y_val, model.predict(x_val)), abs=1e-12)
    assert final.metrics["f1_macro"] == pytest.approx(f1_score(y_val, scores.argmax(1), average="macro"), abs=1e-9)
    assert final.metrics["roc_auc_ovr_macro"] == pytest.approx(roc_auc_score(y_val, scores, multi_class="ovr"), abs=1e-9)
    assert final.metrics["log_loss"] == pytest.approx(log_loss(y_val, scores, labels=range(10)), abs=1e-9)
    assert final.confusion_matrix.sum() == len(y_val)
    assert history.labels == list(range(10))
    assert len(history.epochs) == 3 and history.run.status == "FINISHED"
    # The epochs really trained: the per-epoch results are not one result repeated.
    accuracies = [result.metrics["accuracy"] for result in history.evaluations]
    assert len(set(accuracies)) > 1


def test_evaluate_returns_what_toolkit_evaluate_returns(digits):
    x, y, x_val, y_val = digits
    model = LogisticRegression(max_iter=300)
    trainer = toolkit.Trainer(model, trackers=(), progress=False)
    trainer.fit(x, y, validation_data=(x_val, y_val))
    result = trainer.evaluate(x_val, y_val)
    expected = toolkit.evaluate(y_val, y_score=model.predict_proba(x_val), labels=list(range(10)))
    assert isinstance(result, toolkit.EvaluationResult)
    assert result.metrics == expected.metrics
    np.testing.assert_array_equal(result.confusion_matrix, expected.confusion_matrix)


def test_one_hot_targets_become_labels(digits):
    x, y, x_val, y_val = digits
    trainer = toolkit.Trainer(LogisticRegression(max_iter=300), metrics=["accuracy"], trackers=(), progress=False)
    history = trainer.fit(x, np.eye(10)[y], validation_data=(x_val, np.eye(10)[y_val]))
    assert history.final.metrics["accuracy"] > 0.85


def test_an_exception_in_an_epoch_fails_the_run_and_keeps_what_came_before(digits):
    x, y, x_val, y_val = digits
    recorder = Recorder(fail_at_epoch=1)
    trainer = toolkit.Trainer(SGDClassifier(loss="log_loss", random_state=0), trackers=(),
                              plugin_manager=manager_with(recorder), progress=False)
    with pytest.raises(RuntimeError, match="planted failure at epoch 1"):
        trainer.fit(x, y, validation_data=(x_val, y_val), epochs=4)
    assert recorder.kinds()[-1] == "run_failed"
    # the error names the plugin whose hook raised (it is also the run's toolkit.error tag)
    assert recorder.of("run_failed") == [("run_failed", "FAILED", "plugin 'recorder' failed in toolkit_epoch_ended: "
                                                                  "RuntimeError: planted failure at epoch 1")]
    assert [call[1] for call in recorder.of("evaluation_ended")] == [1]  # step 1: the first epoch's
    assert [call[1] for call in recorder.of("epoch_ended")] == [0, 1]  # the hook counts epochs from 0
    assert trainer.history.run.status == "FAILED"
    assert len(trainer.history.evaluations) == 1


class DivergingModel:
    """A tiny gradient-free 'framework' whose loss becomes NaN at a chosen epoch."""

    def __init__(self, nan_at_epoch: int) -> None:
        self.nan_at_epoch = nan_at_epoch
        self.prior = None


class DivergingAdapter:
    framework = "toy"

    def __init__(self, model: DivergingModel) -> None:
        self.model = model

    def labels(self, y):
        return sorted(set(np.asarray(y).tolist()))

    def describe(self):
        return {"nan_at_epoch": self.model.nan_at_epoch}

    def fit(self, x, y, *, epochs, batch_size, epoch_ended):
        counts = np.bincount(y, minlength=10).astype(float)
        self.model.prior = counts / counts.sum()
        for epoch in range(epochs):
            epoch_ended(epoch, {"loss": math.nan if epoch == self.model.nan_at_epoch else 1.0 / (epoch + 1)})

    def predict_proba(self, x):
        return np.tile(self.model.prior, (len(x), 1))

    def predict(self, x):
        return self.predict_proba(x).argmax(axis=1)

    def artifacts(self, x, y, y_score, labels, folder):
        return {}


class ToyFramework:
    @hookimpl
    def toolkit_model_adapter(self, model):
        return DivergingAdapter(model) if isinstance(model, DivergingModel) else None


def test_toolkit_model_adapter_lets_any_framework_train(digits):
    x, y, x_val, y_val = digits
    recorder = Recorder()
    manager = manager_with(recorder)
    manager.register(ToyFramework(), "toy")
    history = toolkit.Trainer(DivergingModel(nan_at_epoch=99), trackers=(), plugin_manager=manager,
                              progress=False).fit(x, y, validation_data=(x_val, y_val), epochs=2)
    assert recorder.of("params_logged")[0][1]["framework"] == "toy"
    assert [call[2] for call in recorder.of("epoch_ended")] == [{"train/loss": 1.0}, {"train/loss": 0.5}]
    # A constant prediction of the majority class: scikit-learn agrees on its accuracy.
    majority = np.bincount(y).argmax()
    assert history.final.metrics["accuracy"] == pytest.approx(np.mean(y_val == majority))


def test_a_nan_loss_fails_the_run_with_the_reason(digits):
    x, y, x_val, y_val = digits
    recorder = Recorder()
    manager = manager_with(recorder)
    manager.register(ToyFramework(), "toy")
    trainer = toolkit.Trainer(DivergingModel(nan_at_epoch=1), trackers=(), plugin_manager=manager, progress=False)
    with pytest.raises(FloatingPointError, match="diverged at epoch 2: loss is nan"):
        trainer.fit(x, y, validation_data=(x_val, y_val), epochs=5)
    [(_, status, reason)] = recorder.of("run_failed")
    assert status == "FAILED" and "loss is nan" in reason
    # The NaN epoch's values are still recorded, then nothing after it.
    assert [call[1] for call in recorder.of("epoch_ended")] == [0, 1]
    assert math.isnan(recorder.of("epoch_ended")[1][2]["train/loss"])


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"epochs": 2.5}, "epochs must be a positive integer"),
    ({"batch_size": True}, "batch_size must be a positive integer"),
    ({"validation_data": ([[0.0] * 64], [1, 2])}, "validation_data.0. has 1 examples but validation_data.1. has 2"),
    ({"validation_data": (np.zeros((3, 5)), [1, 2, 3])}, r"validation_data\[0\] has examples of shape \(5,\)"),
    ({"validation_data": "nope"}, "validation_data must be a pair"),
])
def test_bad_fit_arguments_raise_before_any_hook(digits, kwargs, message):
    x, y, _, _ = digits
    recorder = Recorder()
    trainer = toolkit.Trainer(LogisticRegression(), trackers=(), plugin_manager=manager_with(recorder), progress=False)
    with pytest.raises(ValueError, match=message):
        trainer.fit(x, y, **kwargs)
    assert recorder.calls == []


def test_bad_trainer_arguments_raise_before_any_hook(digits):
    x, y, _, _ = digits
    recorder = Recorder()
    manager = manager_with(recorder)
    with pytest.raises(ValueError, match="model: no installed plugin can train a builtins.object"):
        toolkit.Trainer(object(), trackers=(), plugin_manager=manager)
    with pytest.raises(ValueError, match=r"x has 1400 examples but y has 1399"):
        toolkit.Trainer(LogisticRegression(), trackers=(), plugin_manager=manager).fit(x, y[:-1])
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['acuracy'\]"):
        toolkit.Trainer(LogisticRegression(), metrics=["acuracy"], trackers=(), plugin_manager=manager).fit(x, y)
    with pytest.raises(ValueError, match=r"unknown tracker\(s\) \['nowhere'\]"):
        toolkit.Trainer(LogisticRegression(), trackers=("nowhere",), plugin_manager=manager).fit(x, y)
    assert recorder.calls == []


class MemoryTracker:
    """A real tracker plugin that keeps the run in memory (the Tracker protocol, nothing faked)."""

    runs: list["MemoryTracker"] = []

    def __init__(self, label: str = "default") -> None:
        self.label = label
        self.params: dict = {}
        self.metrics: list[tuple[str, float, int]] = []
        self.evaluations: list = []
        self.files: list[str] = []
        self.tags: dict = {}
        self.status = None
        MemoryTracker.runs.append(self)

    def start(self, run_name):
        from toolkit.plugin.types import TrackerLink

        return TrackerLink("memory", str(len(MemoryTracker.runs)), "memory")

    def log_params(self, params):
        self.params.update(params)

    def log_metrics(self, metrics, step):
        self.metrics += [(key, value, step) for key, value in metrics.items()]

    def log_evaluation(self, report, step):
        self.evaluations.append(step)

    def log_file(self, name, path):
        self.files.append(name)

    def set_tags(self, tags):
        self.tags.update(tags)

    def finish(self, status):
        self.status = status

    def describe(self):
        return "in memory"


class MemoryTrackerPlugin:
    @hookimpl
    def toolkit_register_trackers(self):
        return [toolkit.plugin.TrackerSpec("memory", MemoryTracker)]


def memory_manager():
    manager = create_plugin_manager()
    manager.register(MemoryTrackerPlugin(), "memory-tracker")
    manager.register(ToyFramework(), "toy")
    MemoryTracker.runs.clear()
    return manager


def test_trackers_get_train_values_and_evaluations_at_the_epoch_step(digits):
    x, y, x_val, y_val = digits
    trainer = toolkit.Trainer(SGDClassifier(loss="log_loss", random_state=0), metrics=["accuracy", "f1_macro"],
                              trackers=("memory",), tracker_options={"memory": {"label": "from-options"}},
                              plugin_manager=memory_manager(), progress=False)
    history = trainer.fit(x, y, validation_data=(x_val, y_val), epochs=3)
    [tracker] = MemoryTracker.runs
    assert tracker.label == "from-options"
    assert tracker.status == "FINISHED"
    # Epoch N (as the console prints it) is step N.
    assert [step for key, _, step in tracker.metrics if key == "train/accuracy"] == [1, 2, 3]
    assert [(value, step) for key, value, step in tracker.metrics if key == "accuracy"] == [
        (result.metrics["accuracy"], epoch) for epoch, result in enumerate(history.evaluations, start=1)]
    assert tracker.evaluations == [3]  # charts for the last epoch only, by default
    assert tracker.params["epochs"] == 3 and tracker.params["framework"] == "sklearn"


def test_charts_every_epoch_when_asked(digits):
    x, y, x_val, y_val = digits
    toolkit.Trainer(LogisticRegression(max_iter=200), trackers=("memory",), plugin_manager=memory_manager(),
                    progress=False, charts_every_epoch=True).fit(x, y, validation_data=(x_val, y_val))
    assert MemoryTracker.runs[0].evaluations == [1]


@pytest.mark.parametrize("nan_at_epoch, reason", [(1, "FloatingPointError: training diverged at epoch 2: loss is nan")])
def test_a_failed_run_carries_its_reason_in_every_tracker(digits, nan_at_epoch, reason):
    x, y, x_val, y_val = digits
    trainer = toolkit.Trainer(DivergingModel(nan_at_epoch), trackers=("memory",), plugin_manager=memory_manager(),
                              progress=False)
    with pytest.raises(FloatingPointError):
        trainer.fit(x, y, validation_data=(x_val, y_val), epochs=3)
    [tracker] = MemoryTracker.runs
    assert tracker.status == "FAILED"
    assert tracker.tags["toolkit.error"].startswith(reason)
    losses = [(value, step) for key, value, step in tracker.metrics if key == "train/loss"]
    assert losses[0] == (1.0, 1) and math.isnan(losses[1][0]) and losses[1][1] == 2  # epoch N at step N


class NanPredictingAdapter(DivergingAdapter):
    def predict_proba(self, x):
        scores = super().predict_proba(x)
        scores[5, 0] = np.nan
        return scores


class NanPredictingFramework:
    @hookimpl
    def toolkit_model_adapter(self, model):
        return NanPredictingAdapter(model) if isinstance(model, DivergingModel) else None


def test_nan_predictions_fail_the_run_even_when_the_loss_stays_finite(digits):
    x, y, x_val, y_val = digits
    manager = create_plugin_manager()
    manager.register(NanPredictingFramework(), "nan-predicting")
    trainer = toolkit.Trainer(DivergingModel(nan_at_epoch=99), trackers=(), plugin_manager=manager, progress=False)
    with pytest.raises(FloatingPointError, match="diverged at epoch 1: the model predicts NaN or inf for validation example 5"):
        trainer.fit(x, y, validation_data=(x_val, y_val), epochs=2)
    # Outside training, NaN scores are bad input to the metric engine, named as such.
    with pytest.raises(ValueError, match="y_score contains NaN or inf"):
        trainer.evaluate(x_val, y_val)
