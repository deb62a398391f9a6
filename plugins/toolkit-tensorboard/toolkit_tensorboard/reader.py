"""TensorBoard runs read back with TensorBoard's own event reader (``EventAccumulator``)."""

from __future__ import annotations

import glob
import os
from typing import Any, Optional

from toolkit.plugin import EVALUATION_FOLDER, RunRecord, RunSummary, latest_evaluation_folder

from toolkit_tensorboard import events
from toolkit_tensorboard.logdir import default_logdir



class TensorBoardReader:
    """The toolkit runs in one TensorBoard log folder.

    :param location: the log folder (default: ``TOOLKIT_TENSORBOARD_DIR``, else ./tensorboard).
    :param logdir: the same, under the name the tracker's own option has.
    """

    def __init__(self, location: Optional[str] = None, logdir: Optional[str] = None, **_tracker_options: Any) -> None:
        self.logdir = os.path.abspath(location or logdir or default_logdir())
        if not os.path.isdir(self.logdir):
            raise ValueError(f"there are no TensorBoard runs in {self.logdir}; train first, or pass --store "
                             "(the log folder, TOOLKIT_TENSORBOARD_DIR)")

    def location(self) -> str:
        return self.logdir

    def _folders(self) -> list[str]:
        return sorted({os.path.dirname(path) for path in glob.glob(os.path.join(self.logdir, "*", "events.out.tfevents.*"))})

    def list_runs(self, experiment: Optional[str] = None) -> list[RunSummary]:
        summaries = [self._read(folder, RunSummary)[0] for folder in self._folders()]
        return sorted(summaries, key=lambda summary: summary.start_time or 0, reverse=True)

    def read_run(self, run_id: str) -> RunRecord:
        folders = [folder for folder in self._folders() if folder.endswith(f"-{run_id}")]
        if not folders:
            raise ValueError(f"RUN_ID {run_id!r}: no such run in {self.logdir}")
        record, accumulator = self._read(folders[0], RunRecord)
        for tag in _scalar_tags(accumulator):
            record.history[tag] = [(event.step, events.scalar_of(event)) for event in accumulator.Tensors(tag)]
        evaluation = latest_evaluation_folder(os.path.join(folders[0], EVALUATION_FOLDER))
        if evaluation is not None:
            record.read_evaluation(evaluation)
        record.read_files(os.path.join(folders[0], "files"))  # what log_file copied there
        return record

    def _read(self, folder: str, kind: type) -> tuple:
        from tensorboard.backend.event_processing import event_accumulator

        # 0: keep every tensor event (the scalars and the toolkit's text); images are not read back.
        accumulator = event_accumulator.EventAccumulator(
            folder, size_guidance={event_accumulator.TENSORS: 0, event_accumulator.IMAGES: 1})
        accumulator.Reload()
        tags = accumulator.Tags()

        def last_text(tag: str) -> dict:
            return events.text_of(accumulator.Tensors(tag)[-1]) if tag in tags["tensors"] else {}

        run, status = last_text(events.RUN_TAG), last_text(events.STATUS_TAG)
        summary = kind(
            run_id=run.get("run_id", os.path.basename(folder)), run_name=run.get("name", ""),
            status=status.get("status", "RUNNING"), tracker="tensorboard", location=folder,
            start_time=run.get("start_time"), end_time=status.get("end_time"),
            metrics={tag: events.scalar_of(accumulator.Tensors(tag)[-1]) for tag in _scalar_tags(accumulator)},
            params={key: str(value) for key, value in last_text(events.PARAMS_TAG).items()},
            tags=last_text(events.TAGS_TAG),
        )
        return summary, accumulator


def _scalar_tags(accumulator: Any) -> list[str]:
    return [tag for tag in accumulator.Tags()["tensors"] if events.is_scalar(accumulator, tag)]
