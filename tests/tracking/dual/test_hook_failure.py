"""A plugin whose lifecycle hook raises ends every open run FAILED, the plugin named in toolkit.error.

Before, a raise in ``toolkit_run_started`` left both runs open; they closed FINISHED, with nothing
in them, at interpreter exit.
"""

from __future__ import annotations

import pytest

from toolkit.plugin import create_plugin_manager, hookimpl
from toolkit.run import PluginHookError, Run


class ExplodingPlugin:
    @hookimpl
    def toolkit_run_started(self, run):
        raise RuntimeError("the notifier cannot reach its chat server")


class QuietPlugin:
    @hookimpl
    def toolkit_run_started(self, run):
        pass


def test_a_raising_run_started_hook_fails_both_runs_naming_the_plugin(mlflow_store, wandb_offline, tmp_path):
    manager = create_plugin_manager()
    manager.register(QuietPlugin(), "quiet")
    manager.register(ExplodingPlugin(), "exploding-notifier")
    run = Run("hook-fails", {"lr": 0.1}, trackers=["mlflow", "wandb"], plugin_manager=manager,
              journal_dir=str(tmp_path / "journal"))
    reason = ("plugin 'exploding-notifier' failed in toolkit_run_started: "
              "RuntimeError: the notifier cannot reach its chat server")
    with pytest.raises(PluginHookError, match=f"^{reason}$"):
        with run:
            pytest.fail("the block must not run when toolkit_run_started raised")
    assert run.status == "FAILED"
    (stored,) = mlflow_store.runs()
    assert stored.info.status == "FAILED" and stored.info.end_time is not None
    assert stored.data.tags["toolkit.error"] == reason
    (wandb_run,) = wandb_offline.runs()
    assert wandb_run.exit_code == 1 and wandb_run.summary["toolkit_status"] == "FAILED"
    assert wandb_run.config["toolkit.error"] == reason
