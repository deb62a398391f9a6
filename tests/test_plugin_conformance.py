"""The conformance suite (``toolkit plugins --check``, ``toolkit.testing.check_plugin``) catches what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

from toolkit.cli import main
from toolkit.plugin import MetricSpec, StatisticSpec, create_plugin_manager, hookimpl
from toolkit.plugin.conformance import ConformanceError, difference, generated_inputs
from toolkit.testing import check_plugin


def _hits_init(labels):
    return np.zeros(2)


def _hits_update(state, batch):
    weights = np.ones(len(batch)) if batch.sample_weight is None else batch.sample_weight
    return state + np.array([(weights * (batch.y_true == batch.y_pred)).sum(), weights.sum()])


def _hit_rate(hits):
    return float(hits[0] / hits[1])


def _plugin(name, statistics=(), metrics=()):
    """A plugin module registering ``statistics`` and ``metrics`` (made fresh for each test)."""
    module = types.ModuleType(name)
    module.toolkit_register_statistics = hookimpl(lambda: list(statistics))
    module.toolkit_register_metrics = hookimpl(lambda: list(metrics))
    return module


def _hits_plugin(merge, name="hits_plugin"):
    return _plugin(name, [StatisticSpec("hits", _hits_init, _hits_update, merge)],
                   [MetricSpec("hit_rate", _hit_rate, ("hits",), True)])


def _properties(report):
    return {(failure.kind, failure.name, failure.property) for failure in report.failures}


def test_a_merge_that_keeps_only_its_left_state_is_caught_with_a_minimal_input():
    with pytest.raises(ConformanceError) as caught:
        check_plugin(_hits_plugin(lambda a, b: a))
    report = caught.value.report
    assert _properties(report) == {("statistic", "hits", "merge"), ("metric", "hit_rate", "merge")}
    (failure,) = [failure for failure in report.failures if failure.kind == "statistic"]
    assert failure.plugin == "hits_plugin"
    assert len(failure.inputs) == 2  # shrunk: one example per batch is the smallest split
    assert "statistic 'hits', property 'merge'" in str(caught.value)
    assert "minimal failing input (2 examples)" in str(caught.value)


def test_the_same_statistic_with_a_correct_merge_passes():
    report = check_plugin(_hits_plugin(lambda a, b: a + b))
    assert report.ok and report.metrics == ["hit_rate"] and report.statistics == ["hits"]


def test_a_misspelt_need_whose_argument_matches_is_caught():
    def misspelt(confusoin):
        return 0.0

    plugin = _plugin("misspelt_plugin", metrics=[MetricSpec("misspelt", misspelt, ("confusoin",), True)])
    with pytest.raises(ConformanceError, match=r"metric 'misspelt', property 'needs': needs 'confusoin', "
                                               r".*\(did you mean 'confusion'\?\)"):
        check_plugin(plugin)


def test_compute_arguments_that_nothing_feeds_are_caught():
    plugin = _plugin("unfed_plugin", metrics=[
        MetricSpec("unfed", lambda confusion, threshold: 0.0, ("confusion",), True)])
    with pytest.raises(ConformanceError, match=r"compute requires \['threshold'\]"):
        check_plugin(plugin)


def test_a_state_that_does_not_pickle_is_caught():
    def update(state, batch):
        return {"total": state["total"] + len(batch), "formatter": lambda: None}

    plugin = _plugin("unpicklable_plugin", [StatisticSpec(
        "lambda_state", lambda labels: {"total": 0}, update, lambda a, b: {**a, "total": a["total"] + b["total"]})])
    with pytest.raises(ConformanceError, match=r"statistic 'lambda_state', property 'pickle': the state does "
                                               r"not survive pickling"):
        check_plugin(plugin)


def test_a_metric_with_the_wrong_direction_is_caught():
    def error_rate(confusion):
        return float(1 - np.trace(confusion) / confusion.sum())

    with pytest.raises(ConformanceError, match=r"property 'ordering': declared higher_is_better=True, but "
                                               r"error_rate is 0.0 for perfect predictions"):
        check_plugin(_plugin("direction_plugin", metrics=[MetricSpec("error_rate", error_rate, ("confusion",), True)]))
    fixed = _plugin("direction_fixed", metrics=[MetricSpec("error_rate", error_rate, ("confusion",), False)])
    assert check_plugin(fixed).ok


def test_nan_needs_a_reason_and_inf_is_refused():
    def silent(confusion):
        return float("nan") if confusion[:, 1].sum() == 0 else 1.0

    def explained(confusion):
        if confusion[:, 1].sum() == 0:
            warnings.warn("nothing was predicted positive")
            return float("nan")
        return 1.0

    def infinite(confusion):
        return float("inf")

    plugin = _plugin("nan_plugin", metrics=[
        MetricSpec("silent", silent, ("confusion",), None, tasks=("binary",)),
        MetricSpec("explained", explained, ("confusion",), None, tasks=("binary",)),
        MetricSpec("infinite", infinite, ("confusion",), None)])
    with pytest.raises(ConformanceError) as caught:
        check_plugin(plugin)
    assert _properties(caught.value.report) == {("metric", "silent", "value"), ("metric", "infinite", "value")}
    (silent_failure,) = [failure for failure in caught.value.report.failures if failure.name == "silent"]
    assert "nan without a reason" in silent_failure.message
    minimal = silent_failure.inputs
    assert len(minimal) == 1 and minimal.y_pred.tolist() == [minimal.labels[0]]  # no positive prediction


def test_a_compute_that_raises_or_returns_no_number_is_caught():
    plugin = _plugin("raising_plugin", metrics=[
        MetricSpec("raises", lambda confusion: 1 / 0, ("confusion",), None),
        MetricSpec("text", lambda confusion: "high", ("confusion",), None),
        MetricSpec("ordered_artifact", lambda confusion: confusion, ("confusion",), True, kind="artifact")])
    with pytest.raises(ConformanceError) as caught:
        check_plugin(plugin)
    report = caught.value.report
    assert _properties(report) == {("metric", "raises", "value"), ("metric", "text", "value"),
                                   ("metric", "ordered_artifact", "kind")}
    messages = {failure.name: failure.message for failure in report.failures}
    assert messages["raises"] == "compute raised: failed with ZeroDivisionError: division by zero"
    assert "returns a float or a dict" in messages["text"]


def test_a_statistic_that_depends_on_batch_order_is_caught_through_its_metric():
    # Keeps the last batch's accuracy instead of a sum: right in one pass, wrong when split.
    def update(state, batch):
        return float((batch.y_true == batch.y_pred).mean())

    plugin = _plugin("last_batch_plugin", [StatisticSpec("last", lambda labels: 0.0, update, lambda a, b: b)],
                     [MetricSpec("last_accuracy", lambda last: last, ("last",), True)])
    with pytest.raises(ConformanceError) as caught:
        check_plugin(plugin)
    assert ("statistic", "last", "merge") in _properties(caught.value.report)


def test_the_generated_inputs_cover_what_the_checks_promise():
    inputs = generated_inputs()
    assert {data.task for data in inputs} == {"binary", "multiclass"}
    assert any(isinstance(data.labels[0], str) for data in inputs)
    assert any(isinstance(data.labels[0], int) for data in inputs)
    assert any(data.sample_weight is not None for data in inputs)
    assert any(len(np.unique(np.round(data.y_score, 12))) < len(data) // 2 for data in inputs)  # ties
    assert any(set(data.labels) - set(data.y_true.tolist()) for data in inputs)  # absent classes
    assert all(data.y_score.ndim == (1 if data.task == "binary" else 2) for data in inputs)


def test_states_compare_integers_exactly_and_floats_to_1e_12():
    assert difference(np.array([3, 4]), np.array([3, 4])) is None
    assert "integers must agree exactly" in difference(np.array([3, 4]), np.array([3, 5]))
    assert difference([2**70, 1], [2**70, 1]) is None and difference(2**70, 2**70 + 1) is not None
    assert difference(np.array([0.1 + 0.2]), np.array([0.3])) is None  # rounding of another sum order
    assert difference(np.array([1.0]), np.array([1.0 + 1e-9])) is not None
    assert difference(np.array([np.nan]), np.array([np.nan])) is None


def test_check_plugin_accepts_the_name_of_a_loaded_plugin():
    report = check_plugin("core")
    assert report.ok and report.distribution == "toolkit"
    assert report.statistics == ["confusion", "scores", "count", "weighted_cells"] and report.metrics == []
    with pytest.raises(ValueError, match="no plugin named 'nope' is loaded"):
        check_plugin("nope")


BROKEN_DISTRIBUTION = """
import numpy as np
from toolkit.plugin import MetricSpec, StatisticSpec, hookimpl

