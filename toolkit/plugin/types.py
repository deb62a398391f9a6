"""Frozen dataclasses that registration hooks return: they describe a capability, computing nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Protocol, Sequence, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # type hints only: the core stays light at import time
    from toolkit.tracking.report import EvaluationReport

TASKS = ("binary", "multiclass")
METRIC_KINDS = ("scalar", "artifact")
# Raw inputs a metric may ask for besides statistics; "as the user gave them, all batches joined".
RAW_INPUTS = ("y_true", "y_pred", "y_score", "sample_weight", "labels")
# The characters both MLflow and W&B accept in a key; names outside it would be renamed on the way out.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-./ ]*$")


def _check_name(kind: str, name: object) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ValueError(
            f"{kind} name {name!r} is not valid: use letters, digits and _ - . / or space, "
            "starting with a letter, digit or underscore"
        )


def _as_tuple(value: object, what: str) -> tuple:
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{what} must be a sequence of strings, got {value!r}") from None


@dataclass(frozen=True)
class Batch:
    """One validated batch, as statistics receive it.

    ``y_true`` and ``y_pred`` are integer positions into the evaluation's labels; ``y_score`` is
    a float array of shape (n, K), one column per label (binary (n,) scores arrive as
    ``[1 - p, p]``), or None; ``sample_weight`` is a float array of shape (n,) or None.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: Optional[np.ndarray] = None
    sample_weight: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.y_true.shape[0])


@dataclass(frozen=True)
class StatisticSpec:
    """A mergeable sufficient statistic that metrics are computed from.

    ``init(labels)`` makes an empty state, ``update(state, batch)`` returns the state with one
    :class:`Batch` added, ``merge(a, b)`` returns the union of two states (from other batches,
    processes or machines), and ``finalize(state)`` turns a state into the value that metric
    ``compute`` functions receive (identity when omitted). ``requires`` names the raw inputs a
    batch must carry for this statistic to be kept (for example ``("y_score",)``).
    """

    name: str
    init: Callable[[Sequence[Any]], Any]
    update: Callable[[Any, Batch], Any]
    merge: Callable[[Any, Any], Any]
    finalize: Optional[Callable[[Any], Any]] = None
    requires: tuple = ()
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("statistic", self.name)
        for attribute in ("init", "update", "merge"):
            if not callable(getattr(self, attribute)):
                raise ValueError(f"statistic {self.name!r}: {attribute} must be callable")
        if self.finalize is not None and not callable(self.finalize):
            raise ValueError(f"statistic {self.name!r}: finalize must be callable or None")
        requires = _as_tuple(self.requires, f"statistic {self.name!r}: requires")
        unknown = [need for need in requires if need not in RAW_INPUTS]
        if unknown:
            raise ValueError(
                f"statistic {self.name!r}: requires {unknown} are not raw inputs; "
                f"choose from {list(RAW_INPUTS)}"
            )
        object.__setattr__(self, "requires", requires)


