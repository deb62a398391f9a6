"""TOOLKIT_TRACE_PLUGINS=1 and ``toolkit --trace-plugins``: every hook call, who answered, and how long it took."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import toolkit
from toolkit.plugin import create_plugin_manager, hookimpl


class SlowObserver:
    """Takes 30 ms to notice that a run ended."""

    @hookimpl
    def toolkit_run_ended(self, run, status):
        time.sleep(0.03)


class Declines:
    @hookimpl
    def toolkit_model_adapter(self, model):
        return None


class Adapts:
    @hookimpl
    def toolkit_model_adapter(self, model):
        return "an adapter"


class Raises:
    @hookimpl
    def toolkit_run_started(self, run):
        raise RuntimeError("observer broke")


def _trace_lines(text):
    return [line[len("[toolkit trace] "):] for line in text.splitlines() if line.startswith("[toolkit trace] ")]


def test_every_hook_call_is_traced_with_the_plugins_and_their_time(monkeypatch, capsys):
    monkeypatch.setenv("TOOLKIT_TRACE_PLUGINS", "1")
    manager = create_plugin_manager(load_entry_points=False, include_script_metrics=False)
    manager.register(SlowObserver(), "slow-observer")
    toolkit.evaluate([0, 1, 1, 0], [0, 1, 0, 0], plugin_manager=manager)
    lines = _trace_lines(capsys.readouterr().err)
    assert lines[0] == "plugin core (toolkit) implements: toolkit_register_statistics"
    started = [line for line in lines if line.startswith("toolkit_run_started(")]
    assert started and started[0].endswith("no plugin implements it")
    index = next(i for i, line in enumerate(lines) if line.startswith("toolkit_run_ended("))
    assert "status='FINISHED'" in lines[index] and "1 implementation(s), -> []" in lines[index]
    answer = re.fullmatch(r"  slow-observer \(<local>\): ([0-9.]+) ms -> None", lines[index + 1])
    assert answer, lines[index + 1]
    assert 30 <= float(answer.group(1)) < 1000  # its own time, measured around the implementation


def test_a_first_result_hook_shows_who_answered_and_who_was_not_asked(monkeypatch, capsys):
    monkeypatch.setenv("TOOLKIT_TRACE_PLUGINS", "yes")
    manager = create_plugin_manager(load_entry_points=False, include_script_metrics=False)
    manager.register(Adapts(), "adapts")      # registered first: called last
    manager.register(Declines(), "declines")
    manager.register(Adapts(), "adapts-too")  # registered last: called first, and answers
    assert manager.get_model_adapter(object()) == "an adapter"
    lines = _trace_lines(capsys.readouterr().err)
    index = next(i for i, line in enumerate(lines) if line.startswith("toolkit_model_adapter("))
    assert lines[index].endswith("3 implementation(s), -> 'an adapter'")
    assert re.fullmatch(r"  adapts-too \(<local>\): [0-9.]+ ms -> 'an adapter'", lines[index + 1])
    assert lines[index + 2] == "  not called (a result came first, or a plugin raised): adapts, declines"


def test_a_raising_hook_is_traced_as_raising(monkeypatch, capsys):
    monkeypatch.setenv("TOOLKIT_TRACE_PLUGINS", "1")
    manager = create_plugin_manager(load_entry_points=False, include_script_metrics=False)
    manager.register(Raises(), "raises")
    with pytest.raises(RuntimeError, match="observer broke"):
        manager.hook.toolkit_run_started(run=None)
    lines = _trace_lines(capsys.readouterr().err)
    assert "toolkit_run_started(run=None): " in lines[-2] and "raised RuntimeError('observer broke')" in lines[-2]
    assert re.fullmatch(r"  raises \(<local>\): [0-9.]+ ms raised RuntimeError\('observer broke'\)", lines[-1])


@pytest.mark.parametrize("value", [None, "0", "off"])
def test_nothing_is_traced_unless_asked(monkeypatch, capsys, value):
    if value is None:
        monkeypatch.delenv("TOOLKIT_TRACE_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("TOOLKIT_TRACE_PLUGINS", value)
    manager = create_plugin_manager()
    manager.get_model_adapter(object())
    assert "[toolkit trace]" not in capsys.readouterr().err


def test_the_cli_flag_traces_a_real_command(tmp_path):
    np.save(tmp_path / "true.npy", np.array([0, 1, 1, 0]))
    np.save(tmp_path / "pred.npy", np.array([0, 1, 0, 0]))
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TOOLKIT_TRACE_PLUGINS", "TOOLKIT_DISABLE_PLUGINS")}
    completed = subprocess.run(
        [sys.executable, "-m", "toolkit.cli", "--trace-plugins", "evaluate", "--y-true", str(tmp_path / "true.npy"),
         "--y-pred", str(tmp_path / "pred.npy")], capture_output=True, text=True, env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr
    lines = _trace_lines(completed.stderr)
    assert ("plugin metrics (toolkit-metrics) implements: toolkit_register_metrics, "
            "toolkit_register_statistics") in lines
    assert any(line.startswith("toolkit_run_ended(") for line in lines)
    assert "accuracy" in completed.stdout and "[toolkit trace]" not in completed.stdout