def update(state, batch):
    return state + np.array([(batch.y_true == batch.y_pred).sum(), len(batch)])

@hookimpl
def toolkit_register_statistics():
    return [StatisticSpec("left_hits", lambda labels: np.zeros(2, dtype=np.int64), update, lambda a, b: a)]

@hookimpl
def toolkit_register_metrics():
    return [MetricSpec("left_hit_rate", lambda left_hits: left_hits[0] / left_hits[1], ("left_hits",), True),
            MetricSpec("typo", lambda confusoin: 0.0, ("confusoin",), True)]
"""


def test_the_cli_check_names_plugin_metric_property_and_input(install_distribution, capsys):
    install_distribution("toolkit-left-merge", {"toolkit_left_merge": BROKEN_DISTRIBUTION},
                         {"left_merge": "toolkit_left_merge"})
    assert main(["plugins", "--check", "left_merge"]) == 1
    output = capsys.readouterr()
    assert "left_merge (toolkit-left-merge): 2 metric(s), 1 statistic(s): 3 failure(s)" in output.out
    assert "plugin 'left_merge', statistic 'left_hits', property 'merge'" in output.out
    assert "plugin 'left_merge', metric 'typo', property 'needs'" in output.out
    assert "minimal failing input (2 examples)" in output.out
    assert "conformance checks failed for ['left_merge']" in output.err
    # The plain listing reports the misspelt need too, and --strict fails on it.
    assert main(["plugins"]) == 0
    assert ("PROBLEM metric 'typo' (plugin 'left_merge'): needs 'confusoin', which is neither a registered "
            "statistic nor a raw input (did you mean 'confusion'?)") in capsys.readouterr().out
    assert main(["plugins", "--strict"]) == 1
    assert main(["plugins", "--check", "no_such_plugin"]) == 2


@pytest.mark.slow
def test_the_first_party_plugins_and_the_example_pass_the_check(example_site):
    environment = {**os.environ, "PYTHONPATH": str(example_site)}
    environment.pop("TOOLKIT_DISABLE_PLUGINS", None)
    completed = subprocess.run(
        [sys.executable, "-m", "toolkit.cli", "plugins", "--check", "core", "metrics", "binned_auroc",
         "custom_metrics"], capture_output=True, text=True, env=environment, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    reports = dict(line.split(": ", 1) for line in completed.stdout.splitlines())
    assert set(reports) == {"core (toolkit)", "metrics (toolkit-metrics)", "binned_auroc (toolkit-binned-auroc)",
                            "custom_metrics (toolkit-custom-metrics)"}
    assert reports["custom_metrics (toolkit-custom-metrics)"] == "5 metric(s), 1 statistic(s): ok"
    assert all(report.endswith(": ok") and not report.startswith("0 metric(s), 0 statistic(s)")
               for report in reports.values())
