"""Quality gates: parsing, malformed gates and unknown metrics as ValueError, pass/fail on real results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import toolkit
from toolkit.evaluation.gates import Gate, evaluate_gates, gate_tags, parse_gate, parse_gates

Y_TRUE = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0])
Y_SCORE = np.array([0.1, 0.9, 0.8, 0.3, 0.4, 0.6, 0.7, 0.95, 0.2, 0.05])


@pytest.mark.parametrize("text, expected", [
    ("accuracy>=0.9", Gate("accuracy", ">=", 0.9)),
    ("  log_loss <= 0.35 ", Gate("log_loss", "<=", 0.35)),
    ("f1/cat>.5", Gate("f1/cat", ">", 0.5)),
    ("roc_auc < 1e-1", Gate("roc_auc", "<", 0.1)),
    ("accuracy >= baseline", Gate("accuracy", ">=", 0.0, relative=True)),
    ("f1_macro>=baseline+0.01", Gate("f1_macro", ">=", 0.01, relative=True)),
    ("log_loss <= baseline - 0.02", Gate("log_loss", "<=", -0.02, relative=True)),
])
def test_gate_strings_parse(text, expected):
    assert parse_gate(text) == expected


def test_mapping_and_list_forms_give_the_same_gates():
    as_mapping = parse_gates({"accuracy": ">= 0.9", "log_loss": ["<= 0.35", "< baseline"]})
    as_list = parse_gates(["accuracy>=0.9", "log_loss<=0.35", "log_loss<baseline"])
    assert as_mapping == as_list


@pytest.mark.parametrize("gates, message", [
    ("accuracy", "is not a gate"),
    ("accuracy => 0.9", "not a gate"),
    ("accuracy >= ninety", "malformed"),
    ("accuracy >= 0.9 0.8", "malformed"),
    (">= 0.9", "is not a gate"),
    ({"accuracy": 0.9}, "must be a string"),
    ({"accuracy": ">= baseline * 2"}, "malformed"),
    ({"accuracy": "== 0.9"}, "malformed"),
    (42, "mapping"),
])
def test_malformed_gates_are_value_errors(gates, message):
    with pytest.raises(ValueError, match=message):
        parse_gates(gates)


def test_unknown_metric_is_a_value_error_before_anything_is_computed():
    with pytest.raises(ValueError, match=r"unknown metric.*'acuracy' \(did you mean 'accuracy'\?\)"):
        toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates={"acuracy": ">= 0.9"})
    # roc_auc_ovr_macro does not apply to a binary task; the per-class key needs a real label
    with pytest.raises(ValueError, match="roc_auc_ovr_macro"):
        toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates=["roc_auc_ovr_macro>=0.5"])
    with pytest.raises(ValueError, match="f1/7"):
        toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates=["f1/7>=0.5"])
    # interval keys exist only when intervals are asked for
    with pytest.raises(ValueError, match="accuracy_ci_low"):
        toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates=["accuracy_ci_low>=0.5"])


def test_gate_on_a_metric_the_data_cannot_give_is_a_value_error():
    # roc_auc is a binary metric but needs scores, which were not given
    with pytest.raises(ValueError, match="roc_auc"):
        toolkit.evaluate(Y_TRUE, y_pred=(Y_SCORE >= 0.5).astype(int), gates=["roc_auc>=0.5"])


def test_gates_pass_and_fail_against_scikit_learn_values():
    result = toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates={
        "accuracy": ">= 0.9", "log_loss": "<= 0.35", "roc_auc": "> 0.9", "recall/1": ">= 0.8"})
    accuracy = sk.accuracy_score(Y_TRUE, Y_SCORE >= 0.5)
    log_loss = sk.log_loss(Y_TRUE, Y_SCORE)
    auc = sk.roc_auc_score(Y_TRUE, Y_SCORE)
    recall = sk.recall_score(Y_TRUE, Y_SCORE >= 0.5)
    outcomes = {outcome.metric: outcome for outcome in result.gates}
    assert [outcome.metric for outcome in result.gates] == ["accuracy", "log_loss", "roc_auc", "recall/1"]
    assert outcomes["accuracy"].value == pytest.approx(accuracy) and outcomes["accuracy"].passed == (accuracy >= 0.9)
    assert outcomes["log_loss"].value == pytest.approx(log_loss) and outcomes["log_loss"].passed == (log_loss <= 0.35)
    assert outcomes["roc_auc"].passed == (auc > 0.9)
    assert outcomes["recall/1"].passed == (recall >= 0.8)
    assert result.passed == all(outcome.passed for outcome in result.gates)
    assert {o.metric for o in result.failed_gates()} == {m for m, o in outcomes.items() if not o.passed}
    assert accuracy == 0.8 and not result.passed
    assert str(outcomes["accuracy"]).startswith("FAILED: accuracy >= 0.9 with accuracy = 0.8")


def test_baseline_gates_compare_with_the_baseline_value():
    baseline = {"accuracy": 0.7, "log_loss": 0.30}
    result = toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, baseline=baseline, gates=[
        "accuracy>=baseline+0.05", "accuracy>=baseline+0.2", "log_loss<=baseline"])
    first, second, third = result.gates
    assert first.threshold == pytest.approx(0.75) and first.passed and first.baseline == 0.7
    assert second.threshold == pytest.approx(0.9) and not second.passed
    assert third.threshold == pytest.approx(0.30) and not third.passed
    with pytest.raises(ValueError, match="no baseline"):
        toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates=["accuracy>=baseline"])
    with pytest.raises(ValueError, match="baseline has no value"):
        toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates=["f1>=baseline"], baseline=baseline)


def test_an_undefined_metric_fails_its_gate():
    outcome, = evaluate_gates([Gate("roc_auc", ">=", 0.5)], {"roc_auc": math.nan})
    assert not outcome.passed and "undefined" in outcome.reason


def test_gates_on_interval_bounds():
    result = toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, ci=0.9, n_bootstrap=200, seed=3,
                              gates=["accuracy_ci_low>=0.0", "accuracy_ci_high<=0.5"])
    low, high = result.intervals["accuracy"]
    assert result.gates[0].value == low and result.gates[0].passed
    assert result.gates[1].value == high and result.gates[1].passed == (high <= 0.5)


def test_gate_tags_name_the_outcome_and_each_gate():
    result = toolkit.evaluate(Y_TRUE, y_score=Y_SCORE, gates=["accuracy>=0.5", "log_loss<0.1"])
    tags = gate_tags(result.gates)
    assert tags["toolkit.gates"] == "failed"
    assert tags["toolkit.gate.accuracy.ge"].startswith("passed: accuracy >= 0.5")
    assert tags["toolkit.gate.log_loss.lt"].startswith("FAILED: log_loss < 0.1")
    assert gate_tags([]) == {}


@settings(max_examples=60, deadline=None)
@given(value=st.floats(-10, 10), threshold=st.floats(-10, 10), operator=st.sampled_from([">=", "<=", ">", "<"]))
def test_a_gate_passes_exactly_when_its_comparison_holds(value, threshold, operator):
    gate = parse_gate(f"m {operator} {threshold!r}")
    outcome, = evaluate_gates([gate], {"m": value})
    expected = {">=": value >= threshold, "<=": value <= threshold, ">": value > threshold, "<": value < threshold}
    assert outcome.passed == expected[operator]
    assert parse_gate(str(gate)) == gate  # the printed form reads back as the same gate
