"""The metric engine: batches update shared statistics once, then every metric is computed from them."""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from toolkit.evaluation import bootstrap as resampling, concurrency, inputs, poisson_sums, slices as slicing
from toolkit.evaluation.poisson import check_seed
from toolkit.evaluation.result import EvaluationResult
from toolkit.evaluation.selection import (
    default_metrics, metric_choices, plugin_problems, probability_metrics, with_defaults,
)
from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.records import Predictions
from toolkit.plugin.types import RAW_INPUTS, Batch, MetricSpec
from toolkit.suggestions import did_you_mean

_ALWAYS_KEPT = ("confusion",)  # result.confusion_matrix comes from it, whatever the metrics
_KEPT_FOR_INTERVALS = ("weighted_cells",)  # weighted confusion resamples need each example's weight


def task_of(labels: Sequence) -> str:
    """ "binary" for two labels, "multiclass" otherwise."""
    return "binary" if len(labels) == 2 else "multiclass"


class Evaluator:
    """Streaming evaluation: ``update`` with any number of batches, ``merge`` other evaluators'
    states, then ``compute`` the result. States are the registered statistics, so a batch costs
    one pass however many metrics need it.

    ``score_type`` says what ``y_score`` holds: ``"probability"`` (checked: in [0, 1], rows
    summing to 1), ``"logits"`` (sigmoid/softmax applied first) or ``"decision"`` (margins:
    ranking metrics only; y_pred is ``> 0`` for binary margins, the argmax otherwise).

    ``first_position`` is the global position of this evaluator's first example, which keys its
    Poisson bootstrap weights (``bootstrap="poisson"``): 0 for the first part, None for a part
    whose position is known only when it is merged in order (``spawn()`` makes those).

    ``slice_by`` names slice columns (``["region", "device"]``) whose values every ``update``
    then gives (``slices={"region": ...}``); ``cross_slices`` adds crossings (True: all columns
    crossed; or a list of column tuples). Each slice keeps statistics of its own, fed from the
    same validated batch, and ``compute`` gives ``result.slices`` (see
    :mod:`toolkit.evaluation.slices`): each slice's metrics (and intervals, with ``ci``) are
    those of evaluating its examples alone with this evaluation's labels.

    ``keep_predictions=True`` keeps the checked inputs (references, not copies; labels as their
    positions) for ``result.predictions``, which a tracked run stores as ``predictions.npz``.
    An evaluator that merges another's state keeps none: it never saw those examples.
    """

    def __init__(
        self,
        labels: Sequence,
        metrics: Any = None,
        *,
        plugin_manager: Optional[ToolkitPluginManager] = None,
        exact: bool = True,
        ci: Optional[float] = None,
        n_bootstrap: int = 1000,
        seed: Any = None,
        metric_params: Optional[Mapping[str, Mapping[str, Any]]] = None,
        bootstrap: str = "multinomial",
        score_type: str = "probability",
        keep_predictions: bool = False,
        slice_by: slicing.SliceByArgument = None,
        cross_slices: slicing.CrossArgument = False,
        first_position: Optional[int] = 0,
    ) -> None:
        resampling.check_options(ci, n_bootstrap, seed, bootstrap)
        self._slicing = slicing.check_slice_by(slice_by, cross_slices)
        self.score_type = inputs.check_score_type(score_type)
        # A Poisson bootstrap's seed is fixed now, so that every compute() and every evaluator
        # made alike (another process's partition) draws the same weights.
        if ci is not None and bootstrap == "poisson":
            seed = check_seed(seed)
        # Everything but the plugin manager, so that another process can make an evaluator alike.
        self.settings = {"metrics": metrics, "exact": exact, "ci": ci, "n_bootstrap": n_bootstrap,
                         "seed": seed, "metric_params": metric_params, "bootstrap": bootstrap,
                         "score_type": score_type}
        if self._slicing is not None:  # only when slicing, so evaluators of older versions merge as before
            self.settings.update(slice_by=list(self._slicing.columns),
                                 cross_slices=[list(columns) for columns in self._slicing.slicings
                                               if len(columns) > 1])
        self.ci, self.n_bootstrap, self.seed, self.bootstrap = ci, n_bootstrap, seed, bootstrap
        self.labels = inputs.check_labels(labels)
        self.task = task_of(self.labels)
        manager = self._manager = plugin_manager or get_plugin_manager()
        self._metric_specs = manager.get_metrics()
        self._statistic_specs = manager.get_statistics()
        self._params: dict[str, dict[str, Any]] = {}  # metric name -> chosen params, when not defaults
        self._problems = plugin_problems(manager, self._metric_specs, self._statistic_specs)
        # metrics=None (or "default" among them): exact=False keeps memory bounded (see selection.default_metrics).
        self._exact = bool(exact)
        self._selected, default_notes = self._select(metrics)
        self._defaults, self._selection_notes = default_metrics(
            self._metric_specs, self._statistic_specs, self.task, exact=self._exact
        ) if self._selected is None else (None, default_notes)
        self._selection_notes = self._problems + self._selection_notes
        if self._defaults is not None and self.score_type == "decision":
            left_out = probability_metrics(self._defaults)
            self._defaults = [spec for spec in self._defaults if spec.name not in left_out]
            if left_out:
                self._selection_notes.append(
                    f"{', '.join(left_out)}: left out: score_type='decision' scores are not probabilities")
        candidates = self._selected if self._selected is not None else self._defaults
        self._apply_metric_params(metric_params, candidates)
        needs = {need for spec in candidates for need in spec.needs}
        self._raw_needed = sorted(needs & set(RAW_INPUTS))
        kept = _ALWAYS_KEPT
        if ci is not None and self._exact:  # exact=False promises bounded memory: no per-example data
            kept += _KEPT_FOR_INTERVALS + tuple(
                need for spec in candidates for need in (spec.resample_needs or ()) if need not in RAW_INPUTS)
        self._statistics = [
            name for name in self._statistic_specs if name in needs or name in kept
        ]
        self._states = {name: self._statistic_specs[name].init(self.labels) for name in self._statistics}
        self._raw: dict[str, list] = {name: [] for name in self._raw_needed}
        self._has_scores: Optional[bool] = None
        self._has_weights: Optional[bool] = None
        self._slices: dict[str, Evaluator] = {}  # slice name -> the evaluator of its examples
        self._slice_pairs: dict[str, tuple] = {}  # slice name -> ((column, value), ...)
        self._slice_prefixes: dict[str, str] = {}  # tracker key prefix -> slice name (two must not share one)
        self._slice_template: Optional[Evaluator] = None  # an empty slice evaluator, copied per new slice
        self._scalars_only = False  # slice evaluators leave artifacts (curves, tables) to the whole
        # exact=False, Poisson: weighted counts and statistics with per-example terms (log loss's)
        # are resampled batch by batch in bounded memory, not from kept examples
        self._poisson_sums = poisson_sums.for_statistics(
            seed, n_bootstrap, len(self.labels), first_position,
            [self._statistic_specs[name] for name in self._statistics],
        ) if ci is not None and bootstrap == "poisson" and not self._exact else None
        # per batch: (y_true, y_pred, whether y_pred was given, y_score, weights)
        self._kept: Optional[list] = [] if keep_predictions else None

    def _select(self, metrics: Any) -> tuple[Optional[list[MetricSpec]], list[str]]:
        if metrics is None:
            return None, []
        named = metric_choices(metrics)
        chosen, notes = with_defaults(named, self._metric_specs, self._statistic_specs, self.task, exact=self._exact)
        if self.score_type == "decision":  # "default" means what metrics=None computes for margins
            from_default = [name for name in chosen if name not in named and name in self._metric_specs
                            and self._metric_specs[name].needs_probabilities]
            chosen = {name: params for name, params in chosen.items() if name not in from_default}
            if from_default:
                notes.append(f"{', '.join(from_default)}: left out: score_type='decision' scores are not probabilities")
        unknown = [name for name in chosen if name not in self._metric_specs]
        if unknown:
            broken = "".join(f"; {note}" for note in self._problems)
            raise ValueError(
                f"metrics names unknown metric(s) {unknown}; {did_you_mean(unknown[0], self._metric_specs)}"
                f"registered: default, {', '.join(sorted(self._metric_specs))}{broken}"
            )
        selected = [self._metric_specs[name] for name in chosen]
        wrong_task = [spec.name for spec in selected if self.task not in spec.tasks]
        if wrong_task:
            raise ValueError(
                f"metrics {wrong_task} do not apply to a {self.task} task with "
                f"{len(self.labels)} labels"
            )
        missing = sorted(
            f"{spec.name} needs {need}" for spec in selected for need in spec.needs
            if need not in RAW_INPUTS and need not in self._statistic_specs
        )
        if missing:
            raise ValueError(f"metrics: {', '.join(missing)}, which no plugin registers")
        needing = probability_metrics(selected)
        if needing and self.score_type == "decision":
            raise ValueError(f"metrics {needing} need probabilities, but score_type='decision' scores are "
                             "margins: leave them out, or pass probabilities (or score_type='logits')")
        self._params.update({spec.name: spec.with_params(chosen[spec.name]) for spec in selected})
        return selected, notes

    def _apply_metric_params(self, metric_params: Optional[Mapping[str, Mapping[str, Any]]],
                             candidates: list[MetricSpec]) -> None:
        """Settings for metrics chosen or computed by default (``{"threshold_analysis": {...}}``)."""
        if not metric_params:
            return
        if not isinstance(metric_params, Mapping):
            raise ValueError(f"metric_params must be a mapping of metric name -> params, got {metric_params!r}")
        by_name = {spec.name: spec for spec in candidates}
        outside = sorted(set(metric_params) - set(by_name))
        if outside:
            raise ValueError(f"metric_params names {outside}, which this {self.task} evaluation does not "
                             f"compute; it computes {sorted(by_name)}")
        for name, overrides in metric_params.items():
            if overrides is not None and not isinstance(overrides, Mapping):
                raise ValueError(f"metric_params: params of {name!r} must be a mapping, got {overrides!r}")
            self._params[name] = by_name[name].with_params({**self._params.get(name, {}), **(overrides or {})})

    @property
    def metric_specs(self) -> list[MetricSpec]:
        """The metrics this evaluator computes when their inputs are given (chosen, or the defaults)."""
        return list(self._selected if self._selected is not None else self._defaults)

    def spawn(self) -> "Evaluator":
        """A new, empty evaluator made alike (same labels, metrics and options), ready to merge back;
        its examples' positions (for the Poisson bootstrap) are set when it is merged."""
        return Evaluator(self.labels, plugin_manager=self._manager, first_position=None, **self.settings)

    # --- accumulating -----------------------------------------------------------------------------

    def update(
        self,
        y_true: Any,
        y_pred: Any = None,
        y_score: Any = None,
        *,
        sample_weight: Any = None,
        slices: Optional[Mapping[str, Any]] = None,
    ) -> "Evaluator":
        """Add one batch; everything is validated before any state changes.

        ``slices`` maps each ``slice_by`` column to this batch's values, one per example."""
        batch, raw = self._validate(y_true, y_pred, y_score, sample_weight)
        groups = self._slice_groups(slices, len(batch))
        self._accumulate(batch, raw)
        if self._kept is not None:
            self._kept.append((batch.y_true, batch.y_pred, y_pred is not None,
                               None if y_score is None else np.asarray(_unmasked_scores(y_score)), batch.sample_weight))
        for _, order, present in groups:
            # one gather per slicing; each slice's rows are then a contiguous run (views)
            ordered = _take(batch, {name: raw[name] for name in self._raw_needed if name in raw}, order)
            for pairs, start, stop in present:
                child = self._slice_evaluator(pairs)
                child._accumulate(*_take(*ordered, slice(start, stop)))
        return self

    def _slice_groups(self, slices: Optional[Mapping[str, Any]], n: int) -> list:
        if self._slicing is None:
            if slices is not None:
                raise ValueError("slices were given, but this evaluator was made without slice_by")
            return []
        if slices is None:
            raise ValueError(f"slices: this evaluator slices by {list(self._slicing.columns)}; give "
                             "slices={column: values} with every batch")
        groups = self._slicing.groups(slices, n)
        names, prefixes = dict(self._slice_pairs), dict(self._slice_prefixes)
        for _, _, present in groups:  # new slices' names checked before any state changes
            for pairs, _, _ in present:
                self._check_new_slice(pairs, names, prefixes)
        return groups

    def _check_new_slice(self, pairs: tuple, names: dict, prefixes: dict) -> None:
        """ValueError when ``pairs`` would share a name or tracker keys with another slice; else noted
        in ``names`` (name -> pairs) and ``prefixes`` (tracker key prefix -> name)."""
        name = slicing.slice_name(pairs)
        known = names.get(name)
        if known is not None and known != pairs:
            raise ValueError(f"slice_by: values {known} and {pairs} are both named {name!r}; give each "
                             "slice column values of one kind")
        if known is None:
            prefix = slicing.tracker_prefix(pairs)
            if prefix in prefixes:
                raise ValueError(f"slice_by: slices {prefixes[prefix]!r} and {name!r} would be recorded under the "
                                 f"same tracker keys {prefix}...; map one of the values to another name")
            names[name], prefixes[prefix] = pairs, name

    def _slice_evaluator(self, pairs: tuple) -> "Evaluator":
        name = slicing.slice_name(pairs)
        child = self._slices.get(name)
        if child is None:
            if self._slice_template is None:
                settings = {key: value for key, value in self.settings.items()
                            if key not in ("slice_by", "cross_slices")}
                # a slice's examples count from its own first one, placed on merge like its parent's
                unplaced = self._poisson_sums is not None and self._poisson_sums.start is None
                self._slice_template = Evaluator(self.labels, plugin_manager=self._manager,
                                                 first_position=None if unplaced else 0, **settings)
                self._slice_template._scalars_only = True
            child = self._slices[name] = self._slice_template._fresh()
            self._slice_pairs[name] = pairs
            self._slice_prefixes[slicing.tracker_prefix(pairs)] = name
        return child

    def _fresh(self) -> "Evaluator":
        """An empty evaluator like this one, without repeating metric selection."""
        child = copy.copy(self)
        child._states = {name: self._statistic_specs[name].init(self.labels) for name in self._statistics}
        child._raw = {name: [] for name in self._raw_needed}
        child._slices, child._slice_pairs, child._slice_prefixes = {}, {}, {}
        child._poisson_sums = None if self._poisson_sums is None else self._poisson_sums.emptied()
        return child

    def _accumulate(self, batch: Batch, raw: dict) -> None:
        """Add a validated batch to the statistics."""
        self._has_scores, self._has_weights = batch.y_score is not None, batch.sample_weight is not None
        updated = [name for name in self._statistics
                   if all(getattr(batch, need) is not None for need in self._statistic_specs[name].requires
                          if need != "labels")]
        beside = [name for name in updated if self._statistic_specs[name].concurrent]
        if not beside or len(beside) == len(updated) or not concurrency.worth_handing_over(batch.y_true.shape[0]):
            beside = []
        # the concurrent ones on the helper thread while the others run here (each state is its
        # own); taken back here if the helper has not begun them by then
        task = concurrency.HelperTask(self._updated, beside, batch) if beside else None
        self._states.update(self._updated([name for name in updated if name not in beside], batch))
        if task is not None:
            self._states.update(task.outcome())
        for name in self._raw_needed:
            if name != "labels" and raw[name] is not None:
                self._raw[name].append(raw[name])
        if self._poisson_sums is not None:
            self._poisson_sums.add(batch, self._statistic_specs)

    def _updated(self, names: list, batch: Batch) -> dict:
        """The states of the statistics ``names`` with ``batch`` added."""
        return {name: self._statistic_specs[name].update(self._states[name], batch) for name in names}

    def _validate(self, y_true: Any, y_pred: Any, y_score: Any, sample_weight: Any) -> tuple[Batch, dict]:
        true_values = inputs.as_label_array(y_true, "y_true")
        n = true_values.shape[0]
        if y_pred is None and y_score is None:
            raise ValueError("give y_pred or y_score (or both): there is nothing to compare y_true with")
        scores = None if y_score is None else inputs.check_scores(y_score, n, self.labels, self.score_type)
        weights = inputs.check_weights(sample_weight, n)
        for flag, present, argument in (("_has_scores", scores is not None, "y_score"),
                                        ("_has_weights", weights is not None, "sample_weight")):
            previous = getattr(self, flag)
            if previous is not None and previous != present:
                raise ValueError(f"{argument} must be given for every batch or for none")
        true_codes = inputs.encode(true_values, self.labels, "y_true")
        if y_pred is not None:
            pred_values = inputs.as_label_array(y_pred, "y_pred")
            if pred_values.shape[0] != n:
                raise ValueError(f"y_pred has {pred_values.shape[0]} values but y_true has {n}")
            pred_codes = inputs.encode(pred_values, self.labels, "y_pred")
        else:
            pred_codes = inputs.predicted_codes(scores, _was_binary(y_score), self.score_type)
            pred_values = None
            if "y_pred" in self._raw_needed:  # the labels themselves, only for metrics that ask for them
                pred_values = np.asarray(self.labels, dtype=object if _mixed(self.labels) else None)[pred_codes]
        self._has_scores, self._has_weights = scores is not None, weights is not None
        raw = {"y_true": true_values, "y_pred": pred_values, "sample_weight": weights,
               "y_score": None if y_score is None else _raw_scores(y_score, scores, self.score_type)}
        return Batch(true_codes, pred_codes, scores, weights), raw

    def merge(self, other: "Evaluator") -> "Evaluator":
        """Fold another evaluator's states (same labels and metrics) into this one."""
        if not isinstance(other, Evaluator):
            raise ValueError(f"other must be an Evaluator, got {type(other).__name__}")
        if other.labels != self.labels:
            raise ValueError(f"other has labels {list(other.labels)}, this one {list(self.labels)}")
        if getattr(other, "_slicing", None) != self._slicing:
            raise ValueError("other was made with different slice_by or cross_slices; merge evaluators made alike")
        if (other._statistics != self._statistics or other._raw_needed != self._raw_needed
                or other._params != self._params or other._exact != self._exact
                or getattr(other, "score_type", "probability") != self.score_type):
            raise ValueError("other was made with different metrics; merge evaluators made alike")
        for flag in ("_has_scores", "_has_weights"):
            mine, theirs = getattr(self, flag), getattr(other, flag)
            if None not in (mine, theirs) and mine != theirs:
                raise ValueError(f"cannot merge: {flag[5:]} were given to one evaluator and not the other")
            setattr(self, flag, mine if mine is not None else theirs)
        for name in self._statistics:
            self._states[name] = self._statistic_specs[name].merge(self._states[name], other._states[name])
        for name in self._raw_needed:
            self._raw[name].extend(other._raw[name])
        if self._poisson_sums is not None:
            self._poisson_sums.merge(other._poisson_sums)
        self._kept = None
        for name, child in getattr(other, "_slices", {}).items():
            pairs = other._slice_pairs[name]
            self._check_new_slice(pairs, self._slice_pairs, self._slice_prefixes)
            self._slice_evaluator(pairs).merge(child)
        return self

    # --- shipping between processes ---------------------------------------------------------------

    def __getstate__(self) -> dict:
        # Specs hold plugin functions (often lambdas or closures) that do not pickle: ship their
        # names; the receiving process looks them up among its own installed plugins.
        state = self.__dict__.copy()
        for attribute in ("_metric_specs", "_statistic_specs", "_manager"):
            del state[attribute]
        state["_slice_template"] = None  # made again where it is needed
        for attribute in ("_selected", "_defaults"):
            specs = state[attribute]
            state[attribute] = None if specs is None else [spec.name for spec in specs]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        manager = self._manager = get_plugin_manager()
        self._metric_specs = manager.get_metrics()
        self._statistic_specs = manager.get_statistics()
        missing = [name for name in [*(self._selected or ()), *(self._defaults or ())]
                   if name not in self._metric_specs]
        missing += [name for name in self._statistics if name not in self._statistic_specs]
        if missing:
            raise ValueError(f"this process has no plugin for {sorted(set(missing))}: install the "
                             "same plugins where evaluators are made and where they are merged")
        for attribute in ("_selected", "_defaults"):
            names = getattr(self, attribute)
            if names is not None:
                setattr(self, attribute, [self._metric_specs[name] for name in names])

    # --- computing --------------------------------------------------------------------------------

    def compute(self) -> EvaluationResult:
        """Every selected metric from the statistics gathered so far."""
        if self._has_scores is None:
            raise ValueError("no batch was given: call update() before compute()")
        if self._has_weights and not self._states["confusion"].sum() > 0:
            raise ValueError("sample_weight is zero for every example: no example would count")
        available = {name for name in self._statistics
                     if all(self._available(need) for need in self._statistic_specs[name].requires)}
        available |= {name for name in self._raw_needed if self._available(name)}
        if self._selected is None:
            specs = [spec for spec in self._defaults if all(need in available for need in spec.needs)]
        else:
            missing = [f"{spec.name} needs {need}" for spec in self._selected
                       for need in spec.needs if need not in available]
            if missing:
                raise ValueError(f"metrics: {', '.join(missing)}, which this evaluation was not given")
            specs = self._selected
        values = self._values({need for spec in specs for need in spec.needs} | set(_ALWAYS_KEPT))
        metrics: dict[str, float] = {}
        artifacts: dict[str, Any] = {}
        notes: list[str] = list(self._selection_notes)
        for spec in specs:
            if spec.kind == "artifact" and self._scalars_only:
                continue
            arguments = {need: values[need] for need in spec.needs}
            arguments.update(self._params.get(spec.name, spec.params))
            outcome = _run_metric(spec, arguments, notes)
            if spec.kind == "artifact":
                artifacts[spec.name] = outcome
                continue
            produced = outcome if isinstance(outcome, Mapping) else {spec.name: outcome}
            for key, value in produced.items():
                if key in metrics:
                    notes.append(f"{spec.name}: key {key!r} was already produced by another metric; kept the first")
                    continue
                metrics[key] = float(value)
                if math.isnan(metrics[key]) and not any(note.startswith(f"{spec.name}:") for note in notes):
                    notes.append(f"{key} is undefined for this data (nan)")
        intervals = {}
        if self.ci is not None:
            scalar = [spec for spec in specs if spec.kind == "scalar"]
            extra = {name for name in _KEPT_FOR_INTERVALS if name in available}
            extra |= {need for spec in scalar for need in (spec.resample_needs or ()) if need in available}
            intervals = resampling.bootstrap_intervals(
                scalar, {**values, **self._values(extra - set(values)), **self._poisson_values()},
                ci=self.ci, n_bootstrap=self.n_bootstrap, seed=self.seed, notes=notes,
                params={spec.name: self._params.get(spec.name, spec.params) for spec in scalar},
                method=self.bootstrap,
            )
        return EvaluationResult(
            metrics=metrics, labels=list(self.labels), confusion_matrix=values["confusion"],
            warnings=notes, artifacts=artifacts, task=self.task, intervals=intervals,
            interval_method=self._interval_method(), predictions=self._kept_predictions(),
            slices=self._compute_slices(metrics, notes),
        )

    def _interval_method(self) -> dict[str, Any]:
        """How the intervals were drawn, for readers of a recorded run (empty without ``ci``)."""
        if self.ci is None:
            return {}
        seed = self.seed if isinstance(self.seed, (int, np.integer)) and not isinstance(self.seed, bool) else None
        return {"level": self.ci, "bootstrap": self.bootstrap, "resamples": self.n_bootstrap,
                "seed": None if seed is None else int(seed)}

    def _compute_slices(self, whole: Mapping[str, float], notes: list[str]) -> slicing.SliceResults:
        """Each slice's result; its notes (an undefined metric, ...) also reach the whole's warnings."""
        if self._slicing is None:
            return slicing.SliceResults()
        entries = []
        by_slicing = {columns: index for index, columns in enumerate(self._slicing.slicings)}
        for name in sorted(self._slices, key=lambda name: (
                by_slicing[tuple(column for column, _ in self._slice_pairs[name])],
                slicing.sort_key(self._slice_pairs[name]))):
            child = self._slices[name]
            if child._has_weights and not child._states["confusion"].sum() > 0:
                result = EvaluationResult(
                    metrics={key: math.nan for key in whole}, labels=list(self.labels),
                    confusion_matrix=child._values({"confusion"})["confusion"], task=self.task,
                    warnings=["sample_weight is zero for every example of this slice: every metric is nan"])
            else:
                result = child.compute()
            for note in result.warnings:
                if note not in self._selection_notes:
                    notes.append(f"slice {name}: {note}")
            entries.append((self._slice_pairs[name], result))
        return slicing.SliceResults(self._slicing, entries)

    def _poisson_values(self) -> dict[str, Any]:
        """What the bootstrap reads from the batch-by-batch Poisson sums, when this evaluator keeps them."""
        if self._poisson_sums is None:
            return {}
        sums = self._poisson_sums.resampled()
        resampled = {"poisson_states": sums.states({name: self._statistic_specs[name].from_sums for name in sums.sums})}
        if sums.cells is not None:
            resampled["poisson_cells"] = (sums.cells, sums.examples)
        return resampled

    def _kept_predictions(self) -> Optional[Predictions]:
        if not self._kept:
            return None
        true, pred, given, scores, weights = zip(*self._kept)
        # y_pred is stored when it was given (a batch given none adds the predictions its scores implied)
        return Predictions(y_true=_joined(true), labels=self.labels, y_pred=_joined(pred) if any(given) else None,
                           y_score=_joined(scores), sample_weight=_joined(weights), score_type=self.score_type)

    def _available(self, need: str) -> bool:
        if need == "y_score":
            return bool(self._has_scores)
        if need == "sample_weight":
            return bool(self._has_weights)
        return True

    def _values(self, needs: set) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in needs:
            if name in self._states:
                spec = self._statistic_specs[name]
                values[name] = spec.finalize(self._states[name]) if spec.finalize else self._states[name]
            elif name == "labels":
                values[name] = list(self.labels)
            elif name in self._raw:
                chunks = self._raw[name]
                values[name] = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        return values


