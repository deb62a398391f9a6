"""The MLflow tracker: one MLflow run per toolkit run, through ``MlflowClient`` (never the fluent API).

The client keeps no process-wide "active run" and adds no tags from the environment (the fluent
API records the user name and the command line), so only what the toolkit run sends is stored.
Metrics are buffered and sent with ``log_batch`` (at most 1,000 values per request); the run's
status is always set with an end time.

The run is shaped the way MLflow's UI reads a training run: its experiment carries
``mlflow.experimentKind=custom_model_development`` (the model-training view), the command that
made it is its source, its data sets are run inputs, the trained model is a logged model in
its framework's flavor, and its description says what it was and how it ended.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Mapping, Optional

from toolkit.plugin import (
    COMMAND_TAG, RUN_STATUSES, DatasetDescription, EvaluationReport, ModelDescription, TrackerLink,
    evaluation_folder_name, param_text, strip_url_credentials,
)

from toolkit_mlflow import notes, store

# MLflow's per-request limits (mlflow.utils.validation).
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
# MLflow error codes of a store that is out for a while, not of a refused request.
TRANSIENT_ERROR_CODES = ("TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR", "REQUEST_LIMIT_EXCEEDED", "DEADLINE_EXCEEDED")
# The experiment tag that switches MLflow's UI between its GenAI and model-training views.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"
UI_WORKFLOW = "machine_learning"  # the UI's name for the model-training view


class MlflowTracker:
    """Records one run in MLflow.

    :param tracking_uri: the store; default ``MLFLOW_TRACKING_URI``, else MLflow's own default
        (``sqlite:///mlflow.db`` in the current folder, so ``mlflow ui`` there shows the runs).
        A SQLite store created here keeps the runs' files in ``mlruns`` beside the database.
    :param experiment_name: default ``MLFLOW_EXPERIMENT_NAME``, else MLflow's "Default".
    :param flush_every: send buffered metric values once this many are waiting.
    :param flush_seconds: ... or once the oldest has waited this long (checked on each call).
    :param run_id: record into this existing run instead of creating one (it is left open at
        ``finish``: its owner ends it), as the ``toolkit`` evaluator of ``mlflow.models.evaluate`` does.
    """

    def __init__(
        self,
        tracking_uri: Optional[str] = None,
        experiment_name: Optional[str] = None,
        flush_every: int = MAX_METRICS_PER_BATCH,
        flush_seconds: float = 5.0,
        run_id: Optional[str] = None,
    ) -> None:
        if not 1 <= flush_every <= MAX_METRICS_PER_BATCH:
            raise ValueError(f"flush_every must be between 1 and {MAX_METRICS_PER_BATCH}, got {flush_every}")
        self._tracking_uri = tracking_uri
        self._experiment_name = experiment_name
        self._flush_every = flush_every
        self._flush_seconds = flush_seconds
        self._client: Any = None
        self._http: Optional[store.BoundedHttp] = None
        self._buffer: list = []
        self._oldest: Optional[float] = None
        self._attached = run_id is not None
        self._reopened = False
        self.run_id: Optional[str] = run_id
        self.experiment_id: Optional[str] = None
        self.tracking_uri: Optional[str] = None
        self.requests = 0  # log_batch calls for metrics, reported by the benchmark
        self.note = notes.RunNote()
        self.model_info: Optional[dict] = None  # where log_model put the model
        self._last_step = 0

    # --- opening --------------------------------------------------------------------------------

    def start(self, run_name: Optional[str]) -> TrackerLink:
        import mlflow
        from mlflow import MlflowClient

        uri = self._tracking_uri or mlflow.get_tracking_uri()
        self.tracking_uri = uri
        if store.is_http(uri):
            self._http = store.BoundedHttp().__enter__()
        try:
            with store.store_creation_lock(uri):
                database = store.sqlite_path(uri)
                if database is not None and not os.path.exists(database):
                    store.sqlite_store(uri)  # creates the Default experiment with files beside the database
                client = MlflowClient(tracking_uri=uri)
                try:
                    if self._attached:
                        self.experiment_id = client.get_run(self.run_id).info.experiment_id
                        self._client = client
                        return TrackerLink("mlflow", self.run_id, self.display_uri, self.run_url)
                    self.experiment_id = self._experiment_id(client)
                except Exception as error:
                    if store.is_http(uri):
                        raise ConnectionError(
                            f"the MLflow server {self.display_uri} did not answer "
                            f"({_first_line(error)}); start it or fix MLFLOW_TRACKING_URI"
                        ) from None
                    raise
            run = client.create_run(self.experiment_id, run_name=run_name)
        except BaseException:
            self._release_http()
            raise
        self._client = client
        self.run_id = run.info.run_id
        return TrackerLink("mlflow", self.run_id, self.display_uri, self.run_url)

    def _experiment_id(self, client: Any) -> str:
        from mlflow.exceptions import MlflowException

        name = self._experiment_name or os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if not name:
            experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
            # MLflow's "Default" (id 0) unless one is named; getting it also opens the store
            return _mark_training_kind(client, client.get_experiment(experiment_id or "0"))
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return _mark_training_kind(client, experiment)
        try:
            if store.sqlite_path(client.tracking_uri) is not None:  # its files beside the database
                from mlflow.entities import ExperimentTag

                return store.sqlite_store(client.tracking_uri).create_experiment(
                    name, tags=[ExperimentTag(EXPERIMENT_KIND_TAG, TRAINING_KIND)])
            return client.create_experiment(name, tags={EXPERIMENT_KIND_TAG: TRAINING_KIND})
        except MlflowException:  # another process (a server's other client) created it first
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return _mark_training_kind(client, experiment)

    @property
    def display_uri(self) -> str:
        return strip_url_credentials(self.tracking_uri or "")

    @property
    def run_url(self) -> Optional[str]:
        if self.tracking_uri and store.is_http(self.tracking_uri) and self.run_id:
            # MLflow 3's UI shows an experiment in the view of the user's workflow toggle (GenAI by
            # default), whatever its experimentKind; the link asks for the model-training view.
            return (f"{self.display_uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{self.run_id}"
                    f"?workflowType={UI_WORKFLOW}")
        return None

    # --- recording ------------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        self.note.params.update(params)
        entries = [Param(key, param_text(value)) for key, value in params.items()]
        for start in range(0, len(entries), MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(self.run_id, params=entries[start:start + MAX_PARAMS_TAGS_PER_BATCH])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self.note.add_tags(tags)
        tags = {**tags, **notes.source_tags(tags.get(COMMAND_TAG))}
        entries = [RunTag(key, str(value)) for key, value in tags.items()]
        for start in range(0, len(entries), MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(self.run_id, tags=entries[start:start + MAX_PARAMS_TAGS_PER_BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: int, timestamp: Optional[int] = None) -> None:
        """Buffer values; ``timestamp`` (Unix ms, the run journal's) makes a replay a no-op:
        MLflow keeps one row per key, step, timestamp and value."""
        from mlflow.entities import Metric

        if timestamp is None:
            timestamp = int(time.time() * 1000)
        self._last_step = max(self._last_step, step)
        self._buffer.extend(Metric(key, value, timestamp, step) for key, value in metrics.items())
        if self._oldest is None:
            self._oldest = time.monotonic()
        if len(self._buffer) >= self._flush_every or time.monotonic() - self._oldest >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Send every buffered metric value, in requests of at most 1,000.

        When the store refuses, the buffer is emptied before the error is raised: the run's
        journal offers the values again (see toolkit.tracking.delivery).
        """
        try:
            while self._buffer:
                batch = self._buffer[:MAX_METRICS_PER_BATCH]
                self._client.log_batch(self.run_id, metrics=batch)
                self.requests += 1
                del self._buffer[:len(batch)]
        except BaseException:
            self._buffer = []
            raise
        finally:
            self._oldest = None

    def is_transient(self, error: BaseException) -> bool:
        """True for a store that did not answer (a server down or overloaded, a locked database):
        the run retries later. A refusal of the values themselves is not transient."""
        from mlflow.exceptions import MlflowException

        if isinstance(error, (ConnectionError, TimeoutError)):
            return True
        text = str(error)
        if isinstance(error, MlflowException):
            if error.error_code in TRANSIENT_ERROR_CODES:
                return True
            # The REST client wraps connection failures: "API request to ... failed with exception ..."
            return "failed with exception" in text or "Max retries exceeded" in text
        return "database is locked" in text

    def resume(self, run_id: str, location: str) -> bool:
        """Reopen run ``run_id`` of the store ``location`` (a dead process's) to deliver the rest.

        MLflow acknowledges a batch only once it is stored, so the journal's acknowledgements are
        trusted: returns False (no need to replay what was acknowledged).
        """
        from mlflow import MlflowClient

        uri = self._tracking_uri or location
        self.tracking_uri = uri
        if store.is_http(uri):
            self._http = store.BoundedHttp().__enter__()
        client = MlflowClient(tracking_uri=uri)
        run = client.get_run(run_id)
        self._client, self.run_id, self.experiment_id = client, run_id, run.info.experiment_id
        if run.info.status != "RUNNING":  # ended meanwhile (by hand): values can still be added
            client.update_run(run_id, status="RUNNING")
        return False

    def reopen(self, run_id: str, location: str) -> TrackerLink:
        """Reopen the ended run ``run_id`` of the store ``location`` to add values to it
        (``toolkit evaluate --run``). MLflow takes values into an ended run, so the run is
        attached as it is: ``finish`` leaves its status, end time and description alone."""
        self._tracking_uri = self._tracking_uri or location
        self.run_id, self._attached, self._reopened = run_id, True, True
        return self.start(None)

    def log_evaluation(self, report: EvaluationReport, step: Optional[int]) -> None:
        from toolkit_mlflow import rendering

        self.flush()  # the values first, so that a reader sees them beside the pictures
        self.note.metrics = dict(report.metrics)
        folder_name = evaluation_folder_name(step)
        with tempfile.TemporaryDirectory(prefix="toolkit-mlflow-") as folder:
            report.write_files(folder)  # the files every tracker stores; the pictures are MLflow's own
            rendering.confusion_matrix_png(report.confusion_matrix, report.labels,
                                           os.path.join(folder, "confusion_matrix.png"))
            for name, curves in report.curves.items():
                if curves:
                    rendering.curves_png(curves, os.path.join(folder, f"{name}.png"))
            if report.thresholds is not None:
                rendering.thresholds_png(report.thresholds, os.path.join(folder, "threshold_analysis.png"))
            self._client.log_artifacts(self.run_id, folder, artifact_path=folder_name)

    def log_dataset(self, description: DatasetDescription) -> None:
        """The data set as an input of the run (``mlflow.data`` dataset, tagged with its context)."""
        from toolkit_mlflow.datasets import dataset_input

        self._client.log_inputs(self.run_id, datasets=[dataset_input(description)])
        self.note.datasets.append(description)

    def log_model(self, description: ModelDescription) -> None:
        """The trained model as a logged model of the run, registered when ``register_as`` is set."""
        from toolkit_mlflow import models

        self.flush()  # MLflow links the run's latest metrics to the logged model
        self.model_info = models.log_model(self._client, self.experiment_id, self.run_id, description,
                                           step=self._last_step)
        self.note.model = self.model_info

    def log_file(self, name: str, path: str) -> None:
        if os.path.isdir(path):
            self._client.log_artifacts(self.run_id, path, artifact_path=f"{name}/{os.path.basename(path.rstrip('/'))}")
        else:
            self._client.log_artifact(self.run_id, path, artifact_path=name)

    # --- closing --------------------------------------------------------------------------------

    def finish(self, status: str, end_time: Optional[int] = None) -> None:
        """Flush and close the run as ``status`` at ``end_time`` (Unix ms; default now).

        A store that does not answer raises and keeps the bounded HTTP settings, so the run can
        call ``finish`` again once it is back.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, got {status!r}")
        if self._client is None:
            self._release_http()
            return
        end_time = int(time.time() * 1000) if end_time is None else int(end_time)
        try:
            self.flush()
        except Exception as error:
            if self.is_transient(error):
                raise
            self._terminate(status, end_time)  # the values were refused: the run must still not stay RUNNING
            raise
        self._terminate(status, end_time)

    def _terminate(self, status: str, end_time: int) -> None:
        if not self._attached:  # a run the calling code started stays open for it
            self._client.set_tag(self.run_id, notes.NOTE_TAG, self.note.text(status))
            self._client.set_terminated(self.run_id, status=status, end_time=end_time)
        self._release_http()

    def _release_http(self) -> None:
        if self._http is not None:
            self._http.__exit__(None, None, None)
            self._http = None

    def describe(self) -> str:
        where = f"run {self.run_id} in experiment {self.experiment_id} at {self.display_uri}"
        if self._reopened:
            where += " (values added; status and end time as they were)"
        elif self._attached:
            where += " (left open for the code that started it)"
        return f"{where} ({self.run_url})" if self.run_url else where


def _mark_training_kind(client: Any, experiment: Any) -> str:
    """Tag ``experiment`` as model training unless it already has a kind (a guess of the UI's may go)."""
    kind = (experiment.tags or {}).get(EXPERIMENT_KIND_TAG)
    if kind is None or kind.endswith("_inferred") or kind == "no_inferred_type":
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, TRAINING_KIND)
    return experiment.experiment_id


def _first_line(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return strip_url_credentials(text[:240])
