"""Statistics marked ``concurrent`` update on the helper thread beside the others, with the same results."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss

import toolkit
from toolkit.evaluation import concurrency
from toolkit.plugin import MetricSpec, StatisticSpec, create_plugin_manager, hookimpl

ROWS = 1_000


def _probabilities(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    raw = rng.random((n, 3)) + 3 * np.eye(3)[y_true] * rng.random((n, 1))
    return y_true, raw / raw.sum(axis=1, keepdims=True)


class _Threads:
    """A plugin whose two statistics record the thread each update ran on; one is ``concurrent``."""

    def __init__(self, fail: bool = False, here_awaits_beside: bool = False):
        self.threads: dict[str, list[str]] = {"beside": [], "here": []}
        self.fail = fail
        # the caller's update waits until the helper has begun the concurrent one (which the
        # caller would otherwise take back, done first with so small a batch)
        self.beside_began = threading.Event() if here_awaits_beside else None

    def _update(self, name: str):
        def update(state, batch):
            self.threads[name].append(threading.current_thread().name)
            if self.beside_began is not None:
                if name == "beside":
                    self.beside_began.set()
                else:
                    assert self.beside_began.wait(30), "the helper did not begin the concurrent update"
            if self.fail and name == "beside":
                raise ValueError("beside: this batch cannot be added")
            return state + int(batch.y_true.shape[0])
        return update

    @hookimpl
    def toolkit_register_statistics(self):
        return [StatisticSpec(name, init=lambda labels: 0, update=self._update(name), merge=lambda a, b: a + b,
                              concurrent=name == "beside") for name in self.threads]

    @hookimpl
    def toolkit_register_metrics(self):
        return [MetricSpec("rows_beside", lambda beside: float(beside), ("beside",), None),
                MetricSpec("rows_here", lambda here: float(here), ("here",), None)]


@pytest.fixture
def idle_cpu(monkeypatch):
    """Batches of ROWS rows or more take the concurrent road as on an idle machine. (The machine's
    idleness is what a test cannot arrange: the probe of it stands in, and only it.)"""
    monkeypatch.setattr(concurrency, "CONCURRENT_MIN_ROWS", ROWS)
    monkeypatch.setattr(concurrency, "cpu_idle_now", lambda: True)


def test_a_concurrent_statistic_updates_on_the_helper_thread_and_the_others_here(idle_cpu):
    plugin = _Threads(here_awaits_beside=True)
    manager = create_plugin_manager()
    manager.register(plugin, "threads")
    y_true, y_score = _probabilities(ROWS)
    result = toolkit.evaluate(y_true, y_score.argmax(axis=1), y_score, plugin_manager=manager,
                              metrics=["rows_beside", "rows_here", "log_loss", "accuracy"])
    assert result.metrics["rows_beside"] == result.metrics["rows_here"] == ROWS
    here = threading.current_thread().name
    assert plugin.threads["here"] == [here]
    assert plugin.threads["beside"] != [here] and plugin.threads["beside"][0].startswith("toolkit-statistics")
    assert result.metrics["log_loss"] == pytest.approx(log_loss(y_true, y_score), rel=1e-12)
    assert result.metrics["accuracy"] == accuracy_score(y_true, y_score.argmax(axis=1))


def test_small_batches_and_a_busy_machine_keep_every_update_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(concurrency, "CONCURRENT_MIN_ROWS", ROWS)
    for idle, rows in ((True, ROWS - 1), (False, ROWS)):
        monkeypatch.setattr(concurrency, "cpu_idle_now", lambda: idle)
        plugin = _Threads()
        manager = create_plugin_manager()
        manager.register(plugin, "threads")
        y_true, y_score = _probabilities(rows)
        toolkit.evaluate(y_true, y_score.argmax(axis=1), plugin_manager=manager, metrics=["rows_beside", "rows_here"])
        assert plugin.threads["beside"] == plugin.threads["here"] == [threading.current_thread().name]


def test_streamed_batches_on_both_roads_give_the_same_log_loss_to_the_bit(monkeypatch):
    y_true, y_score = _probabilities(6 * ROWS, seed=1)
    values = []
    for idle in (True, False):
        monkeypatch.setattr(concurrency, "CONCURRENT_MIN_ROWS", ROWS)
        monkeypatch.setattr(concurrency, "cpu_idle_now", lambda: idle)
        evaluator = toolkit.Evaluator(labels=[0, 1, 2], metrics=["log_loss", "accuracy"])
        for start in range(0, y_true.shape[0], 2 * ROWS):
            rows = slice(start, start + 2 * ROWS)
            evaluator.update(y_true[rows], y_score[rows].argmax(axis=1), y_score[rows])
        values.append(evaluator.compute().metrics)
    assert values[0] == values[1]
    assert values[0]["log_loss"] == pytest.approx(log_loss(y_true, y_score), rel=1e-12)


def test_an_error_in_a_concurrent_update_reaches_the_caller(idle_cpu):
    manager = create_plugin_manager()
    manager.register(_Threads(fail=True), "threads")
    y_true, y_score = _probabilities(ROWS)
    with pytest.raises(ValueError, match="beside: this batch cannot be added"):
        toolkit.evaluate(y_true, y_score.argmax(axis=1), plugin_manager=manager, metrics=["rows_beside", "rows_here"])


def test_concurrent_must_be_a_boolean():
    with pytest.raises(ValueError, match="statistic 'odd': concurrent must be True or False"):
        StatisticSpec("odd", init=lambda labels: 0, update=lambda state, batch: state, merge=lambda a, b: a,
                      concurrent="yes")


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="the running-thread count is Linux's")
def test_processes_started_a_moment_ago_leave_no_cpu_idle():
    """The count of idle CPUs sees CPU-bound processes at once (the load average would take a
    minute): one per CPU but this thread's leaves none, and the concurrent road closes."""
    assert concurrency.running_threads() >= 1
    assert 0 <= concurrency.idle_cpus() < concurrency.usable_cpus()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(concurrency.usable_cpus() - 1)]
    try:
        time.sleep(0.3)
        assert concurrency.running_threads() >= concurrency.usable_cpus()
        assert concurrency.idle_cpus() == 0 and not concurrency.cpu_idle_now()
    finally:
        for process in busy:
            process.kill()
            process.wait()


def test_an_update_the_busy_helper_has_not_begun_runs_on_the_caller(idle_cpu, busy_helper):
    plugin = _Threads()
    manager = create_plugin_manager()
    manager.register(plugin, "threads")
    y_true, y_score = _probabilities(ROWS)
    result = toolkit.evaluate(y_true, y_score.argmax(axis=1), plugin_manager=manager,
                              metrics=["rows_beside", "rows_here"])
    assert plugin.threads["beside"] == plugin.threads["here"] == [threading.current_thread().name]
    assert result.metrics["rows_beside"] == ROWS


def test_an_evaluation_run_on_the_helper_thread_itself_does_not_wait_for_it(idle_cpu):
    y_true, y_score = _probabilities(2 * ROWS)
    on_helper = concurrency.helper_thread().submit(
        lambda: toolkit.evaluate(y_true, y_score=y_score, metrics=["log_loss"]).metrics["log_loss"])
    assert on_helper.result(timeout=60) == pytest.approx(log_loss(y_true, y_score), rel=1e-12)
