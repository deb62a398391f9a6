"""``toolkit.evaluate`` checks a large ``y_score`` on the helper thread while it reads the labels:
the same result, the same errors in the same order, and nothing left running after the call."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

import toolkit
from toolkit.evaluation import concurrency, inputs

ROWS = 2_000


class _Recorded(list):
    """The threads the checks ran on ("finished" after each), and whether the helper began them."""

    def __init__(self):
        super().__init__()
        self.began = threading.Event()


@pytest.fixture
def ahead(monkeypatch):
    """Arrays of ROWS rows or more take the early road as on an idle machine, and the threads the
    score checks ran on are recorded. (The machine's idleness is what a test cannot arrange: the
    probe of it stands in, and only it.) While checks were handed to the helper, reading the
    labels waits until the helper has begun them: with so small an array the caller would
    otherwise be done first and take them back. (The wait is for one evaluation per test.)"""
    monkeypatch.setattr(concurrency, "CONCURRENT_MIN_ROWS", ROWS)
    monkeypatch.setattr(concurrency, "cpu_idle_now", lambda: True)
    threads = _Recorded()
    began = threads.began
    checked_values, as_label_array = inputs._checked_values, inputs.as_label_array

    def recorded(scores, score_type):
        threads.append(threading.current_thread().name)
        began.set()
        try:
            return checked_values(scores, score_type)
        finally:
            threads.append("finished")

    def after_the_helper_began(values, argument):
        if inputs._SCORES_AHEAD.get() is not None:
            assert began.wait(30), "the helper did not begin the checks"
        return as_label_array(values, argument)

    monkeypatch.setattr(inputs, "_checked_values", recorded)
    monkeypatch.setattr(inputs, "as_label_array", after_the_helper_began)
    return threads


def _binary(n: int = ROWS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    return y_true, np.clip(0.3 * y_true + 0.7 * rng.random(n), 0, 1).astype(np.float32)


def test_large_scores_are_checked_on_the_helper_thread_with_the_same_result(ahead):
    y_true, y_score = _binary()
    result = toolkit.evaluate(y_true, y_score=y_score, metrics=["roc_auc", "log_loss"])
    assert ahead == ["toolkit-statistics_0", "finished"]
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-12)
    assert result.metrics["log_loss"] == pytest.approx(log_loss(y_true, y_score.astype(np.float64)), rel=1e-6)


def test_small_scores_and_streamed_batches_are_checked_here(ahead):
    y_true, y_score = _binary(ROWS - 1)
    toolkit.evaluate(y_true, y_score=y_score, metrics=["roc_auc"])
    evaluator = toolkit.Evaluator([0, 1], metrics=["roc_auc"])
    y_true, y_score = _binary()
    evaluator.update(y_true, y_score=y_score)
    assert ahead == [threading.current_thread().name, "finished"] * 2


def test_a_label_error_comes_before_the_scores_error_and_nothing_runs_on(ahead):
    y_true, y_score = _binary()
    y_true[5] = 7  # three labels for one score column
    y_score[9] = np.nan
    with pytest.raises(ValueError, match="holds one score per example"):
        toolkit.evaluate(y_true, y_score=y_score, labels=[0, 1, 7])
    assert ahead == ["toolkit-statistics_0", "finished"]  # (the early check was waited for)


@pytest.mark.parametrize("bad, message", [(np.nan, r"y_score contains NaN or inf \(first at row 1234\)"),
                                          (1.5, r"probabilities in \[0, 1\], found values from .* to 1.5")])
def test_the_scores_error_found_early_is_raised_with_its_row(ahead, bad, message):
    # (one evaluation per test: the fixture's wait for the helper holds for one call)
    y_true, y_score = _binary()
    y_score[1234] = bad
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate(y_true, y_score=y_score)
    assert ahead == ["toolkit-statistics_0", "finished"]


def test_checks_the_busy_helper_has_not_begun_run_here(ahead, busy_helper):
    ahead.began.set()  # (the labels are read at once)
    y_true, y_score = _binary()
    result = toolkit.evaluate(y_true, y_score=y_score, metrics=["roc_auc"])
    assert ahead == [threading.current_thread().name, "finished"]
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-12)
