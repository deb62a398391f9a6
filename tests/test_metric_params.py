"""Metric params: defaults in MetricSpec.params, chosen per evaluation in the ``metrics`` argument."""

from __future__ import annotations

import numpy as np
import pytest

import toolkit
from toolkit.evaluation.selection import metric_choices
from toolkit.plugin import MetricSpec

Y_TRUE = [0, 1, 1, 0, 1, 1]
Y_PRED = [0, 1, 0, 0, 1, 0]


def _threshold_count(count, at_least):
    return float(count >= at_least)


def _check_at_least(at_least):
    if at_least <= 0:
        raise ValueError(f"at_least must be > 0, got {at_least}")


@pytest.fixture
def manager(make_plugin_manager):
    manager = make_plugin_manager()
    toolkit.metric(_threshold_count, name="enough_examples", params={"at_least": 10},
                   check_params=_check_at_least, plugin_manager=manager)
    return manager


@pytest.mark.parametrize("metrics, expected", [
    (["enough_examples"], 0.0),
    ({"enough_examples": None}, 0.0),
    ({"enough_examples": {"at_least": 6}}, 1.0),
    (["accuracy", {"enough_examples": {"at_least": 3}}], 1.0),  # the YAML spelling
])
def test_every_spelling_of_the_metrics_choice(manager, metrics, expected):
    result = toolkit.evaluate(Y_TRUE, Y_PRED, metrics=metrics, plugin_manager=manager)
    assert result.metrics["enough_examples"] == expected


def test_defaults_apply_when_every_metric_is_chosen(manager):
    assert toolkit.evaluate(Y_TRUE, Y_PRED, plugin_manager=manager).metrics["enough_examples"] == 0.0


@pytest.mark.parametrize("metrics, message", [
    ({"enough_examples": {"at_least": "6"}}, r"'at_least' must be of type int like its default 10, got '6'"),
    ({"enough_examples": {"at_least": True}}, r"must be of type int"),
    ({"enough_examples": {"at_least": 0}}, r"'enough_examples': at_least must be > 0, got 0"),
    ({"enough_examples": {"most": 1}}, r"'enough_examples' has no parameter 'most'; it takes \['at_least'\]"),
    ({"accuracy": {"k": 1}}, r"'accuracy' has no parameter 'k'; it takes none"),
    ([{"accuracy": None, "f1": None}], r"entries must be names or one-key mappings"),
    ([3], r"entries must be names or one-key mappings"),
    ({"enough_examples": 5}, r"params of 'enough_examples' must be a mapping"),
    (["enough_examples", {"enough_examples": {"at_least": 2}}], r"'enough_examples' twice with different params"),
])
def test_bad_choices_are_value_errors_naming_the_metric(manager, metrics, message):
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate(Y_TRUE, Y_PRED, metrics=metrics, plugin_manager=manager)


def test_metric_choices_normalises_names_and_params():
    assert metric_choices("accuracy") == {"accuracy": None}
    assert metric_choices(["accuracy", {"top_k_accuracy": {"k": 3}}]) == {
        "accuracy": None, "top_k_accuracy": {"k": 3}}


def test_evaluators_with_different_params_do_not_merge(manager):
    first = toolkit.Evaluator([0, 1], metrics={"enough_examples": {"at_least": 2}}, plugin_manager=manager)
    second = toolkit.Evaluator([0, 1], metrics={"enough_examples": {"at_least": 3}}, plugin_manager=manager)
    first.update(Y_TRUE, Y_PRED)
    second.update(Y_TRUE, Y_PRED)
    with pytest.raises(ValueError, match="made with different metrics"):
        first.merge(second)


@pytest.mark.parametrize("spec_arguments, message", [
    ({"params": {"k": 1}, "compute": lambda scores: 0.0}, r"compute does not accept \['k'\]"),
    ({"params": {"scores": 1}}, r"\['scores'\] are named in both needs and params"),
    ({"params": {"not valid": 1}, "compute": lambda scores, **kwargs: 0.0}, "not Python identifiers"),
    ({"params": [("k", 1)]}, "params must be a mapping"),
])
def test_metric_spec_checks_its_params(spec_arguments, message):
    arguments = {"name": "m", "compute": lambda scores, k: 0.0, "needs": ("scores",),
                 "higher_is_better": True, **spec_arguments}
    with pytest.raises(ValueError, match=message):
        MetricSpec(**arguments)


def test_params_are_read_only_and_the_spec_stays_hashable():
    spec = MetricSpec("m", lambda count, k: 0.0, ("count",), True, params={"k": 2})
    with pytest.raises(TypeError):
        spec.params["k"] = 3  # type: ignore[index]
    assert isinstance(hash(spec), int) and np.isscalar(spec.params["k"])
