"""The MLflow tracker: one MLflow run per toolkit run, through ``MlflowClient`` (never the fluent API).

The client keeps no process-wide "active run" and adds no tags from the environment (the fluent
API records the user name and the command line), so only what the toolkit run sends is stored.
Metrics are buffered and sent with ``log_batch`` (at most 1,000 values per request); the run's
status is always set with an end time.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Mapping, Optional

from toolkit.plugin import (
    RUN_STATUSES, EvaluationReport, TrackerLink, evaluation_folder_name, param_text, strip_url_credentials,
)

from toolkit_mlflow import store

# MLflow's per-request limits (mlflow.utils.validation).
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100


class MlflowTracker:
    """Records one run in MLflow.

    :param tracking_uri: the store; default ``MLFLOW_TRACKING_URI``, else MLflow's own default
        (``sqlite:///mlflow.db`` in the current folder, so ``mlflow ui`` there shows the runs).
    :param experiment_name: default ``MLFLOW_EXPERIMENT_NAME``, else MLflow's "Default".
    :param flush_every: send buffered metric values once this many are waiting.
    :param flush_seconds: ... or once the oldest has waited this long (checked on each call).
    """

    def __init__(
        self,
        tracking_uri: Optional[str] = None,
        experiment_name: Optional[str] = None,
        flush_every: int = MAX_METRICS_PER_BATCH,
        flush_seconds: float = 5.0,
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
        self.run_id: Optional[str] = None
        self.experiment_id: Optional[str] = None
        self.tracking_uri: Optional[str] = None
        self.requests = 0  # log_batch calls for metrics, reported by the benchmark

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
                client = MlflowClient(tracking_uri=uri)
                try:
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
            if experiment_id:
                return client.get_experiment(experiment_id).experiment_id
            return client.get_experiment("0").experiment_id  # MLflow's "Default"; also opens the store
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return client.create_experiment(name)
        except MlflowException:  # another process (a server's other client) created it first
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return experiment.experiment_id

    @property
    def display_uri(self) -> str:
        return strip_url_credentials(self.tracking_uri or "")

    @property
    def run_url(self) -> Optional[str]:
        if self.tracking_uri and store.is_http(self.tracking_uri) and self.run_id:
            return f"{self.display_uri.rstrip('/')}/#/experiments/{self.experiment_id}/runs/{self.run_id}"
        return None

    # --- recording ------------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        entries = [Param(key, param_text(value)) for key, value in params.items()]
        for start in range(0, len(entries), MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(self.run_id, params=entries[start:start + MAX_PARAMS_TAGS_PER_BATCH])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        entries = [RunTag(key, str(value)) for key, value in tags.items()]
        for start in range(0, len(entries), MAX_PARAMS_TAGS_PER_BATCH):
            self._client.log_batch(self.run_id, tags=entries[start:start + MAX_PARAMS_TAGS_PER_BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        timestamp = int(time.time() * 1000)
        self._buffer.extend(Metric(key, value, timestamp, step) for key, value in metrics.items())
        if self._oldest is None:
            self._oldest = time.monotonic()
        if len(self._buffer) >= self._flush_every or time.monotonic() - self._oldest >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Send every buffered metric value, in requests of at most 1,000."""
        while self._buffer:
            batch = self._buffer[:MAX_METRICS_PER_BATCH]
            self._client.log_batch(self.run_id, metrics=batch)
            self.requests += 1
            del self._buffer[:len(batch)]
        self._oldest = None

    def log_evaluation(self, report: EvaluationReport, step: Optional[int]) -> None:
        from toolkit_mlflow import rendering

        self.flush()  # the values first, so that a reader sees them beside the pictures
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

    def log_file(self, name: str, path: str) -> None:
        if os.path.isdir(path):
            self._client.log_artifacts(self.run_id, path, artifact_path=f"{name}/{os.path.basename(path.rstrip('/'))}")
        else:
            self._client.log_artifact(self.run_id, path, artifact_path=name)

    # --- closing --------------------------------------------------------------------------------

    def finish(self, status: str) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, got {status!r}")
        try:
            if self._client is None:
                return
            try:
                self.flush()
            finally:
                # Whatever happened to the last values, the run must not stay RUNNING.
                self._client.set_terminated(self.run_id, status=status, end_time=int(time.time() * 1000))
        finally:
            self._release_http()

    def _release_http(self) -> None:
        if self._http is not None:
            self._http.__exit__(None, None, None)
            self._http = None

    def describe(self) -> str:
        where = f"run {self.run_id} in experiment {self.experiment_id} at {self.display_uri}"
        return f"{where} ({self.run_url})" if self.run_url else where


def _first_line(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return strip_url_credentials(text[:240])
