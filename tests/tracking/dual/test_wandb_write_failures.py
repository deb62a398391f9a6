"""W&B on a full disk and on a read-only folder, for real: a small tmpfs and a read-only bind mount.

W&B alone reports nothing: on a full disk its file silently ends early (the toolkit used to print
"wandb: FINISHED: 200 metric values" over a file holding 22), and an unwritable folder silently
moves the run to a shared /tmp/wandb. Mounting needs root; elsewhere these tests are skipped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import subprocess
import tempfile

import pytest

from toolkit.run import Run, TrackerError
from toolkit.tracking import TrackingWarning
from toolkit_wandb.offline_run import read_run_file
from toolkit_wandb.tracker import stored_metric_values

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs or a bind mount needs root")]


@contextlib.contextmanager
def mounted(target, *arguments: str):
    target.mkdir(exist_ok=True)
    subprocess.run(["mount", *arguments, str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_full_disk_breaks_the_wandb_tracker_and_the_summary_counts_what_the_file_holds(
        mlflow_store, wandb_offline, tmp_path, monkeypatch):
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=400k", "tmpfs") as small:
        monkeypatch.setenv("WANDB_DIR", str(small))
        run = Run("full-disk", {"lr": 0.1}, trackers=["mlflow", "wandb"], journal_dir=str(tmp_path / "journal"))
        with pytest.warns(TrackingWarning, match=r"tracker 'wandb' failed in finish \(WandbWriteError: "):
            with run:
                with open(small / "filler", "wb") as filler, contextlib.suppress(OSError):
                    filler.write(b"x" * 10_000_000)  # the disk is full from here on
                for step in range(200):
                    run.log_metrics({"loss": 1 / (step + 1)}, step=step)
        (run_file,) = glob.glob(str(small / "wandb" / "offline-run-*" / "run-*.wandb"))
        held = stored_metric_values(read_run_file(run_file))
    assert held < 200
    mlflow_line, wandb_line = run.summary_lines()
    assert re.match(rf"wandb: BROKEN in finish: WandbWriteError: the W&B run file in \S+ holds {held:,} of the "
                    r"200 metric values logged and no exit record; \d[\d,]* bytes free in ", wandb_line), wandb_line
    assert f"before that 1 param, {held:,} metric values" in wandb_line
    assert mlflow_line.startswith("mlflow: FINISHED: 1 param, 200 metric values")
    (stored,) = mlflow_store.runs()
    assert len(mlflow_store.client().get_metric_history(stored.info.run_id, "loss")) == 200


def test_an_unwritable_wandb_folder_is_refused_never_moved_to_a_shared_one(mlflow_store, wandb_offline, tmp_path,
                                                                         monkeypatch):
    source = tmp_path / "source"
    source.mkdir()
    shared = os.path.join(tempfile.gettempdir(), "wandb")
    before = set(glob.glob(os.path.join(shared, "*run-*")))
    with mounted(tmp_path / "read-only", "--bind", str(source)) as folder:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        monkeypatch.setenv("WANDB_DIR", str(folder))
        with pytest.raises(TrackerError, match=rf"^tracker 'wandb' could not start: WandbWriteError: the W&B folder "
                                               rf"{re.escape(str(folder))}/wandb is not writable \(Read-only file "
                                               r"system\); set WANDB_DIR to a writable folder$"):
            Run("read-only", trackers=["mlflow", "wandb"], journal_dir=str(tmp_path / "journal")).start()
    assert set(glob.glob(os.path.join(shared, "*run-*"))) == before
    (stored,) = mlflow_store.runs()  # the MLflow run opened first is closed, not left RUNNING
    assert stored.info.status == "FAILED"
