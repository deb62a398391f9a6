"""@toolkit.metric: a metric from a script or notebook shows up like a plugin metric and can be removed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sklearn_metrics

import toolkit
from toolkit.plugin import create_plugin_manager, get_plugin_manager

Y_TRUE = [0, 1, 2, 2, 1, 0, 2, 1]
Y_PRED = [0, 2, 2, 2, 1, 0, 1, 1]


def test_decorated_metric_appears_in_evaluate_and_is_removed_again(toolkit_plugin_manager):
    @toolkit.metric(name="error_rate", needs=["confusion"], higher_is_better=False)
    def error_rate(confusion):
        """Fraction of examples predicted wrong."""
        return 1 - np.trace(confusion) / confusion.sum()

    result = toolkit.evaluate(Y_TRUE, Y_PRED)
    assert result.metrics["error_rate"] == pytest.approx(1 - sklearn_metrics.accuracy_score(Y_TRUE, Y_PRED))
    assert result.metrics["accuracy"] == pytest.approx(0.75)  # plugin metrics are still there
    spec = get_plugin_manager().get_metrics()["error_rate"]
    assert (spec.higher_is_better, spec.description) == (False, "Fraction of examples predicted wrong.")
    assert get_plugin_manager().distribution_of("script:error_rate") == "<script>"

    error_rate.remove()
    assert "error_rate" not in toolkit.evaluate(Y_TRUE, Y_PRED).metrics
    assert "error_rate" not in create_plugin_manager().get_metrics()


def test_the_handle_stays_callable_like_the_function(toolkit_plugin_manager):
    @toolkit.metric(higher_is_better=False)
    def error_rate(confusion):
        return 1 - np.trace(confusion) / confusion.sum()

    assert error_rate(np.array([[3, 1], [0, 4]])) == pytest.approx(0.125)
    assert error_rate.__name__ == "error_rate" and error_rate.name == "error_rate"


def test_plain_call_infers_name_and_needs_and_unregister_metric_removes_it(toolkit_plugin_manager):
    def macro_recall(confusion, labels):
        support = confusion.sum(axis=1)
        return float(np.mean(np.diag(confusion)[support > 0] / support[support > 0]))

    handle = toolkit.metric(macro_recall, higher_is_better=True)
    assert handle.spec.needs == ("confusion", "labels")
    result = toolkit.evaluate(Y_TRUE, Y_PRED)
    assert result.metrics["macro_recall"] == pytest.approx(
        sklearn_metrics.recall_score(Y_TRUE, Y_PRED, average="macro"), abs=1e-12)

    toolkit.unregister_metric("macro_recall")
    assert "macro_recall" not in toolkit.evaluate(Y_TRUE, Y_PRED).metrics
    with pytest.raises(ValueError, match=r"'macro_recall' is not a metric registered with toolkit.metric"):
        toolkit.unregister_metric("macro_recall")


def test_managers_created_later_include_script_metrics(toolkit_plugin_manager):
    # A Trainer or session that builds its own manager must see the metric too.
    toolkit.metric(lambda count: float(count) * 2, name="double_count", higher_is_better=None)
    fresh = create_plugin_manager()
    assert "double_count" in fresh.get_metrics()
    assert "double_count" in toolkit.evaluate(Y_TRUE, Y_PRED, plugin_manager=fresh).metrics
    assert toolkit.evaluate(Y_TRUE, Y_PRED, plugin_manager=fresh).metrics["double_count"] == 16.0
    toolkit.unregister_metric("double_count")
    assert "double_count" not in fresh.get_metrics()  # removed from every manager holding it
    assert "double_count" not in create_plugin_manager().get_metrics()


def test_defining_a_metric_again_replaces_it_as_a_rerun_notebook_cell_does(toolkit_plugin_manager):
    toolkit.metric(lambda count: 1.0, name="version", higher_is_better=None)
    toolkit.metric(lambda count: 2.0, name="version", higher_is_better=None)
    assert toolkit.evaluate(Y_TRUE, Y_PRED).metrics["version"] == 2.0
    assert [name for name, _ in toolkit_plugin_manager.list_name_plugin()].count("script:version") == 1


def test_a_name_an_installed_plugin_uses_is_a_value_error_naming_its_distribution(toolkit_plugin_manager):
    with pytest.raises(ValueError, match=r"'accuracy' is already a metric of toolkit-metrics \(plugin 'metrics'\)"):
        toolkit.metric(lambda confusion: 0.0, name="accuracy", higher_is_better=True)
    assert toolkit.evaluate(Y_TRUE, Y_PRED).metrics["accuracy"] == pytest.approx(0.75)


@pytest.mark.parametrize("arguments, message", [
    ({"name": "bad name!"}, "metric name 'bad name!' is not valid"),
    ({"needs": ["confusion", "labels"]}, r"compute does not accept \['labels'\]"),
    ({"kind": "table"}, "kind 'table' must be one of"),
    ({"tasks": ["regression"]}, "tasks"),
    ({"higher_is_better": "yes"}, "higher_is_better must be True, False or None"),
])
def test_bad_arguments_are_value_errors_before_anything_is_registered(toolkit_plugin_manager, arguments, message):
    def error_rate(confusion):
        return 0.0

    with pytest.raises(ValueError, match=message):
        toolkit.metric(error_rate, **arguments)
    assert not [name for name, _ in toolkit_plugin_manager.list_name_plugin() if name.startswith("script:")]


def test_a_lambda_needs_a_name(toolkit_plugin_manager):
    with pytest.raises(ValueError, match="name is required for a lambda"):
        toolkit.metric(lambda confusion: 0.0)


def test_metric_with_params_takes_them_from_the_metrics_choice(toolkit_plugin_manager):
    @toolkit.metric(higher_is_better=True, params={"beta": 1.0})
    def f_beta_macro(confusion, beta):
        return sklearn_like_f_beta(confusion, beta)

    assert f_beta_macro.spec.needs == ("confusion",)
    result = toolkit.evaluate(Y_TRUE, Y_PRED, metrics={"f_beta_macro": {"beta": 2}})
    expected = sklearn_metrics.fbeta_score(Y_TRUE, Y_PRED, beta=2, average="macro")
    assert result.metrics["f_beta_macro"] == pytest.approx(expected, abs=1e-12)


def sklearn_like_f_beta(confusion, beta):
    true_positives = np.diag(confusion).astype(float)
    precision = true_positives / confusion.sum(axis=0)
    recall = true_positives / confusion.sum(axis=1)
    return float(np.mean((1 + beta**2) * precision * recall / (beta**2 * precision + recall)))


def test_metric_into_an_explicit_manager_stays_there(make_plugin_manager):
    mine = make_plugin_manager()
    toolkit.metric(lambda count: 0.0, name="only_here", plugin_manager=mine)
    assert "only_here" in mine.get_metrics()
    assert "only_here" not in create_plugin_manager().get_metrics()
    toolkit.unregister_metric("only_here", plugin_manager=mine)
    assert "only_here" not in mine.get_metrics()


def test_script_metrics_do_not_outlive_the_test_that_defined_them():
    # The toolkit_plugin_manager fixture restored the registry after each test above.
    assert not [name for name in create_plugin_manager().get_metrics()
                if name in ("error_rate", "macro_recall", "double_count", "version", "f_beta_macro")]
