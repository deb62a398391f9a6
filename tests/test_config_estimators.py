"""A config's model.estimator builds scikit-learn estimators or plugin-registered classes, nothing else.

Through the installed ``toolkit`` command, in a subprocess: a refused class is one line on
stderr naming what is allowed, and what the config asked for never runs (not even an import).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOLKIT = str(Path(sys.executable).with_name("toolkit"))
CONFIG = """epochs: 1
batch_size: 64
data: {{name: digits}}
model:
  framework: sklearn
  estimator: {estimator}
  options: {options}
trackers: []
"""
ALLOWED = ("is not allowed: name a scikit-learn estimator (sklearn.<module>.<Class>) or a class that an "
           "installed plugin registers through the toolkit_register_estimators hook")


def _train(folder: Path, estimator: str, options: str, *extra: str) -> subprocess.CompletedProcess:
    config = folder / "run.yaml"
    config.write_text(CONFIG.format(estimator=estimator, options=options))
    # The folder is importable, so a module planted there would run if the config could name it.
    environment = dict(os.environ, PYTHONPATH=str(folder))
    return subprocess.run([TOOLKIT, "train", str(config), *extra], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["subprocess.Popen", "builtins.exec", "planted.Model"])
def test_a_class_outside_the_allowed_sources_is_one_line_and_never_runs(tmp_path, estimator):
    marker = tmp_path / "ran"
    # Importing this module would leave the marker: the config must not get it imported.
    (tmp_path / "planted.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Model:\n    pass\n")
    completed = _train(tmp_path, estimator, f"{{args: [touch, {marker}]}}")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"toolkit train: error: config {tmp_path / 'run.yaml'}: model.estimator {estimator!r} {ALLOWED}"]
    assert not marker.exists()


@pytest.mark.slow
def test_an_override_cannot_name_such_a_class_either(tmp_path):
    marker = tmp_path / "ran"
    completed = _train(tmp_path, "sklearn.linear_model.LogisticRegression", f"{{args: [touch, {marker}]}}",
                       "--set", "model.estimator=subprocess.Popen")
    assert completed.returncode == 2
    assert completed.stderr.strip().endswith(f"model.estimator 'subprocess.Popen' {ALLOWED}")
    assert len(completed.stderr.splitlines()) == 1 and not marker.exists()


@pytest.mark.slow
def test_a_scikit_learn_class_that_is_not_an_estimator_is_refused(tmp_path):
    completed = _train(tmp_path, "sklearn.utils.Bunch", "{max_iter: 10}")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "toolkit train: error: model.estimator 'sklearn.utils.Bunch' is not a scikit-learn estimator (it does "
        f"not derive from sklearn.base.BaseEstimator): name {ALLOWED.partition('name ')[2]}"]


@pytest.mark.slow
def test_a_scikit_learn_estimator_trains(tmp_path):
    completed = _train(tmp_path, "sklearn.naive_bayes.GaussianNB", "{var_smoothing: 1.0e-9}")
    assert completed.returncode == 0, completed.stderr
    assert "final validation metrics after 1 epoch(s)" in completed.stdout
