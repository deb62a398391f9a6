"""The toolkit-wandb plugin: registers the ``wandb`` tracker (wandb is imported only when a run starts)."""

from __future__ import annotations

from typing import Any

from toolkit.plugin import TrackerSpec, hookimpl


def make_tracker(**options: Any) -> Any:
    """A new :class:`~toolkit_wandb.tracker.WandbTracker` for one run."""
    from toolkit_wandb.tracker import WandbTracker

    return WandbTracker(**options)


@hookimpl
def toolkit_register_trackers() -> list[TrackerSpec]:
    return [TrackerSpec(
        name="wandb", factory=make_tracker,
        description="Weights & Biases: offline unless WANDB_API_KEY or netrc; native charts",
    )]
