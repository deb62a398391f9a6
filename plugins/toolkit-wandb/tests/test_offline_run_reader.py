"""The ``.wandb`` reader: records spanning several 32 KiB blocks, and a file torn by a killed writer."""

from __future__ import annotations

import glob
import os
import shutil

import pytest

from toolkit.run import Run
from toolkit_wandb.offline_run import iter_record_bytes, read_offline_run, read_run_file


def test_a_run_larger_than_several_blocks_reads_back_whole(wandb_offline):
    long_text = "p" * 5000  # params of 5,000 characters make records that span blocks
    with Run("big", {f"note{index}": long_text for index in range(20)}, trackers=["wandb"]) as run:
        for step in range(300):
            run.log_metrics({f"metric{index}": step + index / 100 for index in range(12)}, step=step)
    (stored,) = wandb_offline.runs()
    (path,) = glob.glob(os.path.join(wandb_offline.run_folders()[0], "run-*.wandb"))
    assert os.path.getsize(path) > 4 * 32768
    assert all(stored.config[f"note{index}"] == long_text for index in range(20))
    assert stored.metric("metric7") == [(step, step + 0.07) for step in range(300)]


def test_a_torn_file_yields_the_records_before_the_tear(wandb_offline, tmp_path):
    with Run("torn", trackers=["wandb"]) as run:
        for step in range(50):
            run.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
    wandb_offline.runs()  # waits until W&B's writer has written the whole file
    (path,) = glob.glob(os.path.join(wandb_offline.run_folders()[0], "run-*.wandb"))
    whole = list(iter_record_bytes(path))
    torn = tmp_path / "torn.wandb"
    shutil.copyfile(path, torn)
    with open(torn, "r+b") as handle:
        handle.truncate(os.path.getsize(path) - 20)
    kept = list(iter_record_bytes(str(torn)))
    assert 0 < len(kept) < len(whole) and kept == whole[:len(kept)]
    assert read_run_file(str(torn)).exit_code is None


def test_a_file_that_is_not_a_wandb_log_is_refused(tmp_path):
    folder = tmp_path / "offline-run-x"
    folder.mkdir()
    (folder / "run-x.wandb").write_bytes(b"not a wandb file")
    with pytest.raises(ValueError, match="is not a W&B run file"):
        read_offline_run(str(folder))
