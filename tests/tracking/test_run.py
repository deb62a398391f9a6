"""Run: fan-out to every tracker, failure isolation, cross-links, the end summary, guards restored.

The trackers here are real: the JSON-lines tracker of the ``toolkit_register_trackers`` docstring,
writing to files in the test's folder. A tracker breaks for real when its folder disappears.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import uuid

import pytest

import toolkit
from toolkit.plugin import TrackerLink, TrackerSpec, create_plugin_manager, hookimpl
from toolkit.run import Run, TrackerError
from toolkit.tracking import TrackingWarning


class JsonLinesTracker:
    """The example tracker from the hook's docstring: one JSON line per event."""

    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = path, name

    def _write(self, **record):
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def start(self, run_name):
        self.run_id = uuid.uuid4().hex
        self._write(event="start", name=run_name)
        return TrackerLink(self.name, self.run_id, os.path.abspath(self.path))

    def log_params(self, params):
        self._write(event="params", params=params)

    def log_metrics(self, metrics, step):
        self._write(event="metrics", step=step, metrics=metrics)

    def log_evaluation(self, report, step):
        self._write(event="evaluation", step=step, labels=list(report.labels),
                    curves=sorted(report.curves), matrix=report.confusion_matrix.tolist())

    def log_file(self, name, path):
        self._write(event="file", name=name, content=open(path).read())

    def set_tags(self, tags):
        self._write(event="tags", tags=tags)

    def finish(self, status):
        self._write(event="end", status=status)

    def describe(self):
        return f"run {self.run_id} in {self.path}"


class JsonLinesPlugin:
    def __init__(self, folder):
        self.folder = folder

    @hookimpl
    def toolkit_register_trackers(self):
        return [TrackerSpec(name, lambda name=name: JsonLinesTracker(os.path.join(self.folder, name, "run.jsonl"), name))
                for name in ("first", "second")]


class StartFailsPlugin:
    @hookimpl
    def toolkit_register_trackers(self):
        def unreachable():
            raise ConnectionError("store at https://user:pw@tracker.example is down")
        return [TrackerSpec("unreachable", unreachable)]


class RecordingPlugin:
    def __init__(self):
        self.calls = []

    @hookimpl
    def toolkit_run_started(self, run):
        self.calls.append(("started", run.status))

    @hookimpl
    def toolkit_params_logged(self, run, params):
        self.calls.append(("params", dict(params)))

    @hookimpl
    def toolkit_run_ended(self, run, status):
        self.calls.append(("ended", status))

    @hookimpl
    def toolkit_run_failed(self, run, error, status):
        self.calls.append(("failed", status, type(error).__name__))


@pytest.fixture
def manager(tmp_path):
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    plugins = create_plugin_manager(load_entry_points=False)
    from toolkit_metrics import plugin as metrics_plugin

    plugins.register(metrics_plugin, "metrics")
    plugins.register(JsonLinesPlugin(str(tmp_path)), "jsonl")
    plugins.register(StartFailsPlugin(), "unreachable")
    plugins.recorder = RecordingPlugin()
    plugins.register(plugins.recorder, "recorder")
    return plugins


def events(tmp_path, name):
    path = tmp_path / name / "run.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_every_tracker_gets_the_same_checked_params_and_values_and_links_to_the_others(tmp_path, manager, capsys):
    result = toolkit.evaluate([0, 1, 1, 0], y_score=[0.2, 0.9, 0.4, 0.3], trackers=["first", "second"],
                              run_name="both", params={"model": {"lr": 0.1}, "hf_token": "abc"},
                              plugin_manager=manager)
    first, second = events(tmp_path, "first"), events(tmp_path, "second")
    # the second tags: which examples the stored predictions are for
    assert [event["event"] for event in first] == ["start", "tags", "params", "metrics", "tags", "evaluation", "end"]
    assert first[2]["params"] == second[2]["params"] == {"model.lr": 0.1, "hf_token": "***"}
    assert first[3]["metrics"] == second[3]["metrics"] == result.metrics
    assert first[3]["step"] == 0
    assert first[5]["curves"] == ["pr_curve", "roc_curve"] and first[5]["matrix"] == [[2, 0], [1, 1]]
    assert first[1]["tags"]["second.location"] == str(tmp_path / "second" / "run.jsonl")
    assert second[1]["tags"]["first.location"] == str(tmp_path / "first" / "run.jsonl")
    first_id, second_id = second[1]["tags"]["first.run_id"], first[1]["tags"]["second.run_id"]
    assert first_id != second_id and len(first_id) == len(second_id) == 32
    assert first[-1] == second[-1] == {"event": "end", "status": "FINISHED"}
    reached = f"2 params, {len(result.metrics)} metric values, 1 evaluation with charts, 0 files"
    assert capsys.readouterr().err.splitlines() == [
        f"toolkit: first: FINISHED: {reached} -> run {first_id} in {tmp_path / 'first' / 'run.jsonl'}",
        f"toolkit: second: FINISHED: {reached} -> run {second_id} in {tmp_path / 'second' / 'run.jsonl'}",
    ]
    assert manager.recorder.calls == [("started", "RUNNING"), ("params", {"model.lr": 0.1, "hf_token": "***"}),
                                      ("ended", "FINISHED")]


