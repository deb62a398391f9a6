"""Script and plugin metrics in the Trainer's results, with params from a YAML config."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sklearn_metrics
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit import config as toolkit_config
from toolkit.plugin import create_plugin_manager


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x / 16.0, y


def test_a_script_metric_shows_up_in_trainer_results(toolkit_plugin_manager, digits):
    x, y = digits

    @toolkit.metric(higher_is_better=False)
    def error_rate(confusion):
        return 1 - np.trace(confusion) / confusion.sum()

    model = LogisticRegression(max_iter=300)
    history = toolkit.Trainer(model, trackers=(), progress=False).fit(
        x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]))
    expected = 1 - sklearn_metrics.accuracy_score(y[1200:], model.predict(x[1200:]))
    assert history.final.metrics["error_rate"] == pytest.approx(expected, abs=1e-12)
    error_rate.remove()
    history = toolkit.Trainer(LogisticRegression(max_iter=300), trackers=(), progress=False).fit(
        x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]))
    assert "error_rate" not in history.final.metrics


def test_top_k_takes_k_from_the_config_into_the_trainer(example_site, on_sys_path, digits, tmp_path):
    on_sys_path(example_site)
    manager = create_plugin_manager(strict=True)
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        "epochs: 1\nbatch_size: 64\n"
        "model: {framework: sklearn, estimator: sklearn.linear_model.LogisticRegression, options: {max_iter: 300}}\n"
        "metrics: [accuracy, {top_k_accuracy: {k: 3}}]\ntrackers: []\n"
        "gates: {top_k_accuracy: '>= 0.5'}\n")
    config = toolkit_config.load(str(config_file), plugin_manager=manager)
    assert config.metrics == ["accuracy", {"top_k_accuracy": {"k": 3}}]
    x, y = digits
    model = LogisticRegression(max_iter=300)
    history = toolkit.Trainer(model, metrics=config.metrics, trackers=(), progress=False,
                              plugin_manager=manager).fit(x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]))
    expected = sklearn_metrics.top_k_accuracy_score(y[1200:], model.predict_proba(x[1200:]), k=3)
    assert set(history.final.metrics) == {"accuracy", "top_k_accuracy"}
    assert history.final.metrics["top_k_accuracy"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("metrics, message", [
    ("[{top_k_accuracy: {k: 0}}]", r"'top_k_accuracy': k must be an integer >= 1, got 0"),
    ("[{top_k_accuracy: {kk: 3}}]", r"'top_k_accuracy' has no parameter 'kk'"),
    ("[{top_k_accuracy: 3}]", r"params of 'top_k_accuracy' must be a mapping"),
])
def test_bad_metric_params_in_a_config_are_one_line_errors(example_site, on_sys_path, tmp_path, metrics, message):
    on_sys_path(example_site)
    manager = create_plugin_manager(strict=True)
    config_file = tmp_path / "run.yaml"
    config_file.write_text(f"epochs: 1\nbatch_size: 8\nmodel: {{framework: sklearn}}\nmetrics: {metrics}\n"
                           "trackers: []\n")
    with pytest.raises(ValueError, match=message):
        toolkit_config.load(str(config_file), plugin_manager=manager)


def test_default_in_a_config_brings_a_newly_installed_plugins_metric_into_training(
        example_site, on_sys_path, digits, tmp_path):
    x, y = digits
    config_file = tmp_path / "run.yaml"
    config_file.write_text(
        "epochs: 1\nbatch_size: 64\n"
        "model: {framework: sklearn, estimator: sklearn.linear_model.LogisticRegression, options: {max_iter: 300}}\n"
        "metrics: [default, {top_k_accuracy: {k: 3}}]\ntrackers: []\n")

    def fit(metrics, manager):
        model = LogisticRegression(max_iter=300)
        history = toolkit.Trainer(model, metrics=metrics, trackers=(), progress=False, plugin_manager=manager).fit(
            x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]))
        return model, history.final.metrics

    before = create_plugin_manager(strict=True)
    _, default_only = fit(["default"], before)
    assert set(default_only) == set(fit(None, before)[1])  # "default" is what no choice computes
    on_sys_path(example_site)  # the example plugin distribution becomes installed
    after = create_plugin_manager(strict=True)
    config = toolkit_config.load(str(config_file), plugin_manager=after)
    model, metrics = fit(config.metrics, after)
    probabilities = model.predict_proba(x[1200:])
    assert metrics["top_k_accuracy"] == pytest.approx(
        sklearn_metrics.top_k_accuracy_score(y[1200:], probabilities, k=3), abs=1e-9)
    assert metrics["f1_macro"] == pytest.approx(
        sklearn_metrics.f1_score(y[1200:], probabilities.argmax(axis=1), average="macro"), abs=1e-9)
    assert set(default_only) < set(metrics)  # every default metric, plus the plugin's
    assert "top_k_accuracy" in set(metrics) - set(default_only)


def test_default_takes_no_params_and_unknown_names_get_a_suggestion(digits):
    with pytest.raises(ValueError, match="'default' stands for the default metrics and takes no params"):
        toolkit.evaluate([0, 1, 1], [0, 1, 0], metrics={"default": {"k": 1}})
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['f1_makro'\]; did you mean 'f1_macro'\?"):
        toolkit.evaluate([0, 1, 1], [0, 1, 0], metrics=["default", "f1_makro"])
