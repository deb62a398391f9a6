"""Runs read back from a tracker: RunSummary (one line of ``toolkit compare``) and RunRecord (a report).

Every tracker stores an evaluation as the same self-describing folder of files, written by
:meth:`toolkit.plugin.EvaluationReport.write_files`: ``metrics.json`` (labels, confusion
matrix, metrics, intervals, gates, warnings), ``confusion_matrix.csv``, ``<curve>.csv`` per
curve kind, ``threshold_analysis.csv`` / ``.json`` and ``predictions.npz`` (the evaluation's
inputs, :class:`Predictions`). A tracker's reader fetches that folder and
:func:`read_evaluation_folder` parses it, so the format has one writer and one reader.

Files a run records with ``log_artifact(name, path)`` (a trainer's grid of sample images, a
model summary) land, in every tracker, as ``<name>/<file name>`` under the run's files; a
reader points :func:`read_logged_files` at that folder to get the images and texts back.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

METRICS_FILE = "metrics.json"
CONFUSION_FILE = "confusion_matrix.csv"
THRESHOLDS_TABLE_FILE = "threshold_analysis.csv"
THRESHOLDS_SUMMARY_FILE = "threshold_analysis.json"
CURVES_SUFFIX = "_curve.csv"
PREDICTIONS_FILE = "predictions.npz"
# The tag (and metrics.json entry) naming the examples an evaluation's predictions are for.
FINGERPRINT_TAG = "toolkit.y_true_sha256"
PREDICTIONS_FORMAT = 1
_LABEL_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float", "U": "str"}
_FINGERPRINT_CHUNK = 1 << 20  # codes hashed a chunk at a time: no int64 copy of a large y_true
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
TEXT_SUFFIXES = (".txt",)
MAX_LOGGED_FILE_BYTES = 20 * 1024 * 1024  # a report embeds what it reads: larger files stay out
EVALUATION_FOLDER = "evaluation"  # a single evaluation; a trainer's epochs go to evaluation/step-N
STEP_FOLDER = re.compile(r"^step-(\d+)$")


@dataclass
class Curve:
    """One class's curve as read from a curves CSV."""

    label: str
    x: list[float]
    y: list[float]


@dataclass(frozen=True, eq=False)
class Predictions:
    """An evaluation's inputs as the engine checked them, stored beside its files as ``predictions.npz``.

    ``y_true`` (and ``y_pred`` when predictions were given rather than derived from scores)
    are positions into ``labels``; ``y_score`` is the score array as given, to be read as
    ``score_type`` says; ``sample_weight`` the checked weights. ``arguments()`` gives them back
    in the form :func:`toolkit.evaluate` takes, so the evaluation can be computed again.
    """

    y_true: np.ndarray
    labels: tuple
    y_score: Optional[np.ndarray] = None
    y_pred: Optional[np.ndarray] = None
    sample_weight: Optional[np.ndarray] = None
    score_type: str = "probability"

    @property
    def example_count(self) -> int:
        return int(self.y_true.shape[0])

    def label_array(self) -> np.ndarray:
        """The labels as an array of their own kind (ints, strings, bools or floats)."""
        return np.asarray(list(self.labels))

    def arguments(self) -> dict[str, Any]:
        """``y_true``, ``y_pred``, ``y_score``, ``labels``, ``sample_weight`` and ``score_type``
        as :func:`toolkit.evaluate` takes them."""
        labels = self.label_array()
        return {"y_true": labels[self.y_true], "y_pred": None if self.y_pred is None else labels[self.y_pred],
                "y_score": self.y_score, "labels": list(self.labels), "sample_weight": self.sample_weight,
                "score_type": self.score_type}

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the label list and the encoded ``y_true``: equal for the same examples."""
        return y_true_fingerprint(self.y_true, self.labels)


def y_true_fingerprint(codes: np.ndarray, labels: Any) -> str:
    """SHA-256 over the labels (as JSON) and ``codes`` as little-endian int64, in chunks."""
    digest = hashlib.sha256(json.dumps(list(labels)).encode("utf-8") + b"\0")
    for start in range(0, codes.shape[0], _FINGERPRINT_CHUNK):
        digest.update(np.ascontiguousarray(codes[start:start + _FINGERPRINT_CHUNK], dtype="<i8").tobytes())
    return digest.hexdigest()


def label_kind(labels: np.ndarray) -> str:
    """"int", "float", "str" or "bool": how a stored label array is read back."""
    kind = _LABEL_KINDS.get(labels.dtype.kind)
    if kind is None:
        raise ValueError(f"labels of dtype {labels.dtype} cannot be stored without pickle")
    return kind


def read_predictions(folder: str) -> Optional[Predictions]:
    """The :class:`Predictions` in ``folder``'s ``predictions.npz``; None when there is none.

    Read without pickle (``allow_pickle=False``); a file that does not hold what
    :meth:`~toolkit.plugin.EvaluationReport.write_files` writes is a ValueError naming it.
    """
    path = os.path.join(folder, PREDICTIONS_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a predictions file ({error})") from None
    missing = sorted({"format", "labels", "labels_kind", "y_true", "score_type"} - set(arrays))
    if missing or int(arrays["format"]) != PREDICTIONS_FORMAT:
        raise ValueError(f"{path}: not a toolkit predictions file of format {PREDICTIONS_FORMAT} "
                         f"(missing {missing or 'nothing'}, format {arrays.get('format')})")
    labels = arrays["labels"]
    if label_kind(labels) != str(arrays["labels_kind"]):
        raise ValueError(f"{path}: labels stored as {labels.dtype}, recorded as {arrays['labels_kind']}")
    return Predictions(y_true=arrays["y_true"], labels=tuple(labels.tolist()), y_score=arrays.get("y_score"),
                       y_pred=arrays.get("y_pred"), sample_weight=arrays.get("sample_weight"),
                       score_type=str(arrays["score_type"]))


@dataclass
class RunSummary:
    """One recorded run: what ``toolkit compare`` lists. ``metrics`` are each metric's last value."""

    run_id: str
    run_name: str
    status: str
    tracker: str
    location: str
    experiment_name: str = ""
    start_time: Optional[int] = None  # ms since the epoch
    end_time: Optional[int] = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class RunRecord(RunSummary):
    """Everything a report shows about one run: the summary, metric histories and the evaluation files."""

    history: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # key -> [(step, value)]
    evaluation: dict[str, Any] = field(default_factory=dict)  # metrics.json
    confusion: Optional[tuple[list[str], list[list[float]]]] = None  # labels, rows
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"x", "y", "curves"}
    thresholds: list[dict[str, float]] = field(default_factory=list)
    threshold_summary: dict[str, Any] = field(default_factory=dict)
    predictions: Optional[Predictions] = None  # the last evaluation's inputs, when it stored them
    images: dict[str, bytes] = field(default_factory=dict)  # logged file name -> PNG/JPEG/GIF bytes
    texts: dict[str, str] = field(default_factory=dict)  # logged file name -> text (a model summary)

    @property
    def tracking_uri(self) -> str:  # the name reports used before readers existed
        return self.location

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

    def read_evaluation(self, folder: str) -> None:
        """Fill the evaluation fields from a local folder of evaluation files (missing files stay empty)."""
        parts = read_evaluation_folder(folder)
        self.evaluation = parts["evaluation"]
        self.confusion = parts["confusion"]
        self.curves = parts["curves"]
        self.thresholds = parts["thresholds"]
        self.threshold_summary = parts["threshold_summary"]
        self.predictions = parts["predictions"]

    def read_files(self, folder: str) -> None:
        """Fill ``images`` and ``texts`` from a local folder of logged files (``<name>/<file>``)."""
        self.images, self.texts = read_logged_files(folder)


