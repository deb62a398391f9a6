"""ToolkitCallback: the Keras callback that hands each finished epoch to the trainer."""

from __future__ import annotations

from typing import Callable, Mapping

import keras


class ToolkitCallback(keras.callbacks.Callback):
    """Calls ``epoch_ended(epoch, logs)`` at the end of every epoch of ``model.fit``.

    Our own callback rather than MLflow's or W&B's: the trainer decides what is logged where,
    and an exception raised by ``epoch_ended`` stops ``fit`` and fails the run.
    """

    def __init__(self, epoch_ended: Callable[[int, Mapping[str, float]], None]) -> None:
        super().__init__()
        self._epoch_ended = epoch_ended

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] = None) -> None:
        self._epoch_ended(epoch, dict(logs or {}))
