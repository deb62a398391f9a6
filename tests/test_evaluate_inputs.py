"""Bad input raises ValueError naming the argument, before anything is computed or logged."""

from __future__ import annotations

import numpy as np
import pytest

import toolkit

GOOD_SCORES = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(y_true=[0, 1, 2], y_pred=[0, 1]), "y_pred has 2 values but y_true has 3"),
        (dict(y_true=[0, 1, 2], y_score=GOOD_SCORES[:2]), "y_score has 2 rows but y_true has 3"),
        (dict(y_true=[0, 1, 2], y_score=[[0.5, 0.5]] * 3, labels=[0, 1, 2]),
         "y_score has 2 columns but there are 3 labels"),
        (dict(y_true=[0, 1, 2], y_score=[0.1, 0.5, 0.9], labels=[0, 1, 2]),
         r"y_score of shape \(3,\) holds one score per example, which means a binary task"),
        (dict(y_true=[0, 1], y_score=np.zeros((2, 2, 1))), r"y_score must have shape \(N,\) or \(N, K\)"),
        (dict(y_true=[0, 1, 2], y_score=[[0.7, 0.2, 0.1], [np.nan, 0.8, 0.1], [0.2, 0.2, 0.6]]),
         "y_score contains NaN or inf \\(first at row 1\\)"),
        (dict(y_true=[0, 1], y_score=[0.2, np.inf]), "y_score contains NaN or inf"),
        (dict(y_true=[0, 1, 7], y_pred=[0, 1, 1], labels=[0, 1]), r"y_true contains \[7\], not in labels \[0, 1\]"),
        (dict(y_true=[0, 1, 1], y_pred=[0, 5, 1], labels=[0, 1]), r"y_pred contains \[5\], not in labels"),
        (dict(y_true=["cat", "dog"], y_pred=["cat", "cow"], labels=["cat", "dog"]), r"y_pred contains \['cow'\]"),
        (dict(y_true=[], y_pred=[]), "y_true is empty"),
        (dict(y_true=None, y_pred=[1]), "y_true is required"),
        (dict(y_true=[0, 1]), "give y_pred or y_score"),
        (dict(y_true=[[0, 1], [1, 0]], y_pred=[0, 1]), "y_true must be 1-D"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sample_weight=[1.0, -2.0]), "sample_weight contains negative values"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sample_weight=[1.0]), r"sample_weight must have shape \(2,\)"),
        (dict(y_true=[0, 1], y_pred=[0, 1], sample_weight=[1.0, np.nan]), "sample_weight contains NaN"),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=[0, 1, 1]), r"labels contains repeated values \[1\]"),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=[]), "labels must be a non-empty"),
        (dict(y_true=[0, 1], y_pred=[0, 1], metrics=["acuracy"]), r"unknown metric\(s\) \['acuracy'\]"),
        (dict(y_true=[0, 1, 2], y_pred=[0, 1, 2], metrics=["roc_auc"]), "do not apply to a multiclass task"),
        (dict(y_true=[0, 1], y_pred=[0, 1], metrics=["roc_auc"]), "roc_auc needs scores"),
        (dict(y_true=[0, 1], y_pred=[0, 1], trackers=["nowhere"]), r"unknown tracker\(s\) \['nowhere'\]"),
        (dict(y_true=[2, 2], y_score=[0.3, 0.9]), "pass labels=\\[negative, positive\\]"),
    ],
)
def test_bad_input_names_the_argument(arguments, message):
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate(**arguments)


def test_nothing_reaches_the_lifecycle_hooks_when_input_is_bad():
    calls = []

    class Recorder:
        @toolkit.plugin.hookimpl
        def toolkit_run_started(self, run):
            calls.append("started")

    manager = toolkit.plugin.create_plugin_manager()
    manager.register(Recorder())
    with pytest.raises(ValueError):
        toolkit.evaluate([0, 1], [0, 3], labels=[0, 1], plugin_manager=manager)
    assert calls == []
    toolkit.evaluate([0, 1], [0, 1], plugin_manager=manager)
    assert calls == ["started"]


def test_streaming_batches_must_agree_on_optional_inputs():
    evaluator = toolkit.Evaluator(labels=[0, 1])
    evaluator.update([0, 1], y_score=[0.2, 0.7])
    with pytest.raises(ValueError, match="y_score must be given for every batch or for none"):
        evaluator.update([0, 1], y_pred=[0, 1])
    with pytest.raises(ValueError, match="sample_weight must be given for every batch or for none"):
        evaluator.update([0, 1], y_score=[0.2, 0.7], sample_weight=[1, 1])
    with pytest.raises(ValueError, match="call update\\(\\) before compute\\(\\)"):
        toolkit.Evaluator(labels=[0, 1]).compute()
    with pytest.raises(ValueError, match="other has labels"):
        evaluator.merge(toolkit.Evaluator(labels=[0, 2]))
