"""`toolkit evaluate --files`: out-of-core evaluation from the command line, run through toolkit.cli.main."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import toolkit
from toolkit import cli

RNG = np.random.default_rng(41)
Y_TRUE = RNG.integers(0, 3, 3000)
SCORES = RNG.dirichlet([1, 1, 1], 3000)


@pytest.fixture
def parts(tmp_path):
    frame = pd.DataFrame(SCORES, columns=["p_a", "p_b", "p_c"])
    frame["label"] = Y_TRUE
    frame.iloc[:1700].to_parquet(tmp_path / "part-0.parquet")
    frame.iloc[1700:].to_parquet(tmp_path / "part-1.parquet")
    return str(tmp_path / "part-*.parquet")


def test_files_are_evaluated_in_batches_with_the_options_naming_columns(parts, capsys):
    code = cli.main(["evaluate", "--files", parts, "--y-true", "label", "--y-score", "p_*",
                     "--batch-rows", "500", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    expected = toolkit.evaluate(Y_TRUE, y_score=SCORES)
    assert printed["metrics"]["accuracy"] == expected["accuracy"]
    assert printed["metrics"]["log_loss"] == expected["log_loss"]
    assert abs(printed["metrics"]["roc_auc_ovr_macro_binned"] - expected["roc_auc_ovr_macro"]) \
        <= printed["metrics"]["roc_auc_ovr_macro_binned_error_bound"]
    assert printed["confusion_matrix"] == expected.confusion_matrix.tolist()


def test_exact_gives_exact_auroc_and_comma_separated_columns_keep_their_order(parts, capsys):
    code = cli.main(["evaluate", "--files", parts, "--y-true", "label", "--y-score", "p_a,p_b,p_c",
                     "--labels", "0", "1", "2", "--exact", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["labels"] == [0, 1, 2]
    assert printed["metrics"]["roc_auc_ovr_macro"] == toolkit.evaluate(Y_TRUE, y_score=SCORES)["roc_auc_ovr_macro"]


def test_files_take_intervals_like_arrays(parts, capsys):
    code = cli.main(["evaluate", "--files", parts, "--y-true", "label", "--y-score", "p_*", "--exact",
                     "--ci", "0.9", "--n-bootstrap", "100", "--seed", "4", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    expected = toolkit.evaluate(Y_TRUE, y_score=SCORES, ci=0.9, n_bootstrap=100, seed=4)
    assert printed["intervals"]["accuracy"] == pytest.approx(list(expected.intervals["accuracy"]), abs=1e-12)
    assert printed["intervals"]["roc_auc_ovr_macro"] == pytest.approx(
        list(expected.intervals["roc_auc_ovr_macro"]), abs=1e-12)


def test_a_failing_gate_exits_1(parts, capsys):
    assert cli.main(["evaluate", "--files", parts, "--y-true", "label", "--y-score", "p_*",
                     "--gate", "accuracy>=0.99"]) == 1
    assert "accuracy" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, message", [
    (["--y-true", "label", "--y-score", "p_a,p_zz"], "y_score: .* has no column 'p_zz'"),
    (["--y-true", "label", "--y-score", "p_*", "--target-recall", "0.9"], "threshold_targets need the threshold analysis: a binary"),
    (["--y-true", "nope", "--y-score", "p_*"], "y_true: .* has no column 'nope'"),
])
def test_bad_options_exit_2_with_one_line(parts, capsys, arguments, message):
    assert cli.main(["evaluate", "--files", parts, *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert error.startswith("toolkit evaluate: error:")
    assert re.search(message, error)
