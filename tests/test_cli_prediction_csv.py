"""``toolkit evaluate`` reads CSVs written by pandas as pandas meant them (the real CLI, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

RNG = np.random.default_rng(5)
Y_TRUE = RNG.integers(0, 3, 40)
SCORES = RNG.dirichlet([1, 1, 1], 40)
SCORES[np.arange(40), Y_TRUE] += 0.6  # some skill, so a shifted column shows in the accuracy
SCORES /= SCORES.sum(axis=1, keepdims=True)
ACCURACY = accuracy_score(Y_TRUE, SCORES.argmax(axis=1))


def toolkit_evaluate(folder: Path, *arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", "evaluate", *arguments, "--json"],
                          cwd=folder, capture_output=True, text=True, env=env, timeout=300)


def accuracy_of(completed: subprocess.CompletedProcess) -> float:
    import json

    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)["metrics"]["accuracy"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    np.save(tmp_path / "labels.npy", Y_TRUE)
    return tmp_path


def test_the_index_column_of_pandas_default_to_csv_is_skipped_with_a_note(folder):
    pd.DataFrame(SCORES).to_csv(folder / "scores.csv")  # index=True, header 0,1,2: ",0,1,2"
    completed = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-score", "scores.csv")
    assert accuracy_of(completed) == pytest.approx(ACCURACY)
    assert "skipped the first column" in completed.stderr and "index column written by pandas" in completed.stderr


def test_an_unnamed_0_index_column_is_skipped(folder):
    frame = pd.DataFrame(SCORES, columns=["a", "b", "c"]).reset_index().rename(columns={"index": "Unnamed: 0"})
    frame.to_csv(folder / "scores.csv", index=False)
    completed = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-score", "scores.csv")
    assert accuracy_of(completed) == pytest.approx(ACCURACY)
    assert "'Unnamed: 0'" in completed.stderr


def test_a_numeric_header_is_read_as_a_header(folder):
    pd.DataFrame(SCORES).to_csv(folder / "scores.csv", index=False)  # header row "0,1,2"
    completed = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-score", "scores.csv")
    assert accuracy_of(completed) == pytest.approx(ACCURACY)
    assert "as a header" in completed.stderr


def test_a_series_header_is_told_from_a_label_by_the_row_counts(folder):
    pd.Series(Y_TRUE).to_csv(folder / "labels.csv", index=False)  # header "0", then the labels
    pd.DataFrame(SCORES).to_csv(folder / "scores.csv")
    completed = toolkit_evaluate(folder, "--y-true", "labels.csv", "--y-score", "scores.csv")
    assert accuracy_of(completed) == pytest.approx(ACCURACY)
    assert "one row more than the others" in completed.stderr


def test_a_first_column_that_looks_like_an_index_without_a_header_stops_the_command(folder):
    pd.DataFrame(SCORES).to_csv(folder / "scores.csv", header=False)  # index, no header
    completed = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-score", "scores.csv")
    assert completed.returncode != 0 and not completed.stdout
    assert "like the row index pandas writes; columns seen: ['0', " in completed.stderr


def test_headers_that_cannot_be_told_from_data_stop_the_command(folder):
    pd.Series(Y_TRUE).to_csv(folder / "labels.csv", index=False)
    pd.DataFrame(SCORES[:, 1:] / SCORES[:, 1:].sum(axis=1, keepdims=True)).to_csv(folder / "scores.csv", index=False)
    completed = toolkit_evaluate(folder, "--y-true", "labels.csv", "--y-score", "scores.csv", "--labels", "1", "2")
    assert completed.returncode != 0 and not completed.stdout
    assert "cannot tell whether the first rows" in completed.stderr and "'--y-score': ['0', '1']" in completed.stderr


def test_score_type_reaches_the_command(folder):
    margins = np.log(SCORES)  # logits whose softmax is SCORES
    np.save(folder / "logits.npy", margins)
    refused = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-score", "logits.npy")
    assert refused.returncode == 2 and "score_type='logits'" in refused.stderr
    completed = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-score", "logits.npy", "--score-type", "logits")
    assert accuracy_of(completed) == pytest.approx(ACCURACY)


def test_a_broken_plugin_is_said_once_on_stderr_and_is_in_the_result(folder, install_distribution):
    site = install_distribution("broken-dist", {"broken_plugin": "import not_a_module_anywhere\n"},
                                {"broken": "broken_plugin"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    completed = toolkit_evaluate(folder, "--y-true", "labels.npy", "--y-pred", "labels.npy", env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.count("plugin 'broken' from broken-dist") == 1
    import json

    assert any("plugin 'broken'" in warning for warning in json.loads(completed.stdout)["warnings"])
