"""Runs read back from an MLflow store: what ``toolkit compare``, ``toolkit report`` and ``--baseline`` use.

Reading never creates a store: a SQLite file that does not exist is a ValueError saying so
(MlflowClient would create and migrate it on first use).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Optional

from toolkit.plugin import (
    EVALUATION_FOLDER, STEP_FOLDER, RunRecord, RunSummary, is_readable_logged_file, strip_url_credentials,
)

_SYSTEM_TAG_PREFIX = "mlflow."  # MLflow's own bookkeeping tags, not worth a reader's attention
MAX_RUNS = 10_000


class MlflowReader:
    """The runs of one MLflow store.

    :param location: the tracking URI (default: ``MLFLOW_TRACKING_URI``, else MLflow's own default).
    :param tracking_uri: the same, under the name the tracker's own option has.
    """

    def __init__(self, location: Optional[str] = None, tracking_uri: Optional[str] = None, **_tracker_options: Any) -> None:
        import mlflow

        self.uri = location or tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or mlflow.get_tracking_uri()
        if self.uri.startswith("sqlite:///") and not os.path.exists(self.uri[len("sqlite:///"):]):
            raise ValueError(f"there is no MLflow store at {self.uri[len('sqlite:///'):]}; "
                             "train first, or pass --store (a tracking URI)")
        self._client = mlflow.MlflowClient(tracking_uri=self.uri)

    def location(self) -> str:
        return strip_url_credentials(self.uri)

    def list_runs(self, experiment: Optional[str] = None) -> list[RunSummary]:
        experiments = self._client.search_experiments()
        if experiment is not None:
            chosen = [found for found in experiments if found.name == experiment]
            if not chosen:
                names = ", ".join(sorted(found.name for found in experiments)) or "none"
                raise ValueError(f"--experiment {experiment!r} is not in {self.location()}; experiments there: {names}")
            experiments = chosen
        if not experiments:
            return []
        names = {found.experiment_id: found.name for found in experiments}
        runs = self._client.search_runs(list(names), order_by=["attributes.start_time DESC"], max_results=MAX_RUNS)
        return [self._summary(run, names.get(run.info.experiment_id, "")) for run in runs]

    def _summary(self, run: Any, experiment_name: str, kind: type = RunSummary) -> Any:
        return kind(
            run_id=run.info.run_id, run_name=run.info.run_name or "", status=run.info.status,
            tracker="mlflow", location=self.location(), experiment_name=experiment_name,
            start_time=run.info.start_time, end_time=run.info.end_time,
            metrics=dict(run.data.metrics), params=dict(run.data.params),
            tags={key: value for key, value in run.data.tags.items() if not key.startswith(_SYSTEM_TAG_PREFIX)},
        )

    def read_run(self, run_id: str) -> RunRecord:
        from mlflow.exceptions import MlflowException

        try:
            run = self._client.get_run(run_id)
        except MlflowException as error:
            raise ValueError(f"RUN_ID {run_id!r}: no such run in {self.location()} "
                             f"({str(error).splitlines()[0]})") from None
        experiment = self._client.get_experiment(run.info.experiment_id)
        record = self._summary(run, experiment.name if experiment else "", RunRecord)
        record.history = {key: [(entry.step, entry.value) for entry in self._client.get_metric_history(run_id, key)]
                          for key in record.metrics}
        folder = self._evaluation_folder(run_id)
        if folder is not None:
            with tempfile.TemporaryDirectory(prefix="toolkit-mlflow-read-") as local:
                record.read_evaluation(self._client.download_artifacts(run_id, folder, local))
        with tempfile.TemporaryDirectory(prefix="toolkit-mlflow-files-") as local:
            for path in self._logged_files(run_id):
                target = os.path.join(local, os.path.dirname(path))  # MLflow downloads a file to dst/<file>
                os.makedirs(target, exist_ok=True)
                self._client.download_artifacts(run_id, path, target)
            record.read_files(local)
        return record

    def _logged_files(self, run_id: str) -> list[str]:
        """The images and texts logged as ``<name>/<file>`` (what a report shows; nothing else is fetched)."""
        paths = []
        for entry in self._client.list_artifacts(run_id):
            if entry.is_dir and entry.path != EVALUATION_FOLDER:
                paths += [inner.path for inner in self._client.list_artifacts(run_id, entry.path)
                          if not inner.is_dir and is_readable_logged_file(inner.path, inner.file_size or 0)]
        return paths

    def _evaluation_folder(self, run_id: str) -> Optional[str]:
        """``evaluation`` when it holds files, else its ``step-N`` folder with the largest N."""
        entries = self._client.list_artifacts(run_id, EVALUATION_FOLDER)
        if any(not entry.is_dir for entry in entries):
            return EVALUATION_FOLDER
        steps = [(int(match.group(1)), entry.path) for entry in entries
                 if entry.is_dir and (match := STEP_FOLDER.match(os.path.basename(entry.path)))]
        return max(steps)[1] if steps else None
