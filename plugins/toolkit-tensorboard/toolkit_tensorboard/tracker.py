"""The TensorBoard tracker: one folder of event files per toolkit run, under one log folder.

Scalars go out per step; each evaluation's confusion matrix and curves become images; params,
tags and the run's status are text. The evaluation's files (the same in every tracker) are kept
beside the event file, in ``evaluation/``, so a run can be read back whole.
"""

from __future__ import annotations

import datetime
import os
import shutil
import time
import uuid
from typing import Any, Mapping, Optional

from toolkit.plugin import (
    RUN_STATUSES, EvaluationReport, TrackerLink, confusion_figure, curves_figure, evaluation_folder_name, json_ready,
)

from toolkit_tensorboard import events
from toolkit_tensorboard.logdir import default_logdir

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class TensorBoardTracker:
    """Records one run as TensorBoard event files.

    :param logdir: the log folder (default: ``TOOLKIT_TENSORBOARD_DIR``, else ./tensorboard);
        ``tensorboard --logdir`` there shows every run.
    :param flush_seconds: how often TensorBoard's writer flushes on its own; ``finish`` always flushes.
    """

    def __init__(self, logdir: Optional[str] = None, flush_seconds: float = 5.0) -> None:
        self.logdir = os.path.abspath(logdir) if logdir else default_logdir()
        self._flush_seconds = flush_seconds
        self._writer: Any = None
        self._params: dict[str, Any] = {}
        self._tags: dict[str, str] = {}
        self._step = 0
        self.run_id: Optional[str] = None
        self.folder: Optional[str] = None

    def start(self, run_name: Optional[str]) -> TrackerLink:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.run_id = uuid.uuid4().hex[:16]
        started = time.time()
        stamp = datetime.datetime.fromtimestamp(started).strftime("%Y%m%d-%H%M%S")
        self.folder = os.path.join(self.logdir, f"{stamp}-{self.run_id}")
        os.makedirs(self.folder)
        self._writer = EventFileWriter(self.folder, flush_secs=self._flush_seconds)
        self._writer.add_event(events.text_event(events.RUN_TAG, {
            "run_id": self.run_id, "name": run_name or "", "start_time": int(started * 1000)}))
        return TrackerLink("tensorboard", self.run_id, self.folder)

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._params.update(params)  # the whole set each time: the reader takes the last
        self._writer.add_event(events.text_event(events.PARAMS_TAG, json_ready(self._params)))

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self._tags.update({key: str(value) for key, value in tags.items()})
        self._writer.add_event(events.text_event(events.TAGS_TAG, self._tags))

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self._writer.add_event(events.scalars_event(dict(metrics), step))
        self._step = step

    def log_evaluation(self, report: EvaluationReport, step: Optional[int]) -> None:
        at = step if step is not None else self._step
        figures = {"confusion_matrix": confusion_figure(report.confusion_matrix, report.labels)}
        for name, curves in report.curves.items():
            if curves:
                figures[name] = curves_figure(curves[0].kind, curves, curves[0].x_name, curves[0].y_name)
        if report.thresholds is not None:
            figures["threshold_analysis"] = report.thresholds.figure()
        for name, figure in figures.items():
            self._writer.add_event(events.image_event(f"evaluation/{name}", events.figure_png(figure), at))
        folder = os.path.join(self.folder, evaluation_folder_name(step))
        os.makedirs(folder, exist_ok=True)
        report.write_files(folder)

    def log_file(self, name: str, path: str) -> None:
        target = os.path.join(self.folder, "files", name, os.path.basename(os.path.normpath(path)))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(path):
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, target)
            if target.lower().endswith(IMAGE_SUFFIXES):  # a picture also goes to TensorBoard's Images tab
                with open(target, "rb") as handle:
                    self._writer.add_event(events.image_event(name, handle.read(), self._step))

    def finish(self, status: str) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, got {status!r}")
        if self._writer is None:
            return
        try:
            self._writer.add_event(events.text_event(events.STATUS_TAG, {
                "status": status, "end_time": int(time.time() * 1000)}))
        finally:
            self._writer.close()  # flushes: the run is on disk when finish returns
            self._writer = None

    def describe(self) -> str:
        return f"run {self.run_id} in {self.folder} (tensorboard --logdir {self.logdir})"
