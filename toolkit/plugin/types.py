"""Frozen dataclasses that registration hooks return: they describe a capability, computing nothing."""

from __future__ import annotations

import inspect
import numbers
import re
from dataclasses import dataclass, field
from types import MappingProxyType
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
    ``bounded`` is False for a state that grows with the number of examples (the core's
    ``scores``): evaluations asked to keep memory bounded (``exact=False``) leave out the
    metrics that need it unless they are named.

    A batch may be any subset of the examples, in any order of arrival: batches of a stream,
    Dask partitions, and, with ``slice_by``, the rows of one slice (each slice keeps a state of
    its own, updated with that slice's rows of each batch). So ``update`` must not assume the
    batch is the whole data or that positions are contiguous.

    ``terms`` and ``from_sums`` (optional, together) declare a state that is a weighted sum over
    examples: ``terms(batch)`` returns an (n, m) float array of each example's terms, and the
    state of any examples with weights ``w`` (the sample weights, 1 without) is
    ``from_sums(sum of w_i * terms_i)``, an (m,) array. The Poisson bootstrap then resamples the
    statistic batch by batch in O(R m) memory, so its metrics get intervals with ``exact=False``.

    ``concurrent`` True lets ``update`` run on a helper thread while the other statistics'
    updates of the same batch run (batches of 200,000 rows or more, when a CPU is idle at that
    moment). Set it only for an ``update`` that reads the batch without changing it, touches no
    state but its own, and does its heavy work where the GIL is released (numpy's array
    operations, or compiled code with ``nogil``); the results are the same either way.
    """

    name: str
    init: Callable[[Sequence[Any]], Any]
    update: Callable[[Any, Batch], Any]
    merge: Callable[[Any, Any], Any]
    finalize: Optional[Callable[[Any], Any]] = None
    requires: tuple = ()
    description: str = ""
    bounded: bool = True
    terms: Optional[Callable[[Batch], Any]] = None
    from_sums: Optional[Callable[[Any], Any]] = None
    concurrent: bool = False

    def __post_init__(self) -> None:
        _check_name("statistic", self.name)
        for flag in ("bounded", "concurrent"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"statistic {self.name!r}: {flag} must be True or False")
        if (self.terms is None) != (self.from_sums is None) or not all(
                function is None or callable(function) for function in (self.terms, self.from_sums)):
            raise ValueError(f"statistic {self.name!r}: terms and from_sums must both be callables, or both None")
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


def _accepted_arguments(function: Callable[..., Any]) -> Optional[set]:
    """The keyword arguments ``function`` accepts, or None when it takes ``**kwargs`` or hides its signature."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # some builtins have no introspectable signature
        return None
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return None
    return {parameter.name for parameter in parameters
            if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}


@dataclass(frozen=True)
class MetricSpec:
    """A metric: ``compute`` receives the statistics and raw inputs named in ``needs`` as keyword
    arguments and returns a float, or a dict of full metric key -> float for several values
    (per-class results). An ``"artifact"`` metric returns any object (a matrix, a curve) that
    lands in ``EvaluationResult.artifacts`` instead of ``metrics``.

    ``params`` are settings with their default values (for example ``{"k": 2}``) that ``compute``
    also receives as keyword arguments; a user overrides them when choosing metrics
    (``metrics={"top_k_accuracy": {"k": 3}}``). ``check_params(**params)`` may raise ValueError
    for values that make no sense, before anything is computed.
    ``approximates`` names the exact metric that this one approximates in bounded memory (for
    example ``"roc_auc"``). Such a metric is opt-in: computed when named in ``metrics``, or in
    place of the exact one when memory must stay bounded (``exact=False``, out-of-core files).

    ``needs_probabilities``: the metric reads scores as probabilities (log loss, score histograms
    over [0, 1]); it is left out when ``score_type="decision"`` scores are margins.

    ``resample`` (optional) makes bootstrap confidence intervals fast for a metric computed from
    per-example data: it receives the statistics named in ``resample_needs`` (default: the same
    as ``needs``) and ``params``, plus ``resamples``, a :class:`Resamples`, and returns one value
    per resample (an array of shape (R,), or a dict of key -> array for several values). A
    metric whose statistic is a running total (log loss's two sums) names ``("scores",)`` there.
    Without ``resample`` the bootstrap calls ``compute`` once per resample on resampled copies
    (exact, slower). Metrics that need only ``confusion``/``count``/``labels`` need no
    ``resample``: their resampled counts are drawn directly.
    """

    name: str
    compute: Callable[..., Any]
    needs: tuple
    higher_is_better: Optional[bool]
    kind: str = "scalar"
    tasks: tuple = TASKS
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    check_params: Optional[Callable[..., None]] = None
    approximates: Optional[str] = None
    resample: Optional[Callable[..., Any]] = None
    resample_needs: Optional[tuple] = None
    needs_probabilities: bool = False

    def __post_init__(self) -> None:
        _check_name("metric", self.name)
        if self.approximates is not None:
            _check_name(f"metric {self.name!r}: approximates", self.approximates)
        if not callable(self.compute):
            raise ValueError(f"metric {self.name!r}: compute must be callable")
        if self.resample is not None and not callable(self.resample):
            raise ValueError(f"metric {self.name!r}: resample must be callable or None")
        if self.resample_needs is not None:
            object.__setattr__(self, "resample_needs",
                               _as_tuple(self.resample_needs, f"metric {self.name!r}: resample_needs"))
        object.__setattr__(self, "needs", _as_tuple(self.needs, f"metric {self.name!r}: needs"))
        self._check_params()
        tasks = _as_tuple(self.tasks, f"metric {self.name!r}: tasks")
        if not tasks or any(task not in TASKS for task in tasks):
            raise ValueError(f"metric {self.name!r}: tasks {tasks} must be a non-empty subset of {TASKS}")
        object.__setattr__(self, "tasks", tasks)
        if self.kind not in METRIC_KINDS:
            raise ValueError(f"metric {self.name!r}: kind {self.kind!r} must be one of {METRIC_KINDS}")
        if self.higher_is_better not in (True, False, None):
            raise ValueError(f"metric {self.name!r}: higher_is_better must be True, False or None")
        accepted = _accepted_arguments(self.compute)
        if accepted is not None:
            refused = [argument for argument in (*self.needs, *self.params) if argument not in accepted]
            if refused:
                raise ValueError(
                    f"metric {self.name!r}: compute does not accept {refused}, which needs/params "
                    f"name; it takes {sorted(accepted)}"
                )

    def _check_params(self) -> None:
        if not isinstance(self.params, Mapping):
            raise ValueError(f"metric {self.name!r}: params must be a mapping of name -> default value")
        bad = [key for key in self.params if not (isinstance(key, str) and key.isidentifier())]
        if bad:
            raise ValueError(f"metric {self.name!r}: params names {bad} are not Python identifiers")
        clash = sorted(set(self.params) & set(self.needs))
        if clash:
            raise ValueError(f"metric {self.name!r}: {clash} are named in both needs and params")
        if self.check_params is not None:
            if not callable(self.check_params):
                raise ValueError(f"metric {self.name!r}: check_params must be callable or None")
            self.check_params(**self.params)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def with_params(self, overrides: Optional[Mapping[str, Any]]) -> dict[str, Any]:
        """The defaults updated with ``overrides``, checked: unknown names, types and ``check_params``.

        Raises ValueError naming the metric and the parameter.
        """
        chosen = dict(self.params)
        for key, value in (overrides or {}).items():
            if key not in self.params:
                takes = f"it takes {sorted(self.params)}" if self.params else "it takes none"
                raise ValueError(f"metrics: {self.name!r} has no parameter {key!r}; {takes}")
            default = self.params[key]
            if default is not None and not _same_kind(value, default):
                raise ValueError(
                    f"metrics: {self.name!r} parameter {key!r} must be of type {type(default).__name__} "
                    f"like its default {default!r}, got {value!r}"
                )
            chosen[key] = value
        if self.check_params is not None:
            try:
                self.check_params(**chosen)
            except ValueError as error:
                raise ValueError(f"metrics: {self.name!r}: {error}") from None
        return chosen


def _same_kind(value: Any, default: Any) -> bool:
    """True when ``value`` may stand in for ``default``: ints for floats, never bools for numbers."""
    if isinstance(default, (bool, np.bool_)) or isinstance(value, (bool, np.bool_)):
        return isinstance(value, (bool, np.bool_)) and isinstance(default, (bool, np.bool_))
    if isinstance(default, numbers.Integral):
        return isinstance(value, numbers.Integral)
    if isinstance(default, numbers.Real):
        return isinstance(value, numbers.Real)
    return isinstance(value, type(default))


@dataclass(frozen=True)
class ScoreTable:
    """Every example's true label position, score row and weight, joined over batches.

    ``sample_weight`` is in a unit where the largest weight lies in [1, 2) (the given weights
    times ``weight_scale``, a power of two), so weighted sums and products cannot underflow or
    overflow; divide by ``weight_scale`` for weighted counts in the caller's unit.
    """

    y_true: np.ndarray
    y_score: np.ndarray
    sample_weight: Optional[np.ndarray]
    _derived: dict = field(default_factory=dict, compare=False, repr=False)
    weight_scale: float = 1.0

    def derived(self, key: str, compute: Callable[["ScoreTable"], Any]) -> Any:
        """``compute(self)``, computed once per table: metrics that share work (per-class AUROC
        for the macro and the weighted mean) ask for it by the same key."""
        if key not in self._derived:
            self._derived[key] = compute(self)
        return self._derived[key]

    @property
    def n_classes(self) -> int:
        return int(self.y_score.shape[1])


class Resamples:
    """A chunk of bootstrap resamples, as ``MetricSpec.resample`` receives it.

    ``by_example`` is a C-contiguous unsigned or signed integer array (uint8 unless a count
    exceeds 255) of shape (N, R): how many times each example
    (in the order of the ``scores`` statistic) is drawn in each of R resamples; every column
    sums to N (or, in a Poisson bootstrap, holds independent Poisson(1) weights, so columns sum to
    about N). ``counts`` is the same as (R, N) (a transposed view). Weighted evaluations
    multiply each example's weight by its count. ``derived(key, compute)`` caches work shared by
    several metrics within this chunk (per-class AUROC for the macro and the weighted mean).
    """

    def __init__(self, by_example: np.ndarray) -> None:
        self.by_example = by_example
        self._derived: dict = {}

    @property
    def counts(self) -> np.ndarray:
        return self.by_example.T

    def __len__(self) -> int:
        return int(self.by_example.shape[1])

    def derived(self, key: str, compute: Callable[["Resamples"], Any]) -> Any:
        if key not in self._derived:
            self._derived[key] = compute(self)
        return self._derived[key]


@dataclass(frozen=True)
class TrackerSpec:
    """A tracker backend: ``factory(**options)`` returns a new :class:`Tracker` for one run.

    Optional capabilities, each used by the core only through this spec:

    - ``reader(**options)`` returns a :class:`TrackerReader` over the tracker's store (the same
      options as ``factory``): ``toolkit compare``, ``toolkit report`` and ``--baseline`` read
      runs back through it, so they work with any tracker that offers one.
    - ``where_to_look(link)`` returns lines telling a person how to open a recorded run (a
      command, a URL), printed at the end of ``toolkit train``.
    - ``default``: record to this tracker when a run names none and the configuration
      (``trackers:`` in a config, ``TOOLKIT_TRACKERS``) chooses none either.
    - ``experiment_option``: the name of the factory's option that chooses an experiment (or
      project), which a config's ``experiment:`` key sets.
    - ``sandbox(folder)`` returns the environment variables (name -> value, None to unset) that
      make the tracker write only inside ``folder`` and never reach a network: the
      ``toolkit_tracking`` test fixture applies them for every tracker that offers one.
    """

    name: str
    factory: Callable[..., Any]
    description: str = ""
    reader: Optional[Callable[..., Any]] = None
    where_to_look: Optional[Callable[["TrackerLink"], Sequence[str]]] = None
    default: bool = False
    sandbox: Optional[Callable[[str], Mapping[str, Optional[str]]]] = None
    experiment_option: Optional[str] = None

    def __post_init__(self) -> None:
        _check_name("tracker", self.name)
        if not callable(self.factory):
            raise ValueError(f"tracker {self.name!r}: factory must be callable")
        for attribute in ("reader", "where_to_look", "sandbox"):
            if getattr(self, attribute) is not None and not callable(getattr(self, attribute)):
                raise ValueError(f"tracker {self.name!r}: {attribute} must be callable or None")
        if not isinstance(self.default, bool):
            raise ValueError(f"tracker {self.name!r}: default must be True or False")


RUN_STATUSES = ("FINISHED", "FAILED", "KILLED")
# The tag saying which command made a run ("toolkit train examples/digits_cnn.yaml", secrets
# redacted); a tracker may also record it as its own notion of a run's source.
COMMAND_TAG = "toolkit.command"


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

    Two methods are optional, called only on trackers that have them: ``log_dataset(description)``
    with a :class:`DatasetDescription` (each data set the run trained or validated on) and
    ``log_model(description)`` with a :class:`ModelDescription` (the trained model, once).

    ``reopen(run_id, location) -> TrackerLink`` is optional too: instead of ``start``, reopen the
    ended run ``run_id`` (``location`` as the tracker's reader reports it) to add values to it.
    ``toolkit evaluate --run`` then calls ``log_metrics`` and ``set_tags`` and ``finish`` with
    the run's own status, which must leave its status and end time as they were (MLflow adds
    to the run itself; W&B offline writes a new folder with the same run id, which its reader
    reads as part of the run). Without it, ``--run`` refuses that tracker by name.
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


@runtime_checkable
class RunView(Protocol):
    """What lifecycle hooks receive as ``run``: a :class:`toolkit.run.Run` seen through its public face.

    ``name``, ``params`` (flattened and redacted, as the trackers got them), ``status``
    (None before start, then RUNNING, FINISHED, FAILED or KILLED) and ``links`` (tracker name
    -> :class:`TrackerLink`). A hook may record more: ``log_metrics``, ``set_tags``,
    ``log_artifact``.
    """

    name: Optional[str]
    params: dict
    status: Optional[str]
    links: dict

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None: ...

    def set_tags(self, tags: Mapping[str, Any]) -> None: ...

    def log_artifact(self, name: str, path: str) -> None: ...


@runtime_checkable
class TrackerReader(Protocol):
    """What ``TrackerSpec.reader(**options)`` returns: the runs of one store, read back.

    - ``location()``: where it reads, for messages (no credentials).
    - ``list_runs(experiment=None)``: every run as a :class:`~toolkit.plugin.RunSummary`
      (final metric values, params, tags, status), newest first; ``experiment`` narrows to one
      experiment/project where the tracker has such a notion. Reading never creates a store:
      a store that does not exist is a ValueError saying so.
    - ``read_run(run_id)``: one run as a :class:`~toolkit.plugin.RunRecord`, with each metric's
      history, its last evaluation's files (read with
      :func:`~toolkit.plugin.read_evaluation_folder`) and the images and texts it logged as
      ``<name>/<file>`` (``RunRecord.read_files``, :func:`~toolkit.plugin.read_logged_files`);
      an unknown id is a ValueError.
    """

    def location(self) -> str: ...

    def list_runs(self, experiment: Optional[str] = None) -> list: ...

    def read_run(self, run_id: str) -> Any: ...


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
    - ``check_fit(*, epochs, batch_size)``: raise ValueError for settings the framework cannot
      honour (more than one epoch for an estimator without ``partial_fit``), before the run
      starts. Adapters written before it existed may leave it out: the trainer then asks nothing.
    - optional ``model_description(x_example)``: a :class:`ModelDescription` of the trained
      model, ``x_example`` being a few examples as the trainer got them; without it no tracker
      records the model.
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

    def check_fit(self, *, epochs: int, batch_size: int) -> None: ...

@dataclass(frozen=True)
class DatasetDescription:
    """A data set a run used, as trackers record it (MLflow run inputs, W&B config and references).

    ``digest`` is computed once, over the arrays' bytes (see :func:`toolkit.tracking.datasets.describe`),
    and every tracker receives the same value; ``source`` says where the data came from
    ("sklearn.datasets.load_digits", a file path); ``schema`` maps "features"/"targets" to their
    dtype and per-example shape; ``context`` is "training", "validation" or "evaluation".
    ``features`` and ``targets`` are the arrays themselves, held by reference (never copied), for
    trackers that build their own dataset object from them.
    """

    name: str
    digest: str
    source: str
    context: str
    rows: int
    schema: Mapping[str, Any] = field(default_factory=dict)
    features: Any = field(default=None, repr=False, compare=False)
    targets: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The description without the arrays, JSON-ready (what a W&B config holds)."""
        return {"name": self.name, "digest": self.digest, "source": self.source, "context": self.context,
                "rows": self.rows, "schema": dict(self.schema)}


@dataclass(frozen=True)
class ModelDescription:
    """A trained model handed to trackers once training ended (``Tracker.log_model``).

    ``framework`` is the adapter's ("keras", "sklearn"): a tracker saves ``model`` in its own
    native flavor for it (MLflow: ``mlflow.sklearn``, ``mlflow.keras``) with a signature taken
    from ``input_example`` and ``output_example`` (the model's probabilities for it). ``save``
    writes the model in its framework's own format into a folder and returns the path written,
    for trackers without a flavor for it (a W&B model artifact). ``register_as`` names a
    registered model to add it to, where the tracker has a registry.
    """

    framework: str
    model: Any = field(repr=False, compare=False)
    input_example: Any = field(default=None, repr=False, compare=False)
    output_example: Any = field(default=None, repr=False, compare=False)
    save: Optional[Callable[[str], str]] = field(default=None, repr=False, compare=False)
    register_as: Optional[str] = None
    name: str = "model"
