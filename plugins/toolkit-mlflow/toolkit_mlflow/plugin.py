"""The toolkit-mlflow plugin: registers the ``mlflow`` tracker (MLflow is imported only when a run starts)."""

from __future__ import annotations

from typing import Any

from toolkit.plugin import TrackerSpec, hookimpl


def make_tracker(**options: Any) -> Any:
    """A new :class:`~toolkit_mlflow.tracker.MlflowTracker` for one run."""
    from toolkit_mlflow.tracker import MlflowTracker

    return MlflowTracker(**options)


@hookimpl
def toolkit_register_trackers() -> list[TrackerSpec]:
    return [TrackerSpec(
        name="mlflow", factory=make_tracker,
        description="MLflow: MLFLOW_TRACKING_URI or ./mlflow.db; batched metrics, PNG/CSV/JSON artifacts",
    )]
