"""The example plugin distribution, installed by pip: discovery, values against scikit-learn, removal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sklearn_metrics

import toolkit
from toolkit.plugin import create_plugin_manager
from toolkit.testing import synthetic_classification

EXAMPLE_METRICS = ("balanced_accuracy", "matthews_corrcoef", "top_k_accuracy",
                   "expected_calibration_error", "maximum_calibration_error")


@pytest.fixture
def example_manager(example_site, on_sys_path):
    on_sys_path(example_site)
    return create_plugin_manager(strict=True)


def test_the_example_is_discovered_through_its_entry_point(example_manager):
    info = {info.name: info for info in example_manager.plugin_infos()}["custom_metrics"]
    assert (info.distribution, info.version) == ("toolkit-custom-metrics", "0.1.0")
    assert info.metrics == EXAMPLE_METRICS
    assert info.statistics == ("calibration_histogram",)
    assert info.hooks == ("toolkit_register_metrics", "toolkit_register_statistics")
    assert example_manager.broken == []


def test_without_the_example_on_the_path_its_metrics_do_not_exist():
    manager = create_plugin_manager(strict=True)
    assert not set(EXAMPLE_METRICS) & set(manager.get_metrics())
    assert "calibration_histogram" not in manager.get_statistics()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("labels", [[0, 1, 2, 3], ["ant", "bee", "cat"]])
def test_multiclass_values_agree_with_scikit_learn(example_manager, labels, weighted):
    data = synthetic_classification(400, labels=labels, seed=7, weighted=weighted)
    result = toolkit.evaluate(data.y_true, data.y_pred, data.y_score, labels=data.labels,
                              sample_weight=data.sample_weight, plugin_manager=example_manager)
    weights = data.sample_weight
    expected = {
        "balanced_accuracy": sklearn_metrics.balanced_accuracy_score(data.y_true, data.y_pred, sample_weight=weights),
        "matthews_corrcoef": sklearn_metrics.matthews_corrcoef(data.y_true, data.y_pred, sample_weight=weights),
        "top_k_accuracy": sklearn_metrics.top_k_accuracy_score(
            data.y_true, data.y_score, k=2, labels=data.labels, sample_weight=weights),
    }
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, abs=1e-9), name
    assert 0 < result.metrics["matthews_corrcoef"] < 1  # a real, non-degenerate value


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_takes_k_from_the_metrics_config(example_manager, k):
    data = synthetic_classification(300, n_classes=5, seed=3)
    result = toolkit.evaluate(data.y_true, y_score=data.y_score, metrics={"top_k_accuracy": {"k": k}},
                              plugin_manager=example_manager)
    expected = sklearn_metrics.top_k_accuracy_score(data.y_true, data.y_score, k=k, labels=data.labels)
    assert result.metrics == {"top_k_accuracy": pytest.approx(expected, abs=1e-9)}


def test_top_k_accuracy_breaks_ties_as_scikit_learn_does(example_manager):
    y_true = np.array([0, 1, 2, 2, 1, 0])
    y_score = np.array([[0.25, 0.25, 0.25, 0.25]] * 3 + [[0.4, 0.2, 0.2, 0.2]] * 3)
    for k in (1, 2, 3):
        result = toolkit.evaluate(y_true, y_score=y_score, labels=[0, 1, 2, 3],
                                  metrics=[{"top_k_accuracy": {"k": k}}], plugin_manager=example_manager)
        expected = sklearn_metrics.top_k_accuracy_score(y_true, y_score, k=k, labels=[0, 1, 2, 3])
        assert result.metrics["top_k_accuracy"] == pytest.approx(expected, abs=1e-12), k


def test_a_bad_k_is_a_value_error_naming_it(example_manager):
    data = synthetic_classification(50, n_classes=4)
    with pytest.raises(ValueError, match=r"'top_k_accuracy': k must be an integer >= 1, got 0"):
        toolkit.evaluate(data.y_true, y_score=data.y_score, metrics={"top_k_accuracy": {"k": 0}},
                         plugin_manager=example_manager)
    with pytest.raises(ValueError, match=r"'top_k_accuracy' has no parameter 'kk'; it takes \['k'\]"):
        toolkit.evaluate(data.y_true, y_score=data.y_score, metrics={"top_k_accuracy": {"kk": 2}},
                         plugin_manager=example_manager)


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_values_agree_with_scikit_learn(example_manager, weighted):
    data = synthetic_classification(300, n_classes=2, seed=11, weighted=weighted)
    result = toolkit.evaluate(data.y_true, data.y_pred, data.y_score,
                              sample_weight=data.sample_weight, plugin_manager=example_manager)
    weights = data.sample_weight
    assert result.metrics["balanced_accuracy"] == pytest.approx(
        sklearn_metrics.balanced_accuracy_score(data.y_true, data.y_pred, sample_weight=weights), abs=1e-9)
    assert result.metrics["matthews_corrcoef"] == pytest.approx(
        sklearn_metrics.matthews_corrcoef(data.y_true, data.y_pred, sample_weight=weights), abs=1e-9)
    assert "top_k_accuracy" not in result.metrics  # declared for multiclass tasks only


def test_adjusted_balanced_accuracy_agrees_with_scikit_learn(example_manager):
    data = synthetic_classification(200, n_classes=4, seed=5)
    result = toolkit.evaluate(data.y_true, data.y_pred, metrics={"balanced_accuracy": {"adjusted": True}},
                              plugin_manager=example_manager)
    expected = sklearn_metrics.balanced_accuracy_score(data.y_true, data.y_pred, adjusted=True)
    assert result.metrics["balanced_accuracy"] == pytest.approx(expected, abs=1e-9)


def test_degenerate_inputs_follow_scikit_learn(example_manager):
    # One class predicted: MCC is 0; a predicted class absent from y_true is left out of balanced accuracy.
    y_true, y_pred = [0, 0, 1, 1], [2, 2, 2, 2]
    with pytest.warns(UserWarning):
        expected_balanced = sklearn_metrics.balanced_accuracy_score(y_true, y_pred)
    result = toolkit.evaluate(y_true, y_pred, plugin_manager=example_manager)
    assert result.metrics["matthews_corrcoef"] == sklearn_metrics.matthews_corrcoef(y_true, y_pred) == 0.0
    assert result.metrics["balanced_accuracy"] == expected_balanced == 0.0
    assert any("classes not in y_true: [2]" in warning for warning in result.warnings)


def test_expected_calibration_error_on_hand_computed_data(example_manager):
    # Two bins used: confidences 0.9 (bin 13) and 0.6 (bin 8); the 0.9 bin is right 1/2, the 0.6 bin 2/2.
    y_true = [0, 1, 0, 1]
    y_score = [[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]]
    result = toolkit.evaluate(y_true, y_score=y_score, plugin_manager=example_manager,
                              metrics=["expected_calibration_error", "maximum_calibration_error"])
    # ECE = 2/4 * |0.5 - 0.9| + 2/4 * |1.0 - 0.6| = 0.4; MCE = max(0.4, 0.4).
    assert result.metrics["expected_calibration_error"] == pytest.approx(0.4, abs=1e-12)
    assert result.metrics["maximum_calibration_error"] == pytest.approx(0.4, abs=1e-12)


# --- removing the distribution ---------------------------------------------------------------------

MODEL_CODE = textwrap.dedent("""
    # Stands for the user's model code: it names no plugin, it just evaluates.
    import json, sys
    import numpy as np
    import toolkit

    rng = np.random.default_rng(0)
    scores = rng.dirichlet(np.ones(4), 200)
    y_true = rng.integers(0, 4, 200)
    result = toolkit.evaluate(y_true, y_score=scores)
    json.dump({"metrics": sorted(result.metrics), "modules": sorted(sys.modules)}, sys.stdout)
