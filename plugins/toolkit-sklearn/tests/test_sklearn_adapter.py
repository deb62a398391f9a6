"""toolkit-sklearn: estimators found by the hook, epochs through partial_fit, scores by label."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, Perceptron, SGDClassifier
from sklearn.metrics import accuracy_score

import toolkit
from toolkit.plugin import create_plugin_manager, hookimpl
from toolkit_sklearn.adapter import EstimatorAdapter


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x / 16.0, y


def test_toolkit_model_adapter_accepts_estimators_and_nothing_else():
    manager = create_plugin_manager()
    assert isinstance(manager.get_model_adapter(LogisticRegression()), EstimatorAdapter)
    assert manager.get_model_adapter(object()) is None
    assert manager.get_model_adapter(np.zeros(3)) is None


def test_toolkit_build_model_builds_the_named_estimator_with_the_seed():
    manager = create_plugin_manager()
    model = manager.build_model("sklearn", {"estimator": "sklearn.linear_model.SGDClassifier",
                                            "options": {"alpha": 0.01}}, (64,), list(range(10)), seed=7)
    assert isinstance(model, SGDClassifier) and model.alpha == 0.01 and model.random_state == 7
    assert manager.build_model("unknown-framework", {}, (64,), [0, 1]) is None


@pytest.mark.parametrize("spec, message", [
    ({"estimator": "LogisticRegression"}, "model.estimator must name an estimator class by its import path"),
    ({"estimator": "sklearn.nothing_here.Model"}, "cannot import sklearn.nothing_here"),
    ({"estimator": "sklearn.linear_model.LogisticRegression", "options": {"not_a_param": 1}}, "model.options do not fit"),
    ({"estimator": "sklearn.linear_model.LogisticRegression", "layers": []}, "model.layers is not a sklearn model key"),
])
def test_bad_model_specs_name_the_key(spec, message):
    with pytest.raises(ValueError, match=message):
        create_plugin_manager().build_model("sklearn", spec, (64,), [0, 1])


def test_images_are_flattened_and_an_estimator_without_probabilities_is_scored_on_labels(digits):
    x, y = digits
    images = x.reshape(-1, 8, 8, 1)
    model = Perceptron(random_state=0)
    trainer = toolkit.Trainer(model, trackers=(), progress=False)
    history = trainer.fit(images[:1200], y[:1200], validation_data=(images[1200:], y[1200:]))
    expected = accuracy_score(y[1200:], model.predict(x[1200:]))
    assert history.final.metrics["accuracy"] == pytest.approx(expected, abs=1e-12)
    assert "roc_auc_ovr_macro" not in history.final.metrics  # no scores, no AUROC


def test_partial_fit_epochs_match_scikit_learns_own_loop(digits):
    x, y = digits
    trained = SGDClassifier(loss="log_loss", random_state=3)
    toolkit.Trainer(trained, trackers=(), progress=False).fit(x[:1000], y[:1000], epochs=2, batch_size=250)
    reference = SGDClassifier(loss="log_loss", random_state=3)
    for _ in range(2):
        for start in range(0, 1000, 250):
            reference.partial_fit(x[start:start + 250], y[start:start + 250], classes=np.arange(10))
    np.testing.assert_allclose(trained.coef_, reference.coef_)


class StartRecorder:
    started = 0

    @hookimpl
    def toolkit_run_started(self, run):
        StartRecorder.started += 1


def test_more_epochs_without_partial_fit_is_refused_before_the_run(digits):
    x, y = digits
    manager = create_plugin_manager()
    manager.register(StartRecorder(), "start-recorder")
    with pytest.raises(ValueError, match="epochs is 2, but LogisticRegression has no partial_fit"):
        toolkit.Trainer(LogisticRegression(), trackers=(), plugin_manager=manager, progress=False).fit(x, y, epochs=2)
    assert StartRecorder.started == 0


def test_scores_are_placed_by_label_when_training_lacked_a_class(digits):
    x, y = digits
    keep = y != 9
    model = LogisticRegression(max_iter=300)
    trainer = toolkit.Trainer(model, trackers=(), progress=False)
    history = trainer.fit(x[:1200][keep[:1200]], y[:1200][keep[:1200]], validation_data=(x[1200:], y[1200:]))
    assert history.labels == list(range(10))
    scores = trainer.adapter.predict_proba(x[1200:])
    assert scores.shape == (597, 10) and np.all(scores[:, 9] == 0)
    np.testing.assert_allclose(scores[:, :9], model.predict_proba(x[1200:]))
    assert history.final.confusion_matrix[9].sum() == np.sum(y[1200:] == 9)
