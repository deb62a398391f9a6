"""The train, sweep, evaluate and compare commands, run in-process through toolkit.cli.main."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import toolkit
from toolkit import cli, data

SKLEARN_CONFIG = """
run_name: logistic
seed: 0
epochs: 1
batch_size: 64
data: {name: digits, validation_split: 0.25}
model:
  framework: sklearn
  estimator: sklearn.linear_model.LogisticRegression
  options: {max_iter: 400}
metrics: [accuracy, f1_macro, roc_auc_ovr_macro]
trackers: []
"""


def printed_metric(text: str, key: str) -> float:
    return float(re.search(rf"^\s+{re.escape(key)}\s+([0-9.]+)$", text, re.MULTILINE).group(1))


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"toolkit {toolkit.__version__}"


def test_evaluate_npy_binary_scores_match_scikit_learn(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 200)
    y_score = np.clip(y_true * 0.3 + rng.random(200) * 0.7, 0, 1)
    np.save(tmp_path / "true.npy", y_true)
    np.save(tmp_path / "score.npy", y_score)
    assert cli.main(["evaluate", "--y-true", str(tmp_path / "true.npy"), "--y-score", str(tmp_path / "score.npy")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("200 examples, 2 labels (binary)")
    assert printed_metric(out, "roc_auc") == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-4)
    assert printed_metric(out, "accuracy") == pytest.approx(accuracy_score(y_true, y_score >= 0.5), abs=1e-4)


def test_evaluate_csv_with_header_and_json_output(tmp_path, capsys):
    import json

    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 90)
    scores = rng.dirichlet([1, 1, 1], 90)
    scores[np.arange(90), y_true] += 0.5
    scores /= scores.sum(axis=1, keepdims=True)
    (tmp_path / "true.csv").write_text("label\n" + "\n".join(map(str, y_true)) + "\n")
    (tmp_path / "score.csv").write_text("p0,p1,p2\n" + "\n".join(",".join(f"{v:.17g}" for v in row) for row in scores) + "\n")
    assert cli.main(["evaluate", "--y-true", str(tmp_path / "true.csv"), "--y-score", str(tmp_path / "score.csv"),
                     "--metric", "f1_macro", "--metric", "roc_auc_ovr_macro", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metrics"]["f1_macro"] == pytest.approx(f1_score(y_true, scores.argmax(1), average="macro"), abs=1e-12)
    assert result["metrics"]["roc_auc_ovr_macro"] == pytest.approx(roc_auc_score(y_true, scores, multi_class="ovr"), abs=1e-12)
    assert np.asarray(result["confusion_matrix"]).sum() == 90


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--y-true", "missing.npy", "--y-score", "missing.npy"], "--y-true 'missing.npy' is not a file"),
    (["evaluate", "--y-true", "{true}"], "give --y-score or --y-pred"),
    (["evaluate", "--y-true", "{true}", "--y-score", "{true}", "--tracker", "nowhere"], "unknown tracker"),
    (["train", "missing.yaml"], "config 'missing.yaml' is not a file"),
    (["train", "{config}", "--set", "epoch=2"], "key 'epoch' is not known; did you mean epochs?"),
    (["train", "{config}", "--set", "model.framework=torch"], "model.framework 'torch' is not built by any installed plugin"),
    (["train", "{config}", "--set", "model.estimator=sklearn.linear_model.LogisticRegresion"],
     "has no class LogisticRegresion; did you mean sklearn.linear_model.LogisticRegression"),
    (["train", "{config}", "--set", "epochs=3"], "epochs is 3, but LogisticRegression has no partial_fit"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, message):
    np.save(tmp_path / "true.npy", np.array([0, 1, 1]))
    (tmp_path / "config.yaml").write_text(SKLEARN_CONFIG)
    argv = [part.format(true=tmp_path / "true.npy", config=tmp_path / "config.yaml") for part in argv]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"toolkit {argv[0]}: error: ") and message in line


def test_train_prints_epochs_and_final_metrics_equal_to_scikit_learns(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(SKLEARN_CONFIG)
    assert cli.main(["train", str(tmp_path / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^epoch 1/1  accuracy [0-9.]+  \| val accuracy", out, re.MULTILINE)
    dataset = data.load("digits", validation_split=0.25, seed=0)
    model = LogisticRegression(max_iter=400, random_state=0).fit(dataset.x_train.reshape(-1, 64), dataset.y_train)
    expected = accuracy_score(dataset.y_val, model.predict(dataset.x_val.reshape(-1, 64)))
    assert "logistic: final validation metrics after 1 epoch(s)" in out
    assert printed_metric(out, "accuracy") == pytest.approx(expected, abs=1e-4)


def test_sweep_trains_each_variant_and_ranks_them(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(SKLEARN_CONFIG)
    (tmp_path / "sweep.yaml").write_text(
        "base: base.yaml\nvariants:\n  - name: weak\n    set: {model.options.C: 0.0001}\n  - name: strong\n")
    assert cli.main(["sweep", str(tmp_path / "sweep.yaml")]) == 0
    out = capsys.readouterr().out
    table = out[out.index("best accuracy first"):].splitlines()
    assert table[1].split()[0] == "run" and table[3].split()[0] == "strong" and table[4].split()[0] == "weak"
    assert float(table[3].split()[1]) > float(table[4].split()[1])


def test_a_tracker_that_cannot_start_is_one_line_and_exit_1(tmp_path, capsys):
    from toolkit.plugin import get_plugin_manager

    if "mlflow" not in get_plugin_manager().get_trackers():
        pytest.skip("needs the toolkit-mlflow tracker plugin")
    config = SKLEARN_CONFIG.replace("trackers: []", "trackers: {mlflow: {tracking_uri: 'http://127.0.0.1:9'}}")
    (tmp_path / "config.yaml").write_text(config)
    assert cli.main(["train", str(tmp_path / "config.yaml")]) == 1
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("toolkit train:")]
    assert line.startswith("toolkit train: failed: TrackerError: tracker 'mlflow' could not start")
    assert "127.0.0.1:9" in line
