"""The toolkit-tensorboard plugin: registers the ``tensorboard`` tracker (TensorBoard is imported only when used)."""

from __future__ import annotations

import os
from typing import Any

from toolkit.plugin import TrackerLink, TrackerSpec, hookimpl

from toolkit_tensorboard.logdir import LOGDIR_ENVIRONMENT_VARIABLE

def make_tracker(**options: Any) -> Any:
    """A new :class:`~toolkit_tensorboard.tracker.TensorBoardTracker` for one run."""
    from toolkit_tensorboard.tracker import TensorBoardTracker

    return TensorBoardTracker(**options)


def make_reader(**options: Any) -> Any:
    """A :class:`~toolkit_tensorboard.reader.TensorBoardReader` over a log folder."""
    from toolkit_tensorboard.reader import TensorBoardReader

    return TensorBoardReader(**options)


def where_to_look(link: TrackerLink) -> list[str]:
    return [f"tensorboard: tensorboard --logdir {os.path.dirname(link.location)}   (then open http://127.0.0.1:6006)"]


def sandbox(folder: str) -> dict:
    """Event files inside ``folder``."""
    return {LOGDIR_ENVIRONMENT_VARIABLE: folder}


@hookimpl
def toolkit_register_trackers() -> list[TrackerSpec]:
    return [TrackerSpec(
        name="tensorboard", factory=make_tracker, reader=make_reader, where_to_look=where_to_look,
        sandbox=sandbox,
        description="TensorBoard: event files in TOOLKIT_TENSORBOARD_DIR or ./tensorboard; scalars, images, text",
    )]
