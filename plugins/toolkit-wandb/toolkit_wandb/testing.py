"""pytest fixtures for real offline W&B runs in a test's folder, read back from their ``.wandb`` files.

Import the fixture into a conftest.py::

    from toolkit_wandb.testing import wandb_offline  # noqa: F401
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import pytest

from toolkit_wandb.offline_run import OfflineRun, read_offline_run

# W&B's writer runs in its own process and may finish writing a little after run.finish().
WRITER_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class WandbFolder:
    """The folder W&B writes runs into (``WANDB_DIR``) for one test."""

    root: str

    def run_folders(self) -> list[str]:
        """Every run folder, oldest first."""
        return sorted(glob.glob(os.path.join(self.root, "wandb", "*run-*")), key=os.path.getmtime)

    def runs(self) -> list[OfflineRun]:
        """Every finished run, read back once W&B's writer has written its exit record."""
        return [read_offline_run(folder, wait_seconds=WRITER_WAIT_SECONDS) for folder in self.run_folders()]

    def run(self, run_id: str) -> OfflineRun:
        (folder,) = [folder for folder in self.run_folders() if folder.endswith(f"-{run_id}")]
        return read_offline_run(folder, wait_seconds=WRITER_WAIT_SECONDS)


@pytest.fixture
def wandb_offline(tmp_path, monkeypatch: pytest.MonkeyPatch) -> WandbFolder:
    """W&B writing into the test's folder with no API key anywhere (so: offline), and its own
    settings and cache folders, so nothing outside the test's folder is read or written."""
    # WANDB_SERVICE: W&B's service of this test process (set by an earlier test's run); a program the
    # test starts must start its own, or a run it leaves (killed) stays locked in ours.
    for name in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL",
                 "WANDB_PROJECT", "WANDB_ENTITY", "WANDB_INIT_TIMEOUT", "WANDB_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    for name, folder in (("WANDB_CONFIG_DIR", "config"), ("WANDB_CACHE_DIR", "cache"),
                         ("WANDB_DATA_DIR", "data"), ("WANDB_ARTIFACT_DIR", "artifacts")):
        monkeypatch.setenv(name, str(tmp_path / "wandb-home" / folder))
    return WandbFolder(str(tmp_path))
