"""The run journal on disk: torn lines, liveness by lock, what a clean run leaves, argument checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from toolkit.plugin import TrackerLink, TrackerSpec, create_plugin_manager, hookimpl
from toolkit.run import Run
from toolkit.tracking import journal as journals


class ListTracker:
    """A tracker whose store is a list: enough to see what the journal delivers, in order."""

    def __init__(self, store: list) -> None:
        self.store = store

    def start(self, run_name):
        return TrackerLink("list", "run-1", "memory")

    def __getattr__(self, method):
        if method in ("log_params", "log_metrics", "log_evaluation", "log_file", "set_tags", "finish"):
            return lambda *arguments: self.store.append((method, *arguments))
        raise AttributeError(method)

    def describe(self):
        return "a list"


@pytest.fixture
def store() -> list:
    return []


@pytest.fixture
def manager(store):
    class ListPlugin:
        @hookimpl
        def toolkit_register_trackers(self):
            return [TrackerSpec("list", lambda: ListTracker(store))]

    plugins = create_plugin_manager(load_entry_points=False)
    plugins.register(ListPlugin(), "list")
    return plugins


def test_a_torn_last_line_is_left_out_and_cut_off_when_the_journal_is_taken_over(tmp_path):
    journal = journals.Journal.create(str(tmp_path), {"name": "torn"})
    journal.append("metrics", step=0, values={"loss": float("nan")}, timestamp=1)
    journal.close(remove=False)
    with open(journal.path, "ab") as handle:
        handle.write(b'{"seq": 2, "op": "metr')  # a process killed in the middle of a write
    records = [record for record, _ in journals.read_records(journal.path)]
    assert [record["op"] for record in records] == ["open", "metrics"]
    assert records[1]["values"]["loss"] != records[1]["values"]["loss"]  # NaN kept
    taken = journals.Journal.reopen(journal.path)
    assert taken.seq == 2 and os.path.getsize(journal.path) == taken.offset
    taken.append("end", status="KILLED")
    taken.close(remove=False)
    info = journals.read_info(journal.path)
    assert info.end["status"] == "KILLED" and info.last_seq == 2


def test_a_journal_is_alive_while_its_process_holds_it_and_dead_after_sigkill(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from toolkit.tracking.journal import Journal
        journal = Journal.create({str(tmp_path)!r}, {{"name": "child"}})
        journal.append("link", tracker="mlflow", run_id="abc123", location="sqlite:///x.db", url=None)
        print("ready", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert journals.dead_runs(str(tmp_path)) == [] and not journals.is_dead("abc123", str(tmp_path))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    (dead,) = journals.dead_runs(str(tmp_path))
    assert dead.header["pid"] == child.pid and dead.end is None and dead.run_ids() == {"mlflow": "abc123"}
    assert journals.is_dead("abc123", str(tmp_path)) and not journals.is_dead("other", str(tmp_path))


def test_a_run_whose_tracker_took_everything_leaves_no_journal(tmp_path, manager, store):
    folder = tmp_path / "journal"
    with Run("clean", {"lr": 0.1}, trackers=["list"], plugin_manager=manager, journal_dir=str(folder)) as run:
        assert os.path.dirname(run.journal.path) == str(folder)
        run.log_metrics({"loss": 1.0}, step=0)
        (info,) = [journals.read_info(path) for path in journals.find_journals(str(folder))]
        assert set(info.links) == {"list"} and info.end is None
        assert info.acks["list"][0] == info.last_seq and info.pending == {"list": {}}  # acknowledged as it went
    assert os.listdir(folder) == []
    assert store == [("log_params", {"lr": 0.1}), ("log_metrics", {"loss": 1.0}, 0), ("finish", "FINISHED")]


def test_bad_delivery_timeouts_are_refused_by_name(manager, monkeypatch):
    with pytest.raises(ValueError, match=r"^delivery_timeout must be a number of seconds >= 0, got -1$"):
        Run("bad", trackers=["list"], plugin_manager=manager, delivery_timeout=-1)
    monkeypatch.setenv("TOOLKIT_DELIVERY_TIMEOUT", "a minute")
    with pytest.raises(ValueError, match=r"^TOOLKIT_DELIVERY_TIMEOUT must be a number of seconds, got 'a minute'$"):
        Run("bad", trackers=["list"], plugin_manager=manager)


def test_recover_refuses_bad_arguments_by_name_and_finds_nothing_in_an_empty_folder(tmp_path, capsys):
    from toolkit.cli import main

    assert main(["recover", "--timeout", "-1"]) == 2
    assert "toolkit recover: error: --timeout must be a number of seconds >= 0, got -1.0" in capsys.readouterr().err
    assert main(["recover", "--journal-dir", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["recover", "--dry-run", "--journal-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no run to recover in {tmp_path}\n"
