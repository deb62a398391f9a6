"""A broken plugin, or a metric whose statistic no plugin registers, is in every evaluation's warnings."""

from __future__ import annotations

import numpy as np
import pytest

import toolkit
from toolkit.plugin import MetricSpec, create_plugin_manager, hookimpl


def test_a_plugin_that_fails_to_import_is_in_the_warnings_of_every_evaluation(install_distribution):
    install_distribution("broken-dist", {"broken_plugin": "import not_a_module_anywhere\n"},
                         {"broken": "broken_plugin"})
    manager = create_plugin_manager()
    results = [
        toolkit.evaluate([0, 1, 1], y_pred=[0, 1, 0], plugin_manager=manager),
        toolkit.evaluate([0, 1, 1], y_score=[0.2, 0.9, 0.4], plugin_manager=manager, exact=False),
        toolkit.Evaluator([0, 1], plugin_manager=manager).update([0, 1], [0, 1]).compute(),
    ]
    for result in results:
        assert any("plugin 'broken' from broken-dist" in warning and "not_a_module_anywhere" in warning
                   for warning in result.warnings), result.warnings
    with pytest.raises(ValueError, match="unknown metric.*plugin 'broken' from broken-dist"):
        toolkit.evaluate([0, 1], y_pred=[0, 1], metrics=["its_metric"], plugin_manager=manager)


def test_a_metric_whose_statistic_nobody_registers_is_named_in_the_warnings():
    class Orphan:
        @hookimpl
        def toolkit_register_metrics(self):
            return [MetricSpec("orphan_metric", lambda unregistered_histogram: 0.0, ("unregistered_histogram",), True)]

    manager = create_plugin_manager()
    manager.register(Orphan(), "orphan")
    result = toolkit.evaluate(np.array([0, 1, 1]), y_pred=np.array([0, 1, 0]), plugin_manager=manager)
    assert "orphan_metric" not in result.metrics
    assert any("orphan_metric: cannot be computed" in warning and "unregistered_histogram" in warning
               for warning in result.warnings), result.warnings
    assert result["accuracy"] == pytest.approx(2 / 3)
