"""The CLI's two kinds of failure: a user's mistake is one line and exit 2; a bug keeps its traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import toolkit
from toolkit.cli import is_usage_error


def _raised(function) -> BaseException:
    with pytest.raises(ValueError) as caught:
        function()
    return caught.value


def test_a_usage_error_or_a_toolkit_check_is_a_user_mistake():
    assert is_usage_error(_raised(lambda: toolkit.evaluate([0, 1, 1], [0, 1])))  # lengths differ
    assert is_usage_error(_raised(lambda: toolkit.evaluate([0, 1], [0, 1], threshold_targets={"f1": 0.5})))
    assert is_usage_error(toolkit.UsageError("--limit must be positive"))


def test_a_value_error_from_numpy_or_from_outside_the_toolkit_is_a_bug():
    assert not is_usage_error(_raised(lambda: np.zeros(3).reshape(2)))

    def broken_plugin_code():
        raise ValueError("a plugin's own bug")

    assert not is_usage_error(_raised(broken_plugin_code))  # raised here, in a test module


def test_the_cli_prints_a_mistake_in_one_line_with_exit_code_2(tmp_path):
    np.save(tmp_path / "y.npy", np.array([0, 1, 1]))
    np.save(tmp_path / "p.npy", np.array([0, 1]))
    completed = subprocess.run([sys.executable, "-m", "toolkit.cli", "evaluate", "--y-true", "y.npy",
                                "--y-pred", "p.npy"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "toolkit evaluate: error: y_pred has 2 values but y_true has 3"]


def test_the_cli_shows_a_bug_with_its_traceback(monkeypatch):
    from toolkit import cli
    from toolkit.commands import plugins as plugins_command

    def bug(args):
        return np.zeros(3).reshape(2)  # numpy's ValueError: not the user's doing

    monkeypatch.setattr(plugins_command, "run", bug)  # the parser is built after this, so it runs bug
    with pytest.raises(ValueError, match="reshape"):
        cli.main(["plugins"])