def test_a_tracker_that_breaks_mid_run_is_reported_and_the_other_goes_on(tmp_path, manager):
    run = Run("breaks", trackers=["first", "second"], plugin_manager=manager)
    with run:
        run.log_metrics({"loss": 1.0}, step=0)
        shutil.rmtree(tmp_path / "first")  # its store is gone: the next write fails for real
        with pytest.warns(TrackingWarning, match="tracker 'first' failed in log_metrics .*FileNotFoundError"):
            run.log_metrics({"loss": 0.5}, step=1)
        run.log_metrics({"loss": 0.25}, step=2)
    second = events(tmp_path, "second")
    assert [event["metrics"]["loss"] for event in second if event["event"] == "metrics"] == [1.0, 0.5, 0.25]
    assert second[-1]["status"] == "FINISHED"
    summary = run.summary_lines()
    assert summary[0].startswith("first: BROKEN in log_metrics: FileNotFoundError: ")
    assert "before that 0 params, 1 metric value, 0 evaluations with charts, 0 files reached run " in summary[0]
    assert summary[1].startswith("second: FINISHED: 0 params, 3 metric values,")
    assert run.status == "FINISHED"


def test_a_tracker_that_cannot_start_stops_the_run_and_closes_the_others_as_failed(tmp_path, manager):
    run = Run("no-start", trackers=["first", "unreachable"], plugin_manager=manager)
    with pytest.raises(TrackerError, match=r"^tracker 'unreachable' could not start: ConnectionError: "
                                           r"store at https://tracker.example is down$"):
        run.start()
    assert [event["event"] for event in events(tmp_path, "first")] == ["start", "end"]
    assert events(tmp_path, "first")[-1]["status"] == "FAILED"


def test_an_exception_fails_the_run_in_every_tracker_and_is_re_raised(tmp_path, manager):
    with pytest.raises(ValueError, match="bad batch"):
        with Run("fails", {"lr": 0.1}, trackers=["first", "second"], plugin_manager=manager) as run:
            run.log_metrics({"loss": 1.0}, step=0)
            raise ValueError("bad batch")
    for name in ("first", "second"):
        assert events(tmp_path, name)[-1] == {"event": "end", "status": "FAILED"}
        assert any(event["event"] == "metrics" for event in events(tmp_path, name))
    assert manager.recorder.calls[-1] == ("failed", "FAILED", "ValueError")


def test_a_long_param_reaches_every_tracker_whole_as_a_file(tmp_path, manager):
    text = "layer;" * 1500
    with Run("long", {"architecture": text}, trackers=["first"], plugin_manager=manager):
        pass
    (file_event,) = [event for event in events(tmp_path, "first") if event["event"] == "file"]
    assert file_event["name"] == "params" and file_event["content"] == text


def test_params_cannot_change_inside_a_run_and_nothing_is_written_when_they_try(tmp_path, manager):
    with Run("params", {"lr": 0.1}, trackers=["first"], plugin_manager=manager) as run:
        before = len(events(tmp_path, "first"))
        with pytest.raises(ValueError, match=r"params: 'lr' \(was 0.1, now 0.2\) already recorded"):
            run.log_params({"new": 1, "lr": 0.2})
        assert len(events(tmp_path, "first")) == before
        run.log_params({"new": 1})
    assert [event["params"] for event in events(tmp_path, "first") if event["event"] == "params"] == [
        {"lr": 0.1}, {"new": 1}]


def test_bad_calls_are_clear_errors(tmp_path, manager):
    run = Run("calls", trackers=["first"], plugin_manager=manager)
    with pytest.raises(RuntimeError, match="cannot log metrics: run 'calls' is not started"):
        run.log_metrics({"x": 1.0})
    with run:
        with pytest.raises(ValueError, match="step must be a non-negative integer or None, got -1"):
            run.log_metrics({"x": 1.0}, step=-1)
        with pytest.raises(ValueError, match="path '/no/such/file' does not exist"):
            run.log_artifact("model", "/no/such/file")
    with pytest.raises(ValueError, match="trackers names unknown tracker"):
        Run("x", trackers=["nope"], plugin_manager=manager)
    with pytest.raises(RuntimeError, match="already ended as FINISHED"):
        run.end()


def test_signal_handlers_and_excepthook_are_installed_during_the_run_and_restored_after(manager):
    before_term, before_int, before_hook = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), sys.excepthook
    with Run("guarded", trackers=["first"], plugin_manager=manager):
        assert signal.getsignal(signal.SIGTERM) is not before_term
        assert signal.getsignal(signal.SIGINT) is not before_int
        assert sys.excepthook is not before_hook
    assert signal.getsignal(signal.SIGTERM) is before_term
    assert signal.getsignal(signal.SIGINT) is before_int
    assert sys.excepthook is before_hook


def test_sigterm_inside_the_block_ends_the_run_killed(tmp_path, manager):
    from toolkit.run import Terminated

    with pytest.raises(Terminated) as caught:
        with Run("term", trackers=["first"], plugin_manager=manager) as run:
            run.log_metrics({"loss": 1.0}, step=0)
            signal.raise_signal(signal.SIGTERM)
    assert caught.value.code == 128 + signal.SIGTERM
    assert events(tmp_path, "first")[-1] == {"event": "end", "status": "KILLED"}
    assert run.status == "KILLED"


def test_a_users_own_signal_handler_is_left_alone(manager):
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda number, frame: seen.append(number))
    try:
        with Run("own-handler", trackers=["first"], plugin_manager=manager):
            signal.raise_signal(signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
