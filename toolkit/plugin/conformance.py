"""Conformance checks of a plugin's metrics and statistics: merging, pickling, needs, values, ordering.

What ``toolkit plugins --check`` and ``toolkit.testing.check_plugin`` run. Every metric and
statistic a plugin registers is exercised on generated inputs (binary and multiclass, int and
string labels, weights, tied scores, a class absent from the data), and each property that fails
is reported with the plugin, the metric or statistic, the property and the smallest input
(examples removed while it keeps failing) on which it fails.
"""

from __future__ import annotations

import difflib
import inspect
import math
import pickle
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

from toolkit.plugin.types import RAW_INPUTS, Batch, MetricSpec, StatisticSpec

# Floating-point states and values may differ by rounding when summed in another order.
TOLERANCE = 1e-12
SPLIT_TRIALS = 3  # random batch splits (and merge orders) per input
NEEDS, MERGE, PICKLE, VALUE, KIND, ORDERING = "needs", "merge", "pickle", "value", "kind", "ordering"


# --- generated inputs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Inputs:
    """One generated evaluation input, as a user passes it to ``toolkit.evaluate``."""

    description: str
    labels: tuple
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray  # (N,) probability of labels[1] for two labels, else (N, K)
    sample_weight: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def task(self) -> str:
        return "binary" if len(self.labels) == 2 else "multiclass"

    def subset(self, keep: np.ndarray) -> "Inputs":
        """The same input restricted to the examples at ``keep`` (positions, in order)."""
        weights = None if self.sample_weight is None else self.sample_weight[keep]
        return Inputs(self.description, self.labels, self.y_true[keep], self.y_pred[keep],
                      self.y_score[keep], weights)

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Evaluator.update``."""
        return {"y_true": self.y_true, "y_pred": self.y_pred, "y_score": self.y_score,
                "sample_weight": self.sample_weight}

    def batch(self) -> Batch:
        """The validated batch that statistics receive: label positions, (N, K) scores."""
        from toolkit.evaluation import inputs as checks

        return Batch(checks.encode(self.y_true, self.labels, "y_true"),
                     checks.encode(self.y_pred, self.labels, "y_pred"),
                     checks.check_scores(self.y_score, len(self), self.labels),
                     checks.check_weights(self.sample_weight, len(self)))

    def __str__(self) -> str:
        lines = [f"{self.description}: labels={list(self.labels)}",
                 f"y_true={self.y_true.tolist()}", f"y_pred={self.y_pred.tolist()}",
                 f"y_score={np.round(self.y_score, 6).tolist()}"]
        if self.sample_weight is not None:
            lines.append(f"sample_weight={np.round(self.sample_weight, 6).tolist()}")
        return "\n".join(lines)


def _draw(rng: np.random.Generator, description: str, labels: Sequence, n: int, *, weighted: bool = False,
          tied: bool = False, absent: Optional[int] = None) -> Inputs:
    k = len(labels)
    scores = rng.dirichlet(np.full(k, 0.7), size=n)
    if absent is not None:  # a class that neither y_true nor y_pred ever holds
        scores[:, absent] = 0.0
        scores /= scores.sum(axis=1, keepdims=True)
    if tied:
        scores = np.round(scores, 1)
        scores /= scores.sum(axis=1, keepdims=True)
    true_positions = np.minimum((rng.random((n, 1)) > scores.cumsum(axis=1)).sum(axis=1), k - 1)
    if absent is not None:
        true_positions[true_positions == absent] = (absent + 1) % k
    label_array = np.asarray(labels)
    return Inputs(description, tuple(labels), label_array[true_positions],
                  label_array[scores.argmax(axis=1)], scores[:, 1] if k == 2 else scores,
                  rng.uniform(0.1, 2.0, n) if weighted else None)


def generated_inputs(seed: int = 0) -> list[Inputs]:
    """The inputs every metric and statistic is checked on (those of its tasks)."""
    rng = np.random.default_rng(seed)
    one_true_class = _draw(rng, "binary, int labels, only one class in y_true", (0, 1), 24)
    one_predicted_class = _draw(rng, "binary, string labels, every prediction 'neg'", ("neg", "pos"), 24)
    return [
        _draw(rng, "binary, int labels", (0, 1), 40),
        _draw(rng, "binary, string labels, weights", ("neg", "pos"), 40, weighted=True),
        _draw(rng, "binary, string labels, tied scores", ("no", "yes"), 40, tied=True),
        replace(one_true_class, y_true=np.zeros(24, dtype=int)),
        replace(one_predicted_class, y_pred=np.full(24, "neg"), y_score=one_predicted_class.y_score * 0.49),
        _draw(rng, "multiclass, int labels, weights", (0, 1, 2, 3), 48, weighted=True),
        _draw(rng, "multiclass, string labels", ("ant", "bee", "cat"), 48),
        _draw(rng, "multiclass, int labels, tied scores, class 3 absent", (0, 1, 2, 3), 48, tied=True,
              absent=3),
        _draw(rng, "multiclass, string labels, weights, class 'b' absent", ("a", "b", "c"), 36,
              weighted=True, absent=1),
    ]


def _perfect_and_random(task: str, seed: int) -> tuple[Inputs, Inputs]:
    """The same y_true predicted perfectly (right labels, one-hot scores) and at random."""
    rng = np.random.default_rng(seed)
    labels = (0, 1) if task == "binary" else (0, 1, 2)
    k, n = len(labels), 12
    y_true = np.resize(np.arange(k), n)
    one_hot = np.eye(k)[y_true]
    random_scores = rng.dirichlet(np.ones(k), size=n)
    perfect = Inputs(f"{task}, perfect predictions", labels, y_true, y_true.copy(),
                     one_hot[:, 1] if k == 2 else one_hot)
    random = Inputs(f"{task}, random predictions", labels, y_true, random_scores.argmax(axis=1),
                    random_scores[:, 1] if k == 2 else random_scores)
    return perfect, random


# --- comparing states and values ------------------------------------------------------------------

def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def difference(a: Any, b: Any, path: str = "state") -> Optional[str]:
    """Where ``a`` and ``b`` differ, or None: integers exactly, floats to 1e-12 (relative above 1)."""
    if is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        for item in fields(a):
            if item.compare:
                found = difference(getattr(a, item.name), getattr(b, item.name), f"{path}.{item.name}")
                if found:
                    return found
        return None
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            return f"{path}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"
        return next((found for key in a if (found := difference(a[key], b[key], f"{path}[{key!r}]"))), None)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        return next((found for index, (x, y) in enumerate(zip(a, b))
                     if (found := difference(x, y, f"{path}[{index}]"))), None)
    if isinstance(a, (np.ndarray, np.generic, int, float)) and isinstance(b, (np.ndarray, np.generic, int, float)):
        if isinstance(a, int) and isinstance(b, int):  # Python ints may exceed int64: compare them as they are
            return None if a == b else f"{path}: {a} vs {b} (integers must agree exactly)"
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return f"{path}: shape {x.shape} vs {y.shape}"
        if x.dtype.kind in "iub" and y.dtype.kind in "iub":
            unequal = np.flatnonzero(x.reshape(-1) != y.reshape(-1))
            kind = "integers must agree exactly"
        elif x.dtype.kind in "fc" or y.dtype.kind in "fc":
            x64, y64 = x.astype(np.float64).reshape(-1), y.astype(np.float64).reshape(-1)
            bound = TOLERANCE * np.maximum(1.0, np.maximum(np.abs(x64), np.abs(y64)))
            both_nan = np.isnan(x64) & np.isnan(y64)
            unequal = np.flatnonzero(~both_nan & ~(np.abs(x64 - y64) <= bound))
            kind = f"beyond {TOLERANCE:g}"
        else:
            unequal = np.flatnonzero(x.reshape(-1) != y.reshape(-1))
            kind = "must be equal"
        if unequal.size:
            first = int(unequal[0])
            return (f"{path}: {x.reshape(-1)[first].tolist()!r} vs {y.reshape(-1)[first].tolist()!r} at index {first} "
                    f"({unequal.size} of {x.size} values differ; {kind})")
        return None
    try:
        equal = bool(a == b)
    except Exception:  # objects whose == is ambiguous or raises: compare what pickle keeps
        equal = pickle.dumps(a) == pickle.dumps(b)
    return None if equal else f"{path}: {a!r} vs {b!r}"


# --- the report -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """One property that does not hold, with the smallest input found that shows it."""

    plugin: str
    kind: str  # "metric" or "statistic"
    name: str
    property: str
    message: str
    inputs: Optional[Inputs] = None

    def __str__(self) -> str:
        text = f"plugin {self.plugin!r}, {self.kind} {self.name!r}, property {self.property!r}: {self.message}"
        if self.inputs is not None:
            shown = str(self.inputs).replace("\n", "\n      ")
            text += f"\n    minimal failing input ({len(self.inputs)} examples):\n      {shown}"
        return text


@dataclass
class ConformanceReport:
    """What was checked of one plugin, and every failure."""

    plugin: str
    distribution: str
    metrics: list[str] = field(default_factory=list)
    statistics: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        checked = f"{len(self.metrics)} metric(s), {len(self.statistics)} statistic(s)"
        head = f"{self.plugin} ({self.distribution}): {checked}: "
        if self.ok:
            return head + "ok"
        return head + f"{len(self.failures)} failure(s)\n" + "\n".join(f"  {failure}" for failure in self.failures)


class ConformanceError(AssertionError):
    """A plugin failed its conformance checks; ``report`` holds every failure."""

    def __init__(self, report: ConformanceReport) -> None:
        super().__init__(str(report))
        self.report = report


# --- needs: what a metric asks for exists, and compute takes exactly that ---------------------------

def needs_problems(spec: MetricSpec, statistics: Iterable[str]) -> list[str]:
    """Why ``spec``'s needs and ``compute`` arguments disagree with the registered statistics."""
    known = sorted(set(statistics) | set(RAW_INPUTS))
    problems = []
    for need in spec.needs:
        if need not in known:
            close = difflib.get_close_matches(need, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"needs {need!r}, which is neither a registered statistic nor a raw input"
                            f"{hint}; the metric would be left out of every evaluation")
    try:
        parameters = inspect.signature(spec.compute).parameters.values()
    except (TypeError, ValueError):
        return problems
    given = set(spec.needs) | set(spec.params)
    unfed = [parameter.name for parameter in parameters
             if parameter.default is inspect.Parameter.empty and parameter.name not in given
             and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if unfed:
        problems.append(f"compute requires {unfed}, which neither needs nor params name, so it is never given them")
    return problems


def unmet_needs(manager: Any) -> list[str]:
    """One line per installed metric whose needs name nothing registered (what ``toolkit plugins`` shows)."""
    statistics = manager.get_statistics()
    return [f"metric {name!r} (plugin {manager.provider_of('metric', name)!r}): {problem}"
            for name, spec in manager.get_metrics().items()
            for problem in needs_problems(spec, statistics) if problem.startswith("needs ")]


# --- the checks -----------------------------------------------------------------------------------

def _splits(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Random consecutive batches covering 0..n-1 (two to five of them, some of one example)."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, int(rng.integers(1, 5))), replace=False))
    return np.split(np.arange(n), cuts)


def _merge_randomly(parts: list, merge: Callable[[Any, Any], Any], rng: np.random.Generator,
                    keep_order: bool) -> Any:
    """Merge ``parts`` pairwise in a random tree: adjacent neighbours when ``keep_order``, else any two."""
    parts = list(parts)
    while len(parts) > 1:
        if keep_order:
            i = int(rng.integers(0, len(parts) - 1))
            j = i + 1
        else:
            i, j = (int(index) for index in rng.choice(len(parts), size=2, replace=False))
        parts[i] = merge(parts[i], parts[j])
        del parts[j]
    return parts[0]


class _Checker:
    """Runs every property of one plugin's metrics and statistics against one plugin manager."""

    def __init__(self, manager: Any, plugin_name: str, seed: int) -> None:
        self.manager = manager
        self.plugin = plugin_name
        self.seed = seed
        self.metric_specs = manager.get_metrics()
        self.statistic_specs = manager.get_statistics()
        self.inputs = generated_inputs(seed)

    def failure(self, kind: str, name: str, prop: str, check: Callable[[Inputs], Optional[str]],
                inputs: Inputs, minimum: int = 1) -> Optional[Failure]:
        message = check(inputs)
        if message is None:
            return None
        smallest = shrink(inputs, lambda candidate: check(candidate) is not None, minimum)
        return Failure(self.plugin, kind, name, prop, check(smallest) or message, smallest)

    # --- statistics -------------------------------------------------------------------------------

    def check_statistic(self, spec: StatisticSpec) -> list[Failure]:
        failures = []
        for prop, check, minimum in ((PICKLE, self._pickles, 1), (MERGE, self._statistic_merges, 2)):
            for inputs in self._statistic_inputs(spec):
                found = self.failure("statistic", spec.name, prop, lambda data: check(spec, data), inputs, minimum)
                if found:
                    failures.append(found)
                    break
        return failures

    def _statistic_inputs(self, spec: StatisticSpec) -> list[Inputs]:
        return [data for data in self.inputs if "sample_weight" not in spec.requires or data.sample_weight is not None]

    def _state(self, spec: StatisticSpec, data: Inputs) -> Any:
        return spec.update(spec.init(list(data.labels)), data.batch())

    @staticmethod
    def _final(spec: StatisticSpec, state: Any) -> Any:
        return spec.finalize(state) if spec.finalize else state

    def _pickles(self, spec: StatisticSpec, data: Inputs) -> Optional[str]:
        state = self._state(spec, data)
        try:
            restored = pickle.loads(pickle.dumps(state))
        except Exception as error:
            return (f"the state does not survive pickling ({type(error).__name__}: {error}); Dask and "
                    "process pools ship states between processes")
        found = difference(self._final(spec, restored), self._final(spec, self._state(spec, data)))
        return None if found is None else f"the state changes when pickled and unpickled: {found}"

    def _statistic_merges(self, spec: StatisticSpec, data: Inputs) -> Optional[str]:
        rng = np.random.default_rng(self.seed)
        whole = self._final(spec, self._state(spec, data))
        for _ in range(SPLIT_TRIALS):
            pieces = _splits(len(data), rng)
            try:  # each partial state travels pickled, as between Dask workers
                states = [pickle.loads(pickle.dumps(self._state(spec, data.subset(piece)))) for piece in pieces]
            except Exception:
                return None  # reported by the pickle property
            merged = self._final(spec, _merge_randomly(states, spec.merge, rng, keep_order=True))
            found = difference(merged, whole)
            if found:
                sizes = [len(piece) for piece in pieces]
                return (f"batches of {sizes} examples merged (in their order, random grouping) differ from "
                        f"one update with all of them: {found}")
        return None

    # --- metrics ----------------------------------------------------------------------------------

    def check_metric(self, spec: MetricSpec) -> list[Failure]:
        problems = needs_problems(spec, self.statistic_specs)
        if problems:
            return [Failure(self.plugin, "metric", spec.name, NEEDS, problem) for problem in problems]
        failures = []
        if spec.kind == "artifact" and spec.higher_is_better is not None:
            failures.append(Failure(self.plugin, "metric", spec.name, KIND,
                                    f"kind 'artifact' with higher_is_better={spec.higher_is_better}: an "
                                    "artifact has no order; use None, or kind 'scalar' for a number"))
        applicable = [data for data in self.inputs if self._applies(spec, data)]
        for prop, check, minimum in ((VALUE, self._valued, 1), (MERGE, self._metric_merges, 2)):
            if prop == MERGE and (spec.kind != "scalar" or any(failure.property == VALUE for failure in failures)):
                continue
            for data in applicable:
                found = self.failure("metric", spec.name, prop, lambda inputs: check(spec, inputs), data, minimum)
                if found:
                    failures.append(found)
                    break
        if spec.kind == "scalar" and spec.higher_is_better is not None and not failures:
            failures += self._ordering(spec)
        return failures

    def _applies(self, spec: MetricSpec, data: Inputs) -> bool:
        needs_weights = "sample_weight" in spec.needs or any(
            "sample_weight" in self.statistic_specs[need].requires for need in spec.needs if need in self.statistic_specs)
        return data.task in spec.tasks and (data.sample_weight is not None or not needs_weights)

    def _result(self, spec: MetricSpec, parts: Sequence[Inputs], rng: Optional[np.random.Generator] = None) -> Any:
        from toolkit.evaluation import Evaluator

        evaluators = [Evaluator(list(part.labels), {spec.name: None}, plugin_manager=self.manager).update(
            **part.as_kwargs()) for part in parts]
        merged = evaluators[0] if len(evaluators) == 1 else _merge_randomly(
            evaluators, lambda a, b: a.merge(b), rng, keep_order=False)
        return merged.compute()

    def _valued(self, spec: MetricSpec, data: Inputs) -> Optional[str]:
        try:
            result = self._result(spec, [data])
        except (TypeError, ValueError) as error:
            return (f"the engine cannot use what compute returned ({type(error).__name__}: {error}); a "
                    "scalar metric returns a float or a dict of metric key -> float")
        failed = [note for note in result.warnings if note.startswith(f"{spec.name}: failed with")]
        if failed:
            return f"compute raised: {failed[0][len(spec.name) + 2:]}"
        if spec.kind == "artifact":
            return None
        produced = {key: value for key, value in result.metrics.items()}
        if not produced:
            return "compute produced no value"
        for key, value in produced.items():
            if math.isinf(value):
                return f"{key} is {value}: values must be finite, or nan with a warning saying why"
            if math.isnan(value) and not any(note.startswith(f"{spec.name}:") for note in result.warnings):
                return (f"{key} is nan without a reason: call warnings.warn('why') in compute when the value "
                        "is undefined, so result.warnings says why")
        return None

    def _metric_merges(self, spec: MetricSpec, data: Inputs) -> Optional[str]:
        rng = np.random.default_rng(self.seed)
        whole = self._result(spec, [data]).metrics
        for _ in range(SPLIT_TRIALS):
            pieces = _splits(len(data), rng)
            merged = self._result(spec, [data.subset(piece) for piece in pieces], rng).metrics
            found = difference(merged, whole, "metrics")
            if found:
                sizes = [len(piece) for piece in pieces]
                return (f"batches of {sizes} examples merged in a random order give another value than "
                        f"one pass: {found}")
        return None

    def _ordering(self, spec: MetricSpec) -> list[Failure]:
        failures = []
        for task in spec.tasks:
            perfect, random = _perfect_and_random(task, self.seed)
            if not self._applies(spec, perfect):
                continue
            best, other = self._result(spec, [perfect]).metrics, self._result(spec, [random]).metrics
            keys = [spec.name] if spec.name in best else sorted(best)
            for key in keys:
                good, bad = best.get(key, math.nan), other.get(key, math.nan)
                if math.isnan(good) or math.isnan(bad):
                    continue
                worse = good < bad if spec.higher_is_better else good > bad
                if worse:
                    failures.append(Failure(
                        self.plugin, "metric", spec.name, ORDERING,
                        f"declared higher_is_better={spec.higher_is_better}, but {key} is {good!r} for perfect "
                        f"predictions (below) and {bad!r} for random ones ({random.y_pred.tolist()})", perfect))
                    return failures
        return failures


def shrink(inputs: Inputs, fails: Callable[[Inputs], bool], minimum: int = 1) -> Inputs:
    """The smallest input found by removing runs of examples while ``fails`` still holds."""
    current = inputs
    chunk = max(1, len(current) // 2)
    while True:
        start, removed = 0, False
        while start < len(current):
            keep = np.concatenate([np.arange(start), np.arange(start + chunk, len(current))])
            candidate = current.subset(keep)
            if len(candidate) >= minimum and fails(candidate):
                current, removed = candidate, True
            else:
                start += chunk
        if chunk == 1 and not removed:
            return current
        chunk = max(1, chunk // 2) if not removed else chunk


def check_plugin_in(manager: Any, plugin_name: str, *, seed: int = 0) -> ConformanceReport:
    """Check every metric and statistic that the plugin ``plugin_name`` registers in ``manager``."""
    from toolkit.plugin.manager import use_plugin_manager

    info = {info.name: info for info in manager.plugin_infos()}.get(plugin_name)
    if info is None:
        loaded = sorted(info.name for info in manager.plugin_infos())
        raise ValueError(f"no plugin named {plugin_name!r} is loaded; loaded plugins: {loaded}")
    report = ConformanceReport(plugin_name, info.distribution, list(info.metrics), list(info.statistics))
    checker = _Checker(manager, plugin_name, seed)
    with use_plugin_manager(manager):  # unpickled evaluators look their plugins up in this manager
        for name in info.statistics:
            report.failures += checker.check_statistic(checker.statistic_specs[name])
        for name in info.metrics:
            report.failures += checker.check_metric(checker.metric_specs[name])
    return report


def check_plugin(plugin: Any, *, plugin_manager: Any = None, seed: int = 0) -> ConformanceReport:
    """Check a plugin (a module or object with hooks, or an installed plugin's name); the report
    lists every failure (``report.ok`` is True when there is none)."""
    from toolkit.plugin.manager import create_plugin_manager

    manager = plugin_manager if plugin_manager is not None else create_plugin_manager(strict=True)
    if isinstance(plugin, str):
        return check_plugin_in(manager, plugin, seed=seed)
    name = manager.get_name(plugin) if manager.is_registered(plugin) else None
    if name is None:
        name = manager.register(plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)
    return check_plugin_in(manager, name, seed=seed)
