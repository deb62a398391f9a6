"""A plugin written against the names plugins import today (toolkit.MetricSpec, toolkit.hookimpl, ...) still loads."""

from __future__ import annotations

import warnings

import pytest
from sklearn.metrics import accuracy_score

import toolkit
from toolkit.plugin import create_plugin_manager
from toolkit.testing import check_plugin, synthetic_classification

OLD_STYLE_PLUGIN = """
import numpy as np
import toolkit


def _update(state: np.ndarray, batch: "toolkit.Batch") -> np.ndarray:
    weights = np.ones(len(batch)) if batch.sample_weight is None else batch.sample_weight
    return state + np.array([np.dot(weights, batch.y_true == batch.y_pred), weights.sum()])


class _Tracker:
    def start(self, run_name):
        return toolkit.TrackerLink("old_tracker", "run-1", "nowhere")


@toolkit.hookimpl
def toolkit_register_statistics():
    return [toolkit.StatisticSpec("old_hits", lambda labels: np.zeros(2), _update, lambda a, b: a + b)]


@toolkit.hookimpl
def toolkit_register_metrics():
    return [toolkit.MetricSpec("old_hit_rate", lambda old_hits: float(old_hits[0] / old_hits[1]),
                               ("old_hits",), True)]


@toolkit.hookimpl
def toolkit_register_trackers():
    return [toolkit.TrackerSpec("old_tracker", factory=_Tracker)]
"""


def test_an_old_style_plugin_loads_and_computes(install_distribution):
    install_distribution("toolkit-old-style", {"toolkit_old_style": OLD_STYLE_PLUGIN}, {"old_style": "toolkit_old_style"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = create_plugin_manager(strict=True)  # strict: a plugin that fails to load raises
        info = {info.name: info for info in manager.plugin_infos()}["old_style"]
    unexpected = [str(warning.message) for warning in caught if not issubclass(warning.category, DeprecationWarning)]
    assert not unexpected  # a deprecation warning at most
    assert (info.distribution, info.metrics, info.statistics, info.trackers) == (
        "toolkit-old-style", ("old_hit_rate",), ("old_hits",), ("old_tracker",))

    data = synthetic_classification(300, labels=["a", "b", "c"], seed=4, weighted=True)
    result = toolkit.evaluate(**data.as_kwargs(), labels=data.labels, metrics=["old_hit_rate"], plugin_manager=manager)
    expected = accuracy_score(data.y_true, data.y_pred, sample_weight=data.sample_weight)
    assert result.metrics["old_hit_rate"] == pytest.approx(expected, abs=1e-12)
    assert check_plugin("old_style", plugin_manager=manager).ok
