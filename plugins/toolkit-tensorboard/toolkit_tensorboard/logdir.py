"""Where runs go: the ``logdir`` option, else TOOLKIT_TENSORBOARD_DIR, else ./tensorboard."""

from __future__ import annotations

import os

LOGDIR_ENVIRONMENT_VARIABLE = "TOOLKIT_TENSORBOARD_DIR"


def default_logdir() -> str:
    return os.path.abspath(os.environ.get(LOGDIR_ENVIRONMENT_VARIABLE) or "tensorboard")
