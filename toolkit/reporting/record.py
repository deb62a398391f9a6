"""A recorded run read back from MLflow: info, metrics, params, tags and the evaluation's artifact files.

The MLflow tracker stores each evaluation under ``evaluation/`` (``evaluation/step-N`` for a
trainer's epochs): ``metrics.json`` (labels, confusion matrix, intervals, gates, warnings),
``confusion_matrix.csv``, ``roc_curve.csv`` / ``pr_curve.csv`` and ``threshold_analysis.csv``.
Whatever a run lacks is left empty; the report says so rather than failing.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

EVALUATION_FOLDER = "evaluation"
_STEP_FOLDER = re.compile(r"^step-(\d+)$")
# MLflow's own bookkeeping tags, not worth a reader's attention.
_SYSTEM_TAG_PREFIX = "mlflow."


@dataclass
class Curve:
    """One class's curve as read from a curves CSV."""

    label: str
    x: list[float]
    y: list[float]


@dataclass
class RunRecord:
    """Everything a report shows about one run."""

    run_id: str
    run_name: str
    status: str
    experiment_name: str
    tracking_uri: str
    start_time: Optional[int] = None  # ms since the epoch
    end_time: Optional[int] = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    evaluation_folder: Optional[str] = None
    evaluation: dict[str, Any] = field(default_factory=dict)  # metrics.json
    confusion: Optional[tuple[list[str], list[list[float]]]] = None  # labels, rows
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"x", "y", "curves"}
    thresholds: list[dict[str, float]] = field(default_factory=list)
    threshold_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        if self.evaluation.get("labels"):
            return [str(label) for label in self.evaluation["labels"]]
        return list(self.confusion[0]) if self.confusion else []

    @property
    def intervals(self) -> dict[str, tuple[float, float]]:
        """``<key>_ci_low`` / ``<key>_ci_high`` metric pairs as ``{key: (low, high)}``."""
        pairs = {}
        for key, low in self.metrics.items():
            if key.endswith("_ci_low"):
                stem = key[: -len("_ci_low")]
                high = self.metrics.get(f"{stem}_ci_high")
                if high is not None:
                    pairs[stem] = (low, high)
        return pairs

    @property
    def gates(self) -> list[dict[str, Any]]:
        """Gate outcomes from the evaluation file, else from the ``toolkit.gate.*`` tags."""
        if self.evaluation.get("gates"):
            return list(self.evaluation["gates"])
        outcomes = []
        for key, text in sorted(self.tags.items()):
            if key.startswith("toolkit.gate."):
                outcomes.append({"gate": text.split(": ", 1)[-1], "passed": text.startswith("passed"),
                                 "value": None, "threshold": None, "baseline": None, "reason": ""})
        return outcomes


def record_from_result(result: Any, run_name: str = "", params: Optional[dict] = None) -> RunRecord:
    """A record of an in-memory ``EvaluationResult`` (no tracker needed), as MLflow would give it back."""
    record = RunRecord(run_id="", run_name=run_name, status="not recorded", experiment_name="",
                       tracking_uri="(in memory)", metrics=dict(result.logged_metrics()),
                       params={key: str(value) for key, value in (params or {}).items()},
                       evaluation=json.loads(json.dumps(result.to_dict())))
    record.confusion = ([str(label) for label in result.labels], np.asarray(result.confusion_matrix).tolist())
    analysis = result.artifacts.get("threshold_analysis")
    if analysis is not None:
        record.thresholds = analysis.rows()
        record.threshold_summary = analysis.summary()
    return record


def open_client(tracking_uri: Optional[str]) -> Any:
    """An MlflowClient for ``tracking_uri`` (default: MLflow's own rule, MLFLOW_TRACKING_URI first)."""
    try:
        import mlflow
        from mlflow import MlflowClient
    except ImportError:
        raise ValueError("toolkit report reads runs from MLflow: install toolkit-mlflow "
                         "(pip install -e plugins/toolkit-mlflow)") from None
    return MlflowClient(tracking_uri=tracking_uri or mlflow.get_tracking_uri())