def _joined(chunks: tuple) -> Optional[np.ndarray]:
    """One batch's array as it is (no copy), several batches' concatenated; None when they had none."""
    if chunks[0] is None:
        return None
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _unmasked_scores(y_score: Any) -> Any:
    """Scores already checked: a masked array has no masked entry left, so its data is the array."""
    return np.ma.getdata(y_score) if isinstance(y_score, np.ma.MaskedArray) else y_score
def _take(batch: Batch, raw: dict, index: Any) -> tuple[Batch, dict]:
    """The rows ``index`` (an order or a slice) of a validated batch and of the raw inputs kept."""
    def rows(array: Any) -> Any:
        if array is None:
            return None
        # np.take gathers rows of a 2-D array several times faster than fancy indexing does
        return np.asarray(array)[index] if isinstance(index, slice) else np.take(array, index, axis=0)

    return (Batch(rows(batch.y_true), rows(batch.y_pred), rows(batch.y_score), rows(batch.sample_weight)),
            {name: rows(value) for name, value in raw.items()})


def _was_binary(y_score: Any) -> bool:
    shape = np.shape(y_score)
    return len(shape) == 1 or shape[1] == 1


def _raw_scores(y_score: Any, scores: np.ndarray, score_type: str) -> np.ndarray:
    """``y_score`` for metrics that read it raw: as given, or as probabilities for logits."""
    if score_type != "logits":
        return np.asarray(y_score)
    return scores[:, 1] if _was_binary(y_score) else scores


def _mixed(labels: tuple) -> bool:
    return len({type(label) for label in labels}) > 1


def _run_metric(spec: MetricSpec, arguments: dict, notes: list[str]) -> Any:
    """One metric's value; its warnings become notes, and a failure is nan plus a note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = spec.compute(**arguments)
        except Exception as error:  # one broken metric must not lose the others
            outcome = math.nan
            notes.append(f"{spec.name}: failed with {type(error).__name__}: {error}")
    for warning in caught:
        note = f"{spec.name}: {warning.message}"
        if note not in notes:
            notes.append(note)
    return outcome
