"""What trackers receive for one evaluation: checked metrics, the confusion matrix, curves, JSON.

Each tracker renders these natively (MLflow: PNG pictures; W&B: its own charts) and stores the
same folder of files, written by :meth:`EvaluationReport.write_files` and read back by
:func:`toolkit.plugin.read_evaluation_folder`. Artifact metrics describe themselves with an
``artifact_kind`` attribute ("curves", "threshold_analysis"); anything else is saved as JSON.
An evaluation of arrays also stores its inputs, ``predictions.npz`` (see :func:`write_predictions`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from toolkit.evaluation.curves import Curve
from toolkit.evaluation.thresholds import ThresholdAnalysis
from toolkit.plugin.records import (
    CONFUSION_FILE, FINGERPRINT_TAG, METRICS_FILE, PREDICTIONS_FILE, PREDICTIONS_FORMAT, THRESHOLDS_SUMMARY_FILE,
    THRESHOLDS_TABLE_FILE, Predictions, label_kind,
)

# The artifact metric that the report carries as ``confusion_matrix`` (every result has one).
CONFUSION_ARTIFACT = "confusion_matrix"
PREDICTIONS_DEFLATE_LEVEL = 1
DEFLATE_SAMPLE_BYTES = 1 << 18


@dataclass(frozen=True)
class PredictionsFile:
    """A ``predictions.npz`` already written (by the run journal, once for every tracker): trackers copy it."""

    path: str
    fingerprint: str
    example_count: int


def write_predictions(path: str, predictions: Predictions) -> PredictionsFile:
    """``predictions`` as a compressed ``.npz`` at ``path`` (no pickle: labels as a plain array
    of their own kind, which is recorded); :func:`toolkit.plugin.read_predictions` reads it."""
    labels = np.asarray(list(predictions.labels))
    arrays = {"format": np.asarray(PREDICTIONS_FORMAT), "labels": labels, "labels_kind": np.asarray(label_kind(labels)),
              "score_type": np.asarray(predictions.score_type),
              "y_true": _compact_codes(predictions.y_true, len(labels))}
    if predictions.y_pred is not None:
        arrays["y_pred"] = _compact_codes(predictions.y_pred, len(labels))
    for name in ("y_score", "sample_weight"):
        if getattr(predictions, name) is not None:
            arrays[name] = getattr(predictions, name)
    # np.savez_compressed's layout (one .npy per array in a zip, as np.load reads it), deflated at
    # level 1, and stored as they are when a sample does not deflate: model scores often barely
    # compress, and deflating 1e6 x 10 float64 scores took longer than evaluating them.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=PREDICTIONS_DEFLATE_LEVEL) as archive:
        for name, array in arrays.items():
            array = np.asanyarray(array)
            entry = f"{name}.npy" if _deflates(array) else _stored_entry(f"{name}.npy")
            with archive.open(entry, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, array, allow_pickle=False)
    return PredictionsFile(path, predictions.fingerprint, predictions.example_count)


def _deflates(array: np.ndarray) -> bool:
    """Whether deflate saves at least a tenth of a sample of ``array``'s bytes (its first 256 KiB)."""
    sample = np.ascontiguousarray(array.flat[:DEFLATE_SAMPLE_BYTES // max(array.itemsize, 1)])
    data = sample.tobytes()
    return len(zlib.compress(data, PREDICTIONS_DEFLATE_LEVEL)) < 0.9 * len(data)


def _stored_entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_STORED
    return entry


def _compact_codes(codes: np.ndarray, label_count: int) -> np.ndarray:
    """Label positions in the smallest unsigned type that holds them (uint8 up to 256 labels)."""
    return codes.astype(np.min_scalar_type(max(label_count - 1, 0)), copy=False)


@dataclass(frozen=True)
class EvaluationReport:
    """One evaluation as trackers render it.

    ``metrics`` already follow the value policy (safe keys, no infinities); ``labels`` are the
    class labels as text, in the order of the confusion matrix's rows and columns; ``curves``
    maps an artifact name (``"roc_curve"``, ``"pr_curve"``) to one :class:`Curve` per class;
    ``other_artifacts`` holds any other artifact metric as JSON-ready data; ``result`` is
    the JSON-ready summary of the whole result (``EvaluationResult.to_dict()``, with intervals
    and gates); ``thresholds`` is the binary threshold analysis (a table and operating points);
    ``predictions`` the evaluation's inputs (:class:`~toolkit.plugin.records.Predictions`, or a
    :class:`PredictionsFile` already written), stored as ``predictions.npz`` when present.
    """

    metrics: Mapping[str, float]
    labels: tuple[str, ...]
    confusion_matrix: np.ndarray
    curves: Mapping[str, Sequence[Curve]] = field(default_factory=dict)
    other_artifacts: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Optional[ThresholdAnalysis] = None
    predictions: Union[Predictions, PredictionsFile, None] = None

    @classmethod
    def from_result(cls, result: Any, metrics: Mapping[str, float]) -> "EvaluationReport":
        """The report of an ``EvaluationResult`` whose metrics were checked into ``metrics``."""
        curves: dict[str, tuple[Curve, ...]] = {}
        others: dict[str, Any] = {}
        thresholds = None
        for name, artifact in (getattr(result, "artifacts", None) or {}).items():
            if name == CONFUSION_ARTIFACT:
                continue
            kind = getattr(artifact, "artifact_kind", None)
            if kind == "threshold_analysis":
                thresholds = artifact
            elif kind == "curves" or (
                isinstance(artifact, (list, tuple)) and artifact and all(isinstance(c, Curve) for c in artifact)
            ):
                curves[name] = tuple(artifact)
            else:
                others[name] = json_ready(artifact)
        summary = result.to_dict() if hasattr(result, "to_dict") else {}
        return cls(
            metrics=dict(metrics),
            labels=tuple(str(label) for label in result.labels),
            confusion_matrix=np.asarray(result.confusion_matrix),
            curves=curves,
            other_artifacts=others,
            result=json_ready(summary),
            thresholds=thresholds,
            predictions=getattr(result, "predictions", None),
        )

    def with_predictions_file(self, path: str) -> "EvaluationReport":
        """This report with its predictions written once to ``path``, which trackers then copy."""
        if not isinstance(self.predictions, Predictions):
            return self
        return dataclasses.replace(self, predictions=write_predictions(path, self.predictions))

    # --- shared file formats -----------------------------------------------------------------

    def write_files(self, folder: str) -> list[str]:
        """Every evaluation file into ``folder`` (which must exist); returns the file names written.

        The same files in every tracker, so any reader gets the evaluation back the same way.
        """
        written = [METRICS_FILE, CONFUSION_FILE]
        self.write_metrics_json(os.path.join(folder, METRICS_FILE))
        self.write_confusion_csv(os.path.join(folder, CONFUSION_FILE))
        for name, curves in self.curves.items():
            if curves:
                self.write_curves_csv(name, os.path.join(folder, f"{name}.csv"))
                written.append(f"{name}.csv")
        if self.thresholds is not None:
            self.write_thresholds_csv(os.path.join(folder, THRESHOLDS_TABLE_FILE))
            self.write_thresholds_json(os.path.join(folder, THRESHOLDS_SUMMARY_FILE))
            written += [THRESHOLDS_TABLE_FILE, THRESHOLDS_SUMMARY_FILE]
        for name, value in self.other_artifacts.items():
            with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as handle:
                json.dump(value, handle, indent=2)
            written.append(f"{name}.json")
        if self.predictions is not None:
            target = os.path.join(folder, PREDICTIONS_FILE)
            if isinstance(self.predictions, PredictionsFile):
                shutil.copyfile(self.predictions.path, target)
            else:
                write_predictions(target, self.predictions)
            written.append(PREDICTIONS_FILE)
        return written

    def write_confusion_csv(self, path: str) -> None:
        """Rows = true label, columns = predicted label, with a header row and column of labels."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["true \\ predicted", *self.labels])
            for label, row in zip(self.labels, self.confusion_matrix.tolist()):
                writer.writerow([label, *row])

    def write_curves_csv(self, name: str, path: str) -> None:
        """One row per point: class, x, y and the score threshold (empty for PR's final point)."""
        curves = self.curves[name]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["class", curves[0].x_name, curves[0].y_name, "threshold"])
            for curve in curves:
                thresholds = curve.thresholds.tolist()
                for index, (x, y) in enumerate(zip(curve.x.tolist(), curve.y.tolist())):
                    writer.writerow([curve.label, x, y, thresholds[index] if index < len(thresholds) else ""])

    def write_thresholds_csv(self, path: str) -> None:
        """The threshold table: threshold, precision, recall, f1, fpr, true and false positives."""
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.thresholds.to_csv())

    def write_thresholds_json(self, path: str) -> None:
        """The threshold analysis's operating points: best F1 and the user's targets."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(json_ready(self.thresholds.summary()), handle, indent=2, allow_nan=False)

    def write_metrics_json(self, path: str) -> None:
        """The checked metrics (NaN as null) plus labels, confusion matrix and warnings."""
        document = dict(self.result)
        document["metrics"] = json_ready(dict(self.metrics))
        document["curve_areas"] = {
            name: {str(curve.label): json_ready(curve.area) for curve in curves}
            for name, curves in self.curves.items()
        }
        if self.predictions is not None:  # which examples, checkable without reading the file
            document["predictions"] = {"file": PREDICTIONS_FILE, FINGERPRINT_TAG: self.predictions.fingerprint,
                                       "example_count": self.predictions.example_count}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, sort_keys=False, allow_nan=False)


def json_ready(value: Any) -> Any:
    """``value`` as strict JSON data: numpy converted, NaN and infinities as null."""
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Curve):
        return {"kind": value.kind, "label": str(value.label), value.x_name: json_ready(value.x),
                value.y_name: json_ready(value.y), "area": json_ready(value.area)}
    return str(value)