def latest_run_id(client: Any, experiment: Optional[str] = None) -> str:
    """The most recently started run, in ``experiment`` or in any experiment."""
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            raise ValueError(f"--experiment {experiment!r}: no such experiment in {client.tracking_uri}")
        experiment_ids = [found.experiment_id]
    else:
        experiment_ids = [item.experiment_id for item in client.search_experiments()]
    runs = client.search_runs(experiment_ids, order_by=["attributes.start_time DESC"], max_results=1) \
        if experiment_ids else []
    if not runs:
        raise ValueError(f"--latest: there is no run in {_display(client.tracking_uri)}")
    return runs[0].info.run_id


def read_run(client: Any, run_id: str) -> RunRecord:
    """The run ``run_id`` with its evaluation files (the last evaluation when there are several)."""
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise ValueError(f"RUN_ID {run_id!r}: no such run in {_display(client.tracking_uri)} "
                         f"({str(error).splitlines()[0]})") from None
    experiment = client.get_experiment(run.info.experiment_id)
    record = RunRecord(
        run_id=run.info.run_id, run_name=run.info.run_name or "", status=run.info.status,
        experiment_name=experiment.name if experiment else "", tracking_uri=_display(client.tracking_uri),
        start_time=run.info.start_time, end_time=run.info.end_time,
        metrics=dict(run.data.metrics), params=dict(run.data.params),
        tags={key: value for key, value in run.data.tags.items() if not key.startswith(_SYSTEM_TAG_PREFIX)},
    )
    folder = _evaluation_folder(client, run_id)
    if folder is None:
        return record
    record.evaluation_folder = folder
    with tempfile.TemporaryDirectory(prefix="toolkit-report-") as local:
        names = {os.path.basename(item.path) for item in client.list_artifacts(run_id, folder) if not item.is_dir}
        def fetch(name: str) -> Optional[str]:
            if name not in names:
                return None
            return client.download_artifacts(run_id, f"{folder}/{name}", local)

        path = fetch("metrics.json")
        if path:
            with open(path, encoding="utf-8") as handle:
                record.evaluation = json.load(handle)
        path = fetch("confusion_matrix.csv")
        if path:
            record.confusion = _read_confusion(path)
        for name in ("roc_curve", "pr_curve"):
            path = fetch(f"{name}.csv")
            if path:
                record.curves[name] = _read_curves(path)
        path = fetch("threshold_analysis.csv")
        if path:
            record.thresholds = _read_rows(path)
        path = fetch("threshold_analysis.json")
        if path:
            with open(path, encoding="utf-8") as handle:
                record.threshold_summary = json.load(handle)
    return record


def _evaluation_folder(client: Any, run_id: str) -> Optional[str]:
    """``evaluation`` when it holds files, else its ``step-N`` folder with the largest N."""
    entries = client.list_artifacts(run_id, EVALUATION_FOLDER)
    if any(not entry.is_dir for entry in entries):
        return EVALUATION_FOLDER
    steps = []
    for entry in entries:
        match = _STEP_FOLDER.match(os.path.basename(entry.path))
        if entry.is_dir and match:
            steps.append((int(match.group(1)), entry.path))
    return max(steps)[1] if steps else None


def _read_rows(path: str) -> list[dict[str, float]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def _read_confusion(path: str) -> tuple[list[str], list[list[float]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    labels = rows[0][1:]
    return labels, [[_number(cell) for cell in row[1:]] for row in rows[1:]]


def _read_curves(path: str) -> dict[str, Any]:
    """``{"x": name, "y": name, "curves": [Curve, ...]}`` from a class,x,y,threshold CSV."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        by_class: dict[str, Curve] = {}
        for row in reader:
            curve = by_class.setdefault(row[0], Curve(row[0], [], []))
            curve.x.append(_number(row[1]))
            curve.y.append(_number(row[2]))
    return {"x": header[1], "y": header[2], "curves": list(by_class.values())}


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _display(uri: str) -> str:
    """``uri`` without credentials (user:password@ in a URL)."""
    from toolkit.tracking.redaction import strip_url_credentials

    return strip_url_credentials(str(uri))
