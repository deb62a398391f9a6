"""W&B runs read back from their local run folders (``<WANDB_DIR>/wandb/*run-*``), offline or not.

Every W&B run, online ones too, keeps its ``.wandb`` file and its saved files on disk until
``wandb sync`` and beyond, so ``toolkit compare`` and ``toolkit report`` read them here without
a network or an account. A run continued offline (``toolkit recover``, ``toolkit evaluate --run``)
has one more folder with the same run id each time; its folders are read as one run, in order.
"""

from __future__ import annotations

import datetime
import glob
import math
import os
import re
from typing import Any, Optional

from toolkit.plugin import EVALUATION_FOLDER, RunRecord, RunSummary, latest_evaluation_folder, read_logged_files

from toolkit_wandb.offline_run import OfflineRun, read_offline_run
from toolkit_wandb.tracker import EXIT_CODES

_STATUS_OF_EXIT_CODE = {code: status for status, code in EXIT_CODES.items()}
_FOLDER_TIME = re.compile(r"run-(\d{8}_\d{6})-")
# Config keys that the toolkit run wrote as tags (W&B has one config for params and tags).
_TAG_KEY = re.compile(r"^(toolkit\..+|[a-z_]+\.(run_id|location|url))$")


class WandbReader:
    """The W&B runs under one folder.

    :param location: the folder holding ``wandb/`` (default: ``WANDB_DIR``, else the current folder).
    """

    def __init__(self, location: Optional[str] = None, **_tracker_options: Any) -> None:
        self.root = os.path.abspath(location or os.environ.get("WANDB_DIR") or os.getcwd())
        if not os.path.isdir(os.path.join(self.root, "wandb")):
            raise ValueError(f"there are no W&B runs in {self.root} (no wandb/ folder); train first, "
                             "or pass --store (the folder holding wandb/, WANDB_DIR)")

    def location(self) -> str:
        return os.path.join(self.root, "wandb")

    def _folders(self) -> list[str]:
        return [folder for folder in glob.glob(os.path.join(self.root, "wandb", "*run-*"))
                if os.path.isdir(folder) and glob.glob(os.path.join(folder, "run-*.wandb"))]

    def _runs(self) -> dict[str, list[str]]:
        """Run id -> its folders, oldest first."""
        runs: dict[str, list[str]] = {}
        for folder in sorted(self._folders(), key=_folder_order):
            runs.setdefault(_run_id_of(folder), []).append(folder)
        return runs

    def list_runs(self, experiment: Optional[str] = None) -> list[RunSummary]:
        summaries = [self._summary(folders[0], _read_merged(folders)) for folders in self._runs().values()]
        if experiment is not None:
            summaries = [summary for summary in summaries if summary.experiment_name == experiment]
        return sorted(summaries, key=lambda summary: summary.start_time or 0, reverse=True)

    def _summary(self, folder: str, run: OfflineRun, kind: type = RunSummary) -> Any:
        status = run.summary.get("toolkit_status")
        if status is None:
            status = "RUNNING" if run.exit_code is None else _STATUS_OF_EXIT_CODE.get(run.exit_code, "FAILED")
        metrics = {key: float(value) for key, value in run.summary.items()
                   if not key.startswith("_") and _is_number(value)}
        params = {key: _text(value) for key, value in run.config.items() if not _TAG_KEY.match(key)}
        tags = {key: _text(value) for key, value in run.config.items() if _TAG_KEY.match(key)}
        return kind(run_id=run.run_id, run_name=run.name, status=status, tracker="wandb", location=folder,
                    experiment_name=run.project, start_time=_start_time(folder), metrics=metrics,
                    params=params, tags=tags)

    def read_run(self, run_id: str) -> RunRecord:
        folders = self._runs().get(run_id)
        if not folders:
            raise ValueError(f"RUN_ID {run_id!r}: no such run in {self.location()}")
        run = _read_merged(folders)
        record = self._summary(folders[0], run, RunRecord)
        for row in run.history:
            for key, value in row.items():
                if not key.startswith("_") and _is_number(value):
                    record.history.setdefault(key, []).append((int(row.get("_step", 0)), float(value)))
        for folder in reversed(folders):  # the latest evaluation: a later folder's, if it has one
            evaluation = latest_evaluation_folder(os.path.join(folder, "files", EVALUATION_FOLDER))
            if evaluation is not None:
                record.read_evaluation(evaluation)
                break
        for folder in folders:  # what log_file copied there, in every folder of the run
            images, texts = read_logged_files(os.path.join(folder, "files"))
            record.images.update(images)
            record.texts.update(texts)
        return record


def _run_id_of(folder: str) -> str:
    """The run id in the name of the folder's ``run-<id>.wandb`` file."""
    name = os.path.basename(glob.glob(os.path.join(folder, "run-*.wandb"))[0])
    return name[len("run-"):-len(".wandb")]


def _folder_order(folder: str) -> tuple:
    """Oldest first: by the start time in the folder's name, then by when its run file was written."""
    match = _FOLDER_TIME.search(os.path.basename(folder))
    files = glob.glob(os.path.join(folder, "run-*.wandb"))
    return (match.group(1) if match else "", os.path.getmtime(files[0]) if files else 0.0)


def _read_merged(folders: list[str]) -> OfflineRun:
    """One run from its folders, oldest first: later config, summary and exit code over earlier
    ones, histories one after the other; the name and project of the first folder that has them."""
    runs = [read_offline_run(folder) for folder in folders]
    if len(runs) == 1:
        return runs[0]
    merged = OfflineRun(runs[0].path, run_id=runs[0].run_id)
    for run in runs:
        merged.name = merged.name or run.name
        merged.project = merged.project or run.project
        merged.config.update(run.config)
        merged.history.extend(run.history)
        merged.summary.update(run.summary)
        merged.files.extend(run.files)
        merged.artifacts.extend(run.artifacts)
        merged.exit_code = run.exit_code
    return merged


def _start_time(folder: str) -> Optional[int]:
    """Milliseconds since the epoch, from the folder's name (W&B names it by its local start time)."""
    match = _FOLDER_TIME.search(os.path.basename(folder))
    if not match:
        return None
    started = datetime.datetime.strptime(match.group(1), "%Y%m%d_%H%M%S")
    return int(started.timestamp() * 1000)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(value)
