"""The toolkit-wandb plugin: registers the ``wandb`` tracker (wandb is imported only when a run starts)."""

from __future__ import annotations

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


@hookimpl
def toolkit_register_trackers() -> list[TrackerSpec]:
    return [TrackerSpec(
        name="wandb", factory=make_tracker, reader=make_reader, where_to_look=where_to_look,
        description="Weights & Biases: offline unless WANDB_API_KEY or netrc; native charts",
    )]