""")


def _run_model_code(script: Path, site: Path) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(site)}
    environment.pop("TOOLKIT_DISABLE_PLUGINS", None)
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                               env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_removing_the_distribution_removes_its_metrics_and_nothing_else(
    example_site, tmp_path, uninstall_distribution
):
    site = tmp_path / "site"
    shutil.copytree(example_site, site)  # keep the session's install for the other tests
    script = tmp_path / "model_code.py"
    script.write_text(MODEL_CODE)

    installed = _run_model_code(script, site)
    assert set(EXAMPLE_METRICS) <= set(installed["metrics"])
    assert "toolkit_custom_metrics.plugin" in installed["modules"]

    removed = uninstall_distribution(site, "toolkit_custom_metrics")
    assert any(path.name == "plugin.py" for path in removed)
    assert not list(site.glob("toolkit_custom_metrics*"))

    after = _run_model_code(script, site)  # the very same model code, unchanged
    assert not set(EXAMPLE_METRICS) & set(after["metrics"])
    assert set(after["metrics"]) == set(installed["metrics"]) - set(EXAMPLE_METRICS)
    assert "toolkit_custom_metrics.plugin" not in after["modules"]


def test_the_plugins_command_lists_the_installed_example(example_site):
    environment = {**os.environ, "PYTHONPATH": str(example_site)}
    environment.pop("TOOLKIT_DISABLE_PLUGINS", None)
    completed = subprocess.run([sys.executable, "-m", "toolkit.cli", "plugins", "--json", "--strict"],
                               capture_output=True, text=True, env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr
    listing = json.loads(completed.stdout)
    (example,) = [plugin for plugin in listing["plugins"] if plugin["name"] == "custom_metrics"]
    assert example["distribution"] == "toolkit-custom-metrics"
    assert example["metrics"] == list(EXAMPLE_METRICS)
    assert example["statistics"] == ["calibration_histogram"]
    assert listing["broken"] == []


def test_disabling_the_example_by_name_hides_its_metrics(example_site, on_sys_path, monkeypatch):
    on_sys_path(example_site)
    monkeypatch.setenv("TOOLKIT_DISABLE_PLUGINS", "custom_metrics")
    manager = create_plugin_manager(strict=True)
    assert not set(EXAMPLE_METRICS) & set(manager.get_metrics())
    assert "accuracy" in manager.get_metrics()