def evaluation_folder_name(step: Optional[int]) -> str:
    """Where a tracker keeps an evaluation's files: ``evaluation``, or ``evaluation/step-N`` for a trainer's epoch N."""
    return EVALUATION_FOLDER if step is None else f"{EVALUATION_FOLDER}/step-{step}"


def latest_evaluation_folder(folder: str) -> Optional[str]:
    """In a local ``evaluation`` folder: itself when it holds files (one evaluation), else its
    ``step-N`` sub-folder with the largest N (a trainer's last epoch); None when there is none."""
    if not os.path.isdir(folder):
        return None
    entries = os.listdir(folder)
    if any(os.path.isfile(os.path.join(folder, entry)) for entry in entries):
        return folder
    steps = [(int(match.group(1)), entry) for entry in entries if (match := STEP_FOLDER.match(entry))]
    return os.path.join(folder, max(steps)[1]) if steps else None


def is_readable_logged_file(name: str, size: int = 0) -> bool:
    """Whether a logged file of ``size`` bytes is one a report shows: an image or a text, not too large."""
    return name.lower().endswith(IMAGE_SUFFIXES + TEXT_SUFFIXES) and size <= MAX_LOGGED_FILE_BYTES


def read_logged_files(folder: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """The images and texts logged with ``log_artifact(name, path)`` under ``folder``: each
    ``<name>/<file>`` (the evaluation folder and deeper folders aside) keyed by ``name``, or by
    ``name/file`` when the folder holds several."""
    images: dict[str, bytes] = {}
    texts: dict[str, str] = {}
    if not os.path.isdir(folder):
        return images, texts
    for name in sorted(os.listdir(folder)):
        inner = os.path.join(folder, name)
        if name == EVALUATION_FOLDER or not os.path.isdir(inner):
            continue
        files = [file for file in sorted(os.listdir(inner)) if os.path.isfile(os.path.join(inner, file))
                 and is_readable_logged_file(file, os.path.getsize(os.path.join(inner, file)))]
        for file in files:
            key = name if len(files) == 1 else f"{name}/{file}"
            with open(os.path.join(inner, file), "rb") as handle:
                content = handle.read()
            if file.lower().endswith(IMAGE_SUFFIXES):
                images[key] = content
            else:
                texts[key] = content.decode("utf-8", errors="replace")
    return images, texts


def read_evaluation_folder(folder: str) -> dict[str, Any]:
    """The evaluation files in ``folder``: ``evaluation`` (metrics.json), ``confusion``, ``curves``,
    ``thresholds``, ``threshold_summary`` and ``predictions``; whatever is missing is empty."""
    def path(name: str) -> Optional[str]:
        candidate = os.path.join(folder, name)
        return candidate if os.path.isfile(candidate) else None

    parts: dict[str, Any] = {"evaluation": {}, "confusion": None, "curves": {}, "thresholds": [],
                             "threshold_summary": {}, "predictions": read_predictions(folder)}
    if path(METRICS_FILE):
        parts["evaluation"] = _read_json(path(METRICS_FILE))
    if path(CONFUSION_FILE):
        parts["confusion"] = _read_confusion(path(CONFUSION_FILE))
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        if name.endswith(CURVES_SUFFIX):
            parts["curves"][name[: -len(".csv")]] = _read_curves(os.path.join(folder, name))
    if path(THRESHOLDS_TABLE_FILE):
        parts["thresholds"] = _read_rows(path(THRESHOLDS_TABLE_FILE))
    if path(THRESHOLDS_SUMMARY_FILE):
        parts["threshold_summary"] = _read_json(path(THRESHOLDS_SUMMARY_FILE))
    return parts


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


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