@dataclass(frozen=True)
class MetricSpec:
    """A metric: ``compute`` receives the statistics and raw inputs named in ``needs`` as keyword
    arguments and returns a float, or a dict of full metric key -> float for several values
    (per-class results). An ``"artifact"`` metric returns any object (a matrix, a curve) that
    lands in ``EvaluationResult.artifacts`` instead of ``metrics``.
    """

    name: str
    compute: Callable[..., Any]
    needs: tuple
    higher_is_better: Optional[bool]
    kind: str = "scalar"
    tasks: tuple = TASKS
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("metric", self.name)
        if not callable(self.compute):
            raise ValueError(f"metric {self.name!r}: compute must be callable")
        object.__setattr__(self, "needs", _as_tuple(self.needs, f"metric {self.name!r}: needs"))
        tasks = _as_tuple(self.tasks, f"metric {self.name!r}: tasks")
        if not tasks or any(task not in TASKS for task in tasks):
            raise ValueError(f"metric {self.name!r}: tasks {tasks} must be a non-empty subset of {TASKS}")
        object.__setattr__(self, "tasks", tasks)
        if self.kind not in METRIC_KINDS:
            raise ValueError(f"metric {self.name!r}: kind {self.kind!r} must be one of {METRIC_KINDS}")
        if self.higher_is_better not in (True, False, None):
            raise ValueError(f"metric {self.name!r}: higher_is_better must be True, False or None")


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker backend: ``factory(**options)`` returns a new :class:`Tracker` for one run."""

    name: str
    factory: Callable[..., Any]
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("tracker", self.name)
        if not callable(self.factory):
            raise ValueError(f"tracker {self.name!r}: factory must be callable")


RUN_STATUSES = ("FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class TrackerLink:
    """Where a tracker recorded a run: what the other trackers store as a cross-link.

    ``location`` is a store URI or a folder (credentials already stripped); ``url`` is a web
    page for the run when there is one.
    """

    tracker: str
    run_id: str
    location: str
    url: Optional[str] = None


@runtime_checkable
class Tracker(Protocol):
    """What a tracker factory returns: one run in one store, driven by :class:`toolkit.run.Run`.

    The run calls ``start`` once, then any number of the ``log_*`` and ``set_tags`` methods,
    then ``finish`` once. Everything a tracker receives has passed the shared policy first
    (params flattened and redacted, keys mapped, infinities refused), so a tracker records
    values as given. Any exception a method raises is caught by the run: the tracker is
    reported as broken, asked to ``finish("FAILED")``, and the other trackers go on.
    """

    def start(self, run_name: Optional[str]) -> TrackerLink:
        """Open a new run (named ``run_name`` when given) and say where it lives."""

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record params: dotted keys -> str, int, float, bool, None or a list of those."""

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Record metric values at ``step`` (NaN may occur and is kept)."""

    def log_evaluation(self, report: "EvaluationReport", step: Optional[int]) -> None:
        """Render an evaluation natively: confusion matrix, curves, metrics JSON.

        Its metrics were already sent through ``log_metrics``; ``step`` is None for a single
        evaluation (``toolkit.evaluate``) or the epoch the trainer evaluated at.
        """

    def log_file(self, name: str, path: str) -> None:
        """Record the local file or folder ``path`` as an artifact under the folder ``name``."""

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Attach text tags (the run's cross-links to the other trackers among them)."""

    def finish(self, status: str) -> None:
        """Flush everything and close the run as "FINISHED", "FAILED" or "KILLED", with an end time."""

    def describe(self) -> str:
        """One line saying where the run is, for the end-of-run summary (no credentials)."""


# Called by an adapter after each epoch with the epoch number (from 0) and the framework's logs.
EpochCallback = Callable[[int, Mapping[str, float]], None]


@runtime_checkable
class ModelAdapter(Protocol):
    """What ``toolkit_model_adapter`` returns: the trainer's only view of a model.

    The trainer never touches the model itself, so a framework plugin is all it takes to train
    and evaluate a new kind of model. ``y`` always arrives as a 1-D array of integer or string
    class labels (one-hot targets are turned into labels by the trainer first); the adapter
    re-encodes it for its framework (for example one-hot for a categorical loss).

    - ``framework``: a short name ("keras", "sklearn"), logged as the ``framework`` param.
    - ``labels(y)``: the class labels in the order of ``predict_proba``'s columns, for a
      model trained on ``y``; raises ValueError if ``y`` holds a label the model cannot output.
    - ``describe()``: params logged automatically (optimizer, learning rate, loss, layers,
      parameter count, ...), as a flat mapping of str to str/int/float/bool.
    - ``fit(x, y, *, epochs, batch_size, epoch_ended)``: train, calling
      ``epoch_ended(epoch, logs)`` once per finished epoch with the framework's own values;
      an exception raised by ``epoch_ended`` must propagate (it fails the run).
    - ``predict_proba(x)``: scores of shape (N, K), one column per label, or None when the
      model has no probabilities (then ``predict(x)`` gives the labels).
    - ``predict(x)``: predicted labels, shape (N,).
    - ``artifacts(x, y, y_score, labels, folder)``: files to record once training ended (a
      grid of sample images, a model summary), as a mapping of artifact name to a path written
      inside ``folder``; return {} for none.
    - optional ``check_fit(epochs, batch_size)``: raise ValueError for settings the framework
      cannot train with; called before the run starts, so nothing is recorded for them.
    """

    framework: str

    def labels(self, y: Any) -> list: ...

    def describe(self) -> Mapping[str, Any]: ...

    def fit(self, x: Any, y: Any, *, epochs: int, batch_size: int, epoch_ended: EpochCallback) -> None: ...

    def predict_proba(self, x: Any) -> Optional[np.ndarray]: ...

    def predict(self, x: Any) -> np.ndarray: ...

    def artifacts(
        self, x: Any, y: np.ndarray, y_score: Optional[np.ndarray], labels: Sequence, folder: str
    ) -> Mapping[str, str]: ...
