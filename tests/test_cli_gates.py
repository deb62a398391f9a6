"""--gate, --baseline, --ci and threshold targets on `toolkit evaluate` and `toolkit train` (real MLflow store)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from toolkit import cli
from toolkit_mlflow.testing import migrated_sqlite_template, mlflow_store  # noqa: F401  (fixtures)

TRAIN_CONFIG = """
run_name: gated-logistic
seed: 0
epochs: 1
batch_size: 64
data: {name: digits, validation_split: 0.25}
model:
  framework: sklearn
  estimator: sklearn.linear_model.LogisticRegression
  options: {max_iter: 400}
metrics: [accuracy, f1_macro, roc_auc_ovr_macro]
trackers: [mlflow]
gates: {accuracy: ">= 0.5"}
"""


@pytest.fixture
def binary_files(tmp_path):
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 2, 300)
    y_score = np.clip(0.3 * y_true + 0.7 * rng.random(300), 0, 1)
    np.save(tmp_path / "true.npy", y_true)
    np.save(tmp_path / "score.npy", y_score)
    return y_true, y_score, ["--y-true", str(tmp_path / "true.npy"), "--y-score", str(tmp_path / "score.npy")]


def test_evaluate_exits_1_naming_every_failed_gate_and_tags_the_run(mlflow_store, binary_files, capsys):
    y_true, y_score, files = binary_files
    accuracy = accuracy_score(y_true, y_score >= 0.5)
    code = cli.main(["evaluate", *files, "--tracker", "mlflow", "--gate", "accuracy>=0.5",
                     "--gate", "roc_auc>=0.99", "--gate", "log_loss<0.01"])
    captured = capsys.readouterr()
    assert code == 1
    assert f"gate passed: accuracy >= 0.5 with accuracy = {accuracy:.6g}" in captured.out
    assert captured.err.strip().splitlines()[-1] == \
        "toolkit: 2 of 3 gates failed: roc_auc >= 0.99, log_loss < 0.01"
    (run,) = mlflow_store.runs()
    assert run.info.status == "FINISHED" and run.data.tags["toolkit.gates"] == "failed"
    assert run.data.tags["toolkit.gate.roc_auc.ge"].startswith("FAILED")
    assert cli.main(["evaluate", *files, "--gate", "roc_auc>=0.5"]) == 0


@pytest.mark.parametrize("gate, message", [
    ("acuracy>=0.5", "unknown metric(s) 'acuracy' (did you mean 'accuracy'?)"),
    ("accuracy=>0.5", "is not a gate"),
    ("accuracy>=high", "malformed"),
    ("accuracy>=baseline", "give --baseline RUN_ID"),
])
def test_a_bad_gate_exits_2_in_one_line_before_any_run(mlflow_store, binary_files, capsys, gate, message):
    *_, files = binary_files
    assert cli.main(["evaluate", *files, "--tracker", "mlflow", "--gate", gate]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and error.startswith("toolkit evaluate: error:") and message in error
    assert mlflow_store.runs() == []


def test_baseline_gates_compare_with_another_mlflow_run(mlflow_store, binary_files, capsys):
    y_true, y_score, files = binary_files
    assert cli.main(["evaluate", *files, "--tracker", "mlflow", "--run-name", "baseline"]) == 0
    (baseline,) = mlflow_store.runs()
    auc = roc_auc_score(y_true, y_score)
    # the same predictions again: "no worse than the baseline" passes, "0.01 better" fails
    assert cli.main(["evaluate", *files, "--baseline", baseline.info.run_id,
                     "--gate", "roc_auc>=baseline", "--gate", "log_loss<=baseline"]) == 0
    assert cli.main(["evaluate", *files, "--baseline", baseline.info.run_id,
                     "--gate", "roc_auc >= baseline + 0.01"]) == 1
    out = capsys.readouterr().out
    assert f"FAILED: roc_auc >= baseline + 0.01 with roc_auc = {auc:.6g} (baseline {auc:.6g})" in out
    assert cli.main(["evaluate", *files, "--baseline", "0" * 32, "--gate", "roc_auc>=baseline"]) == 2


def test_evaluate_prints_intervals_and_threshold_targets(binary_files, capsys):
    *_, files = binary_files
    assert cli.main(["evaluate", *files, "--ci", "0.9", "--n-bootstrap", "200", "--seed", "1",
                     "--target-precision", "0.8", "--target-recall", "0.9", "--gate", "accuracy_ci_low>=0.5"]) == 0
    out = capsys.readouterr().out
    assert "90% bootstrap intervals (200 multinomial resamples):" in out
    assert "best F1 " in out and "precision >= 0.8: threshold " in out and "recall >= 0.9: threshold " in out
    assert cli.main(["evaluate", *files, "--ci", "1.5"]) == 2


def test_train_checks_config_and_cli_gates_on_the_last_epoch(mlflow_store, tmp_path, capsys):
    config = tmp_path / "train.yaml"
    config.write_text(TRAIN_CONFIG)
    assert cli.main(["train", str(config)]) == 0
    assert cli.main(["train", str(config), "--gate", "f1_macro>=0.999"]) == 1
    captured = capsys.readouterr()
    assert "gate passed: accuracy >= 0.5" in captured.out
    assert "1 of 2 gates failed: f1_macro >= 0.999" in captured.err
    first, second = mlflow_store.runs()
    assert first.data.tags["toolkit.gates"] == "passed" and second.data.tags["toolkit.gates"] == "failed"
    # the report of a training run: its last epoch's evaluation, and the gates
    page = tmp_path / "train.html"
    assert cli.main(["report", "--latest", "-o", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "<h1>gated-logistic</h1>" in text and 'data-gate="f1_macro &gt;= 0.999">FAIL' in text
    assert f'data-metric="accuracy">{second.data.metrics["accuracy"]:.4f}<' in text
    # a gate on a metric the config does not compute: exit 2 before any training or run
    assert cli.main(["train", str(config), "--gate", "log_loss<=0.3"]) == 2
    assert "log_loss" in capsys.readouterr().err
    config.write_text(TRAIN_CONFIG.replace('gates: {accuracy: ">= 0.5"}', 'gates: {accuracy: "about 0.5"}'))
    assert cli.main(["train", str(config)]) == 2
    assert "malformed" in capsys.readouterr().err
    assert len(mlflow_store.runs()) == 2
