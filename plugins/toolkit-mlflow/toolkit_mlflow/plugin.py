"""The toolkit-mlflow plugin: registers the ``mlflow`` tracker (MLflow is imported only when a run starts)."""

from __future__ import annotations

from typing import Any

from toolkit.plugin import TrackerLink, TrackerSpec, hookimpl


def make_tracker(**options: Any) -> Any:
    """A new :class:`~toolkit_mlflow.tracker.MlflowTracker` for one run."""
    from toolkit_mlflow.tracker import MlflowTracker

    return MlflowTracker(**options)


def make_reader(**options: Any) -> Any:
    """A :class:`~toolkit_mlflow.reader.MlflowReader` over the store the tracker would write to."""
    from toolkit_mlflow.reader import MlflowReader

    return MlflowReader(**options)


def where_to_look(link: TrackerLink) -> list[str]:
    """How to open the run: its page on a server, else ``mlflow ui`` on the store."""
    if link.url:
        return [f"mlflow: {link.url}"]
    return [f"mlflow: mlflow ui --backend-store-uri {link.location}   (then open http://127.0.0.1:5000)"]


def sandbox(folder: str) -> dict:
    """A SQLite store inside ``folder``, MLflow's default experiment."""
    return {"MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlflow.db", "MLFLOW_EXPERIMENT_NAME": None,
            "MLFLOW_EXPERIMENT_ID": None}


@hookimpl
def toolkit_register_trackers() -> list[TrackerSpec]:
    # default=True: the toolkit is MLflow-based, so runs go to MLflow unless configured otherwise.
    return [TrackerSpec(
        name="mlflow", factory=make_tracker, reader=make_reader, where_to_look=where_to_look, default=True,
        sandbox=sandbox,
        description="MLflow: MLFLOW_TRACKING_URI or ./mlflow.db; batched metrics, PNG/CSV/JSON artifacts",
    )]
