"""``toolkit evaluate --run`` and ``toolkit compare --paired`` on real stores, from stored predictions.

A metric plugin is installed after the run was recorded (a distribution laid out as pip installs
it, put on PYTHONPATH of the command only), and must show up in the old run with scikit-learn's
value. Runs are read back through each tracker's reader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

import toolkit
from toolkit import cli
from toolkit.reporting.record import open_reader

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(23)
N = 400
LABELS = ["ant", "bee", "cat"]
Y_TRUE = np.asarray(LABELS)[RNG.integers(0, 3, N)]
SCORES_A = RNG.dirichlet(np.ones(3), N)
# model b: a's scores pulled towards the true class, so it is the better one
SCORES_B = 0.5 * SCORES_A + 0.3 * np.eye(3)[np.searchsorted(LABELS, Y_TRUE)] + 0.2 * RNG.dirichlet(np.ones(3), N)
LATE_METRIC = "late_balanced_accuracy"

PLUGIN = f'''
import numpy as np
import toolkit.plugin


@toolkit.plugin.hookimpl
def toolkit_register_metrics():
    def compute(confusion):
        counts = np.asarray(confusion, dtype=float)
        return float(np.mean(np.diag(counts) / counts.sum(axis=1)))
    return [toolkit.plugin.MetricSpec(name="{LATE_METRIC}", needs=("confusion",), compute=compute,
                                      higher_is_better=True)]
'''


@pytest.fixture
def late_plugin(tmp_path) -> Path:
    """A folder where the plugin is installed as pip lays a distribution out (module + dist-info)."""
    site = tmp_path / "late-site"
    info = site / "late_metric-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "late_metric.py").write_text(textwrap.dedent(PLUGIN))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: late-metric\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[toolkit.plugins]\nlate = late_metric\n")
    return site


def _toolkit(arguments: list, site: Path = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ)
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environment.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *arguments], env=environment,
                          capture_output=True, text=True, timeout=300)


def _only_run(tracker: str):
    reader = open_reader(tracker)
    (summary,) = reader.list_runs()
    return reader.read_run(summary.run_id)


def test_a_plugin_installed_after_the_run_adds_its_metric_to_the_mlflow_run(toolkit_tracking, late_plugin):
    toolkit.evaluate(Y_TRUE, y_score=SCORES_A, labels=LABELS, trackers=["mlflow"], run_name="old")
    before = _only_run("mlflow")
    assert LATE_METRIC not in before.metrics

    completed = _toolkit(["evaluate", "--run", before.run_id[:8], "--tracker", "mlflow"], late_plugin)
    assert completed.returncode == 0, completed.stderr
    assert f"{len(before.metrics)} recorded metric(s) recomputed equal" in completed.stdout

    after = _only_run("mlflow")
    expected = balanced_accuracy_score(Y_TRUE, np.asarray(LABELS)[SCORES_A.argmax(axis=1)])
    assert after.metrics[LATE_METRIC] == pytest.approx(expected, abs=1e-12)
    assert after.history[LATE_METRIC] == [(0, after.metrics[LATE_METRIC])]  # at the evaluation's step
    assert {key: after.metrics[key] for key in before.metrics} == before.metrics  # nothing overwritten
    assert (after.status, after.end_time, after.run_name) == (before.status, before.end_time, "old")
    assert LATE_METRIC in after.tags["toolkit.reevaluated"]

    again = _toolkit(["evaluate", "--run", before.run_id, "--tracker", "mlflow"], late_plugin)
    assert again.returncode == 0 and "nothing new to add" in again.stdout
    assert len(_only_run("mlflow").history[LATE_METRIC]) == 1


def test_a_trained_run_gets_the_new_metric_at_its_final_evaluation_s_step(toolkit_tracking, late_plugin):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    x, y = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=300)
    toolkit.Trainer(model, trackers=["mlflow"], progress=False).fit(
        x[:1200] / 16.0, y[:1200], validation_data=(x[1200:] / 16.0, y[1200:]))
    before = _only_run("mlflow")
    completed = _toolkit(["evaluate", "--run", before.run_id, "--tracker", "mlflow"], late_plugin)
    assert completed.returncode == 0, completed.stderr
    after = _only_run("mlflow")
    expected = balanced_accuracy_score(y[1200:], model.predict(x[1200:] / 16.0))
    assert after.history[LATE_METRIC] == [(1, pytest.approx(expected, abs=1e-12))]  # epoch 1 is step 1
    assert after.history["accuracy"] == before.history["accuracy"] and after.status == "FINISHED"


def test_a_recorded_value_that_recomputes_differently_is_an_error_and_nothing_is_added(
        toolkit_tracking, late_plugin):
    @toolkit.metric(name=LATE_METRIC, higher_is_better=True)
    def different_definition(confusion):  # what the run recorded under the name, before the plugin changed
        return float(np.trace(confusion) / confusion.sum())

    try:
        toolkit.evaluate(Y_TRUE, y_score=SCORES_A, labels=LABELS, trackers=["mlflow"])
    finally:
        different_definition.remove()
    before = _only_run("mlflow")
    completed = _toolkit(["evaluate", "--run", before.run_id, "--tracker", "mlflow"], late_plugin)
    assert completed.returncode == 1
    assert f"1 metric(s) differ from the recorded values: {LATE_METRIC} (recorded" in completed.stderr
    after = _only_run("mlflow")
    assert after.metrics == before.metrics and "toolkit.reevaluated" not in after.tags


def test_a_wandb_offline_run_gets_the_new_metric_and_is_read_back_as_one_run(toolkit_tracking, late_plugin):
    toolkit.evaluate(Y_TRUE, y_score=SCORES_A, labels=LABELS, trackers=["wandb"], run_name="old")
    before = _only_run("wandb")
    completed = _toolkit(["evaluate", "--run", before.run_id, "--tracker", "wandb"], late_plugin)
    assert completed.returncode == 0, completed.stderr

    folders = sorted(toolkit_tracking.folder("wandb").glob(f"wandb/*run-*-{before.run_id}"))
    assert len(folders) == 2  # W&B offline writes the added values to a second folder of the same run
    after = _only_run("wandb")  # ... which the reader reads as one run
    expected = balanced_accuracy_score(Y_TRUE, np.asarray(LABELS)[SCORES_A.argmax(axis=1)])
    assert after.metrics[LATE_METRIC] == pytest.approx(expected, abs=1e-12)
    assert {key: after.metrics[key] for key in before.metrics} == before.metrics
    assert (after.status, after.run_name, after.params) == ("FINISHED", "old", before.params)
    assert after.predictions is not None and after.predictions.fingerprint == before.predictions.fingerprint


def test_a_tracker_that_cannot_reopen_a_run_is_refused_by_name(toolkit_tracking, late_plugin):
    toolkit.evaluate(Y_TRUE, y_score=SCORES_A, labels=LABELS, trackers=["tensorboard"])
    run_id = _only_run("tensorboard").run_id
    completed = _toolkit(["evaluate", "--run", run_id, "--tracker", "tensorboard"], late_plugin)
    assert completed.returncode == 2
    assert "tracker 'tensorboard' cannot reopen a recorded run to add values" in completed.stderr
    assert "recomputed" not in completed.stdout  # refused before any work
    assert LATE_METRIC not in _only_run("tensorboard").metrics


def test_evaluate_run_refuses_data_options_and_runs_without_predictions(toolkit_tracking, capsys):
    assert cli.main(["evaluate", "--run", "abc", "--y-true", "y.npy"]) == 2
    assert "--run takes the data and its options from the recorded run: leave out --y-true" in capsys.readouterr().err
    table = np.column_stack([np.searchsorted(LABELS, Y_TRUE), SCORES_A])
    np.savetxt("predictions.csv", table, delimiter=",", header="y_true,p_0,p_1,p_2", comments="", fmt="%.17g")
    toolkit.evaluate_files("predictions.csv", y_true="y_true", y_score=["p_0", "p_1", "p_2"], trackers=["mlflow"])
    run_id = _only_run("mlflow").run_id  # files are read a batch at a time: no predictions are stored
    assert cli.main(["evaluate", "--run", run_id, "--tracker", "mlflow"]) == 2
    assert f"run {run_id} in" in (error := capsys.readouterr().err) and "has no stored predictions" in error


# --- compare --paired -----------------------------------------------------------------------------

@pytest.fixture
def paired_runs(toolkit_tracking):
    ids = {}
    for name, scores, y_true in (("a", SCORES_A, Y_TRUE), ("b", SCORES_B, Y_TRUE), ("shuffled", SCORES_B, Y_TRUE[::-1])):
        toolkit.evaluate(y_true, y_score=scores, labels=LABELS, trackers=["mlflow"], run_name=name)
        ids[name] = next(summary.run_id for summary in open_reader("mlflow").list_runs() if summary.run_name == name)
    return ids


def test_compare_paired_gives_paired_test_s_numbers_on_the_same_arrays(paired_runs, capsys):
    code = cli.main(["compare", paired_runs["a"][:8], paired_runs["b"][:8], "--paired", "--tracker", "mlflow",
                     "--seed", "3", "--n-bootstrap", "200", "--json"])
    document = json.loads(capsys.readouterr().out)
    expected = toolkit.paired_test(Y_TRUE, y_score_a=SCORES_A, y_score_b=SCORES_B, labels=LABELS, seed=3,
                                   n_bootstrap=200).to_dict()
    assert code == 0
    assert document["tests"] == expected["tests"] and document["example_count"] == N
    assert {"accuracy", "roc_auc_ovr_macro", "log_loss"} <= set(document["tests"])
    assert (document["a"], document["b"]) == (paired_runs["a"], paired_runs["b"])


def test_paired_gates_pass_and_fail_as_paired_test_checks_them(paired_runs, capsys):
    comparison = toolkit.paired_test(Y_TRUE, y_score_a=SCORES_A, y_score_b=SCORES_B, labels=LABELS, seed=0)
    gates = ["roc_auc_ovr_macro: b better, p < 0.05", "accuracy: a better"]
    outcomes = comparison.check(gates)
    code = cli.main(["compare", paired_runs["a"], paired_runs["b"], "--paired", "--tracker", "mlflow", "--seed", "0",
                     *[argument for gate in gates for argument in ("--gate", gate)]])
    output = capsys.readouterr()
    assert code == (0 if all(outcome.passed for outcome in outcomes) else 1)
    assert [outcome.passed for outcome in outcomes] == [True, False]  # b is the better model here
    for outcome in outcomes:
        assert f"gate {outcome}" in output.out
    assert "a - b" in output.out and "exact McNemar" in output.out and "DeLong" in output.out


def test_runs_on_different_examples_or_a_bad_gate_are_usage_errors(paired_runs, capsys):
    assert cli.main(["compare", paired_runs["a"], paired_runs["shuffled"], "--paired", "--tracker", "mlflow"]) == 2
    assert "were not evaluated on the same examples" in capsys.readouterr().err
    assert cli.main(["compare", paired_runs["a"], paired_runs["b"], "--paired", "--gate", "roc_auc b better"]) == 2
    assert "must read '<metric>: <a|b> better[, p < <alpha>]'" in capsys.readouterr().err
    assert cli.main(["compare", paired_runs["a"], "--paired", "--tracker", "mlflow"]) == 2
    assert cli.main(["compare", paired_runs["a"], paired_runs["b"], "--tracker", "mlflow"]) == 2
    assert "add --paired" in capsys.readouterr().err
