"""The toolkit-wandb plugin: registers the ``wandb`` tracker (wandb is imported only when a run starts)."""

from __future__ import annotations

import os
from typing import Any

from toolkit.plugin import TrackerLink, TrackerSpec, hookimpl


def make_tracker(**options: Any) -> Any:
    """A new :class:`~toolkit_wandb.tracker.WandbTracker` for one run."""
    from toolkit_wandb.tracker import WandbTracker

    return WandbTracker(**options)


def make_reader(**options: Any) -> Any:
    """A :class:`~toolkit_wandb.reader.WandbReader` over the local W&B run folders."""
    from toolkit_wandb.reader import WandbReader

    return WandbReader(**options)


def where_to_look(link: TrackerLink) -> list[str]:
    """The run's page when online, else its folder and the command that uploads it."""
    if link.url:
        return [f"wandb: {link.url}"]
    return [f"wandb: offline run in {link.location}; upload it with: wandb sync {link.location}"]


def sandbox(folder: str) -> dict:
    """Offline runs inside ``folder``, with W&B's own settings, cache and data folders there too,
    and no API key from the environment or ~/.netrc."""
    home = os.path.join(folder, "wandb-home")
    return {
        "WANDB_MODE": "offline", "WANDB_DIR": folder, "WANDB_CACHE_DIR": os.path.join(home, "cache"),
        "WANDB_CONFIG_DIR": os.path.join(home, "config"), "WANDB_DATA_DIR": os.path.join(home, "data"),
        "WANDB_ARTIFACT_DIR": os.path.join(home, "artifacts"), "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true", "NETRC": os.path.join(folder, "no-netrc"),
        "WANDB_API_KEY": None, "WANDB_BASE_URL": None, "WANDB_ENTITY": None, "WANDB_PROJECT": None,
        "WANDB_IDENTITY_TOKEN_FILE": None, "WANDB_SERVICE": None,  # programs started here get their own service
    }


@hookimpl
def toolkit_register_trackers() -> list[TrackerSpec]:
    return [TrackerSpec(
        name="wandb", factory=make_tracker, reader=make_reader, where_to_look=where_to_look, sandbox=sandbox, experiment_option="project",
        description="Weights & Biases: offline unless WANDB_API_KEY or netrc; native charts",
    )]
