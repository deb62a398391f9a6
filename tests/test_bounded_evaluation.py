"""exact=False keeps memory bounded; evaluators travel between processes as their states."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import toolkit
from toolkit.plugin import create_plugin_manager

RNG = np.random.default_rng(11)
Y_TRUE = RNG.integers(0, 3, 400)
SCORES = RNG.dirichlet([1, 1, 1], 400)


def test_bounded_evaluation_keeps_only_fixed_size_statistics_and_says_what_it_left_out():
    evaluator = toolkit.Evaluator([0, 1, 2], exact=False)
    manager = toolkit.plugin.get_plugin_manager()
    statistics = manager.get_statistics()
    assert all(statistics[name].bounded for name in evaluator._statistics)
    result = evaluator.update(Y_TRUE, y_score=SCORES).compute()
    exact = toolkit.evaluate(Y_TRUE, y_score=SCORES)
    for name in ("accuracy", "f1_macro", "log_loss", "support/2"):
        assert result[name] == pytest.approx(exact[name], rel=1e-12)
    assert "roc_auc_ovr_macro" not in result.metrics
    assert any(note.startswith("roc_auc_ovr_macro: left out to keep memory bounded") for note in result.warnings)


def test_a_named_exact_metric_is_computed_even_when_memory_is_bounded():
    result = toolkit.evaluate(Y_TRUE, y_score=SCORES, metrics=["roc_auc_ovr_macro"], exact=False)
    assert result["roc_auc_ovr_macro"] == toolkit.evaluate(Y_TRUE, y_score=SCORES)["roc_auc_ovr_macro"]


def test_exact_and_bounded_evaluators_do_not_merge():
    exact = toolkit.Evaluator([0, 1, 2]).update(Y_TRUE, y_score=SCORES)
    bounded = toolkit.Evaluator([0, 1, 2], exact=False).update(Y_TRUE, y_score=SCORES)
    with pytest.raises(ValueError, match="different metrics"):
        exact.merge(bounded)


def test_spec_fields_are_checked():
    with pytest.raises(ValueError, match="bounded must be True or False"):
        toolkit.plugin.StatisticSpec("s", init=list, update=list, merge=list, bounded="no")
    with pytest.raises(ValueError, match="approximates"):
        toolkit.plugin.MetricSpec("m", compute=len, needs=("confusion",), higher_is_better=True, approximates="bad name!")


def test_an_evaluator_pickles_as_its_states_and_merges_after_the_trip():
    halves = [toolkit.Evaluator([0, 1, 2]).update(Y_TRUE[part], y_score=SCORES[part])
              for part in (slice(0, 150), slice(150, None))]
    shipped = [pickle.loads(pickle.dumps(half)) for half in halves]
    merged = shipped[0].merge(shipped[1]).compute()
    assert merged.metrics == toolkit.evaluate(Y_TRUE, y_score=SCORES).metrics


def test_unpickling_where_a_metric_plugin_is_missing_names_the_metric():
    plugin = type("Local", (), {"toolkit_register_metrics": toolkit.plugin.hookimpl(staticmethod(lambda: [
        toolkit.plugin.MetricSpec("local_error_rate", lambda confusion: 1 - confusion.trace() / confusion.sum(),
                           ("confusion",), False)]))})
    manager = create_plugin_manager()
    manager.register(plugin, "local")
    evaluator = toolkit.Evaluator([0, 1, 2], ["local_error_rate"], plugin_manager=manager)
    evaluator.update(Y_TRUE, Y_TRUE)
    with pytest.raises(ValueError, match="no plugin for \\['local_error_rate'\\]"):
        pickle.loads(pickle.dumps(evaluator))
