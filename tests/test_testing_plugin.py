"""toolkit.testing, the pytest plugin for plugin authors: each fixture, and a stranger's suite using them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import toolkit
from toolkit.plugin import MetricSpec, get_plugin_manager, hookimpl
from toolkit.testing import ClassificationData, synthetic_classification

REPO_ROOT = Path(__file__).resolve().parents[1]


class PositivesPlugin:
    """A tiny plugin object: one metric, the weighted count of examples labelled 1."""

    @hookimpl
    def toolkit_register_metrics(self):
        return [MetricSpec("positives", lambda confusion: float(confusion[1].sum()), ("confusion",), None)]


@pytest.fixture
def toolkit_plugins():
    return [PositivesPlugin()]


def test_the_plugin_is_installed_as_a_pytest11_entry_point():
    entry_points = {(entry.name, entry.value) for distribution in metadata.distributions()
                    if distribution.metadata["Name"] == "toolkit"
                    for entry in distribution.entry_points if entry.group == "pytest11"}
    assert ("toolkit", "toolkit.testing") in entry_points


def test_toolkit_plugin_manager_holds_the_overridden_plugins_and_is_process_wide(toolkit_plugin_manager):
    assert get_plugin_manager() is toolkit_plugin_manager
    assert "positives" in toolkit_plugin_manager.get_metrics()
    assert toolkit.evaluate([0, 1, 1, 2], [0, 1, 0, 2]).metrics["positives"] == 2.0


def test_outside_the_fixture_the_plugin_is_not_registered():
    assert "positives" not in toolkit.plugin.create_plugin_manager().get_metrics()


def test_make_plugin_manager_is_strict(make_plugin_manager):
    class Clashing:
        @hookimpl
        def toolkit_register_metrics(self):
            return [MetricSpec("accuracy", lambda confusion: 0.0, ("confusion",), True)]

    with pytest.raises(toolkit.plugin.PluginError, match="metric 'accuracy' is registered by both toolkit-metrics"):
        make_plugin_manager(Clashing())
    assert "accuracy" not in make_plugin_manager(entry_points=False).get_metrics()


def test_classification_data_is_reproducible_and_calibrated(make_classification_data):
    first, again = make_classification_data(30_000, 3, seed=4), make_classification_data(30_000, 3, seed=4)
    assert np.array_equal(first.y_true, again.y_true) and np.array_equal(first.y_score, again.y_score)
    np.testing.assert_allclose(first.y_score.sum(axis=1), 1.0)
    assert np.array_equal(first.y_pred, first.y_score.argmax(axis=1))
    # Labels drawn from the scores: each class is as frequent as its mean score says.
    frequencies = np.bincount(first.y_true, minlength=3) / len(first)
    np.testing.assert_allclose(frequencies, first.y_score.mean(axis=0), atol=0.01)


def test_binary_and_string_labelled_data(binary_classification_data, make_classification_data):
    assert binary_classification_data.y_score.shape == (300,)
    assert set(binary_classification_data.y_true) <= {0, 1}
    named = make_classification_data(50, labels=["ant", "bee"], weighted=True)
    assert set(named.y_true) <= {"ant", "bee"} and named.sample_weight.shape == (50,)
    with pytest.raises(ValueError, match="n_classes >= 2"):
        make_classification_data(10, 1)


def test_batches_cover_every_example_once(classification_data: ClassificationData):
    batches = list(classification_data.batches(64))
    assert [len(batch) for batch in batches] == [64, 64, 64, 64, 44]
    assert np.array_equal(np.concatenate([batch.y_true for batch in batches]), classification_data.y_true)


def test_toolkit_tracking_points_each_tracker_at_a_temporary_folder(toolkit_tracking, tmp_path):
    # the sandboxes the MLflow and W&B plugins offer (TrackerSpec.sandbox), applied by the core fixture
    assert set(toolkit_tracking.trackers) >= {"mlflow", "wandb"}
    assert os.environ["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'tracking' / 'mlflow' / 'mlflow.db'}"
    assert os.environ["WANDB_MODE"] == "offline"
    assert os.environ["WANDB_DIR"] == str(toolkit_tracking.folder("wandb"))
    assert "WANDB_API_KEY" not in os.environ
    assert os.getcwd() == str(toolkit_tracking.root)


def test_hook_recorder_sees_an_evaluation(toolkit_hook_recorder):
    result = toolkit.evaluate([0, 1, 1], [0, 1, 0], run_name="recorded", params={"seed": 1})
    assert toolkit_hook_recorder.names() == [
        "toolkit_run_started", "toolkit_params_logged", "toolkit_evaluation_ended", "toolkit_run_ended"]
    (ended,) = toolkit_hook_recorder.arguments("toolkit_evaluation_ended")
    assert ended["result"] is result and ended["step"] is None and ended["run"].name == "recorded"


def test_a_plugin_authors_suite_runs_on_the_installed_example(example_site, tmp_path):
    # What a stranger does: their distribution installed, their tests using toolkit.testing's fixtures,
    # run by pytest in a folder of their own (no toolkit conftest, no toolkit pytest config).
    project = tmp_path / "author"
    shutil.copytree(REPO_ROOT / "examples" / "custom_metric_plugin" / "tests", project / "tests")
    environment = {**os.environ, "PYTHONPATH": str(example_site)}
    for variable in ("TOOLKIT_DISABLE_PLUGINS", "PYTEST_ADDOPTS"):
        environment.pop(variable, None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests"],
        cwd=project, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    summary = completed.stdout.strip().splitlines()[-1]
    installed = [name for name in ("mlflow", "wandb") if name in toolkit.plugin.create_plugin_manager().get_trackers()]
    if installed:  # the last test records to the real trackers in temporary folders
        assert summary.startswith("7 passed"), completed.stdout
    else:
        assert summary.startswith("6 passed, 1 skipped"), completed.stdout
        assert "no tracker of ['mlflow', 'wandb'] is installed" in completed.stdout


def test_the_hook_recorder_implements_every_lifecycle_hook():
    from toolkit.plugin.hookspecs import ToolkitHookspecs
    from toolkit.plugin.markers import PROJECT_NAME
    from toolkit.testing import HookRecorder

    lifecycle = {name for name, spec in vars(ToolkitHookspecs).items()
                 if name.startswith("toolkit_") and not name.startswith("toolkit_register_")
                 and not getattr(spec, f"{PROJECT_NAME}_spec").get("firstresult")}
    recorded = {name for name in dir(HookRecorder) if name.startswith("toolkit_")}
    assert lifecycle == recorded


def test_the_testing_plugin_and_the_example_import_nothing_heavy(example_site):
    heavy = ["tensorflow", "keras", "mlflow", "wandb", "matplotlib", "torch", "sklearn"]
    script = (
        "import sys, json, toolkit.testing, toolkit\n"
        "from toolkit.cli import main\n"
        "manager = toolkit.plugin.create_plugin_manager(strict=True)\n"
        "assert 'balanced_accuracy' in manager.get_metrics()\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(example_site)}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_toolkit_evaluate_records_script_metrics_in_both_real_trackers(
    toolkit_evaluate, toolkit_tracking, classification_data
):
    @toolkit.metric(higher_is_better=False)
    def error_rate(confusion):
        return 1 - np.trace(confusion) / confusion.sum()

    result = toolkit_evaluate(**classification_data.as_kwargs(), run_name="fixture-run")
    assert set(toolkit_tracking.trackers) >= {"mlflow", "wandb", "tensorboard"}  # all installed in this repo's venv
    expected = result.metrics["error_rate"]

    for tracker in toolkit_tracking.trackers:
        (run,) = toolkit_tracking.runs(tracker)
        assert run.status == "FINISHED" and run.run_name == "fixture-run", tracker
        assert run.metrics["error_rate"] == pytest.approx(expected, abs=1e-12), tracker
        assert run.history["error_rate"] == [(0, pytest.approx(expected, abs=1e-12))], tracker
        assert run.confusion is not None and run.evaluation["labels"], tracker  # the evaluation files came back
    # nothing lands outside the test's folder
    assert list(toolkit_tracking.root.rglob("confusion_matrix.png"))
    assert list(toolkit_tracking.folder("wandb").glob("wandb/offline-run-*"))
