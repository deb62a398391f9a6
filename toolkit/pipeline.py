"""The one evaluation pipeline: options checked once, any source fills an Evaluator, then one tail.

Arrays in memory, files read a batch at a time and Dask partitions differ only in how they fill
an :class:`~toolkit.evaluation.engine.Evaluator` (``update`` or ``merge``). Everything after
that is here, the same for all three: metric selection, quality gates, bootstrap intervals,
threshold targets, and recording the result as a run in the chosen trackers. Every option is
checked before a single example is read, so bad input fails before anything is written.
See docs/architecture.md for the data path of one evaluation.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from toolkit.errors import UsageError
from toolkit.evaluation import bootstrap as resampling, gates as quality_gates, inputs, slices as slicing
from toolkit.evaluation.engine import Evaluator
from toolkit.evaluation.result import EvaluationResult
from toolkit.evaluation.selection import metric_choices
from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.run import Run

# The metric whose params ``threshold_targets`` sets: a plugin metric like any other.
THRESHOLD_METRIC = "threshold_analysis"


class Pipeline:
    """One evaluation's options, checked on construction; ``evaluator`` then ``finish``.

    The arguments are those of :func:`evaluate` that do not describe the data.
    """

    def __init__(
        self,
        *,
        metrics: Any = None,
        exact: bool = True,
        gates: quality_gates.GateInput = None,
        baseline: Optional[Mapping[str, float]] = None,
        ci: Optional[float] = None,
        n_bootstrap: int = 1000,
        seed: Any = None,
        bootstrap: str = "multinomial",
        threshold_targets: Optional[Mapping[str, float]] = None,
        trackers: Iterable[str] = (),
        run_name: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        plugin_manager: Optional[ToolkitPluginManager] = None,
        score_type: str = "probability",
        slice_by: slicing.SliceByArgument = None,
        cross_slices: slicing.CrossArgument = False,
    ) -> None:
        self.gates = quality_gates.parse_gates(gates)
        quality_gates.check_baseline(self.gates, baseline)
        self.slicing = slicing.check_slice_by(slice_by, cross_slices)
        quality_gates.check_gate_slices(self.gates, self.slicing)
        resampling.check_options(ci, n_bootstrap, seed, bootstrap)
        self.baseline = baseline
        self.targets = _check_threshold_targets(threshold_targets)
        self.manager = plugin_manager or get_plugin_manager()
        self.options = {"metrics": metrics, "exact": exact, "ci": ci, "n_bootstrap": n_bootstrap, "seed": seed,
                        "bootstrap": bootstrap, "score_type": inputs.check_score_type(score_type)}
        if self.slicing is not None:
            self.options.update(slice_by=list(self.slicing.columns),
                                cross_slices=[list(columns) for columns in self.slicing.slicings if len(columns) > 1])
        self.run = Run(run_name, params, trackers=trackers, plugin_manager=self.manager)  # checks names

    def evaluator(self, labels: Sequence, *, has_scores: bool, keep_predictions: bool = False) -> Evaluator:
        """An empty evaluator for ``labels``, with the gates and targets checked against what it computes.

        ``keep_predictions``: the source can keep its inputs (arrays in memory), which a tracked
        run then stores as ``predictions.npz``; kept only when the run has trackers.
        """
        metric_params = None
        if self.targets:
            chosen = self.options["metrics"]
            if len(inputs.check_labels(labels)) != 2 or not has_scores or (
                    chosen is not None and THRESHOLD_METRIC not in metric_choices(chosen)):
                raise UsageError(_TARGETS_NEED)
            if chosen is None and not self.options["exact"]:
                raise UsageError("threshold_targets need exact=True: the threshold analysis keeps every score")
            metric_params = {THRESHOLD_METRIC: {f"target_{name}": value for name, value in self.targets.items()}}
        evaluator = Evaluator(labels, plugin_manager=self.manager, metric_params=metric_params,
                              keep_predictions=keep_predictions and bool(self.run.tracker_names), **self.options)
        check_gate_metrics(self.gates, evaluator)
        return evaluator

    def finish(self, evaluator: Evaluator) -> EvaluationResult:
        """Compute the result, check the gates, record it in every tracker, and return it."""
        result = evaluator.compute()
        if self.gates:  # a gate on a metric this data could not give fails here, before logging
            result = dataclasses.replace(
                result, gates=quality_gates.evaluate_gates(self.gates, result.logged_metrics(), self.baseline,
                                                           slices=result.slices))
        with self.run:
            self.run.log_evaluation(result)
        return result


def check_gate_metrics(gates: Sequence[quality_gates.Gate], evaluator: Evaluator) -> None:
    """ValueError naming every gate whose metric ``evaluator`` cannot produce."""
    if not gates:
        return  # the known keys cost O(labels) to list (80,000 of them for 20,000 labels)
    known = quality_gates.known_metric_keys(
        {spec.name: spec for spec in evaluator.metric_specs}, task=evaluator.task,
        labels=evaluator.labels, intervals=evaluator.ci is not None)
    quality_gates.check_gate_metrics(gates, known, f"a {evaluator.task} evaluation")


_TARGETS_NEED = (f"threshold_targets need the threshold analysis: a binary task with y_score "
                 f"(and {THRESHOLD_METRIC!r} among metrics, when metrics are chosen)")


def _check_threshold_targets(targets: Optional[Mapping[str, float]]) -> dict:
    """``threshold_targets`` checked: keys precision/recall, values in [0, 1]."""
    if not targets:
        return {}
    if not isinstance(targets, Mapping):
        raise UsageError(f"threshold_targets must be a mapping like {{'precision': 0.9}}, got {targets!r}")
    unknown = sorted(set(targets) - {"precision", "recall"})
    if unknown:
        raise UsageError(f"threshold_targets: unknown target(s) {unknown}; use 'precision' and/or 'recall'")
    for name, value in targets.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise UsageError(f"threshold_targets: {name} must be a number between 0 and 1, got {value!r}")
    return dict(targets)


def evaluate(
    y_true: Any,
    y_pred: Any = None,
    y_score: Any = None,
    *,
    labels: Optional[Sequence] = None,
    sample_weight: Any = None,
    metrics: Any = None,
    trackers: Iterable[str] = (),
    run_name: Optional[str] = None,
    params: Optional[Mapping[str, Any]] = None,
    plugin_manager: Optional[ToolkitPluginManager] = None,
    exact: bool = True,
    scheduler: Any = None,
    gates: quality_gates.GateInput = None,
    ci: Optional[float] = None,
    n_bootstrap: int = 1000,
    seed: Any = None,
    baseline: Optional[Mapping[str, float]] = None,
    threshold_targets: Optional[Mapping[str, float]] = None,
    bootstrap: Optional[str] = None,
    score_type: str = "probability",
    slice_by: Optional[Mapping[str, Any]] = None,
    cross_slices: slicing.CrossArgument = False,
) -> EvaluationResult:
    """Evaluate predictions in one call; the rules on shapes and labels are in the README.

    Every input is checked before anything is computed or logged. With ``trackers``, the result
    is recorded as one run in each named tracker. ``metrics`` is None (every metric that
    applies), names, or name -> params for metrics that take settings
    (``{"top_k_accuracy": {"k": 3}}``). ``exact=False`` (with ``metrics=None``) keeps memory
    bounded: binned AUROC stands in for the exact one. Dask collections are evaluated partition
    by partition on the workers (``scheduler``: see ``toolkit.scale.on_dask``).

    ``gates`` (``{"accuracy": ">= 0.9"}`` or ``["accuracy>=0.9"]``) are checked on the result and
    listed in ``result.gates``; gates written against ``baseline`` compare with the metric values
    in ``baseline`` (another run's metrics). ``ci=0.95`` adds percentile bootstrap intervals over
    examples (``n_bootstrap`` resamples, ``seed`` for repeatability) in ``result.intervals``.
    ``bootstrap`` is how resamples are drawn: ``"multinomial"`` (the default for arrays) or
    ``"poisson"`` (the default for Dask collections): Poisson(1) weights per example that depend
    only on the seed and the example's position, so the same seed gives the same intervals for
    arrays, files and Dask in any partitioning.
    ``threshold_targets`` (``{"precision": 0.9, "recall": 0.95}``, binary with scores) adds those
    operating points to the threshold analysis before it is logged. ``score_type`` is
    ``"probability"``, ``"logits"`` or ``"decision"`` (see :class:`~toolkit.evaluation.engine.Evaluator`).

    ``slice_by`` (``{"region": regions, "device": devices}``: one value per example, as arrays,
    or Dask collections partitioned like ``y_true``) adds ``result.slices``: ``"region=north"``
    -> the result of that slice's examples alone (same labels, metrics, intervals), computed in
    the same pass; ``cross_slices=True`` adds ``"region=north,device=ios"`` (every column
    crossed), or give the crossings as ``[("region", "device")]``. Gates may name slices:
    ``"accuracy >= 0.8 for every region"``, ``"slice/region=north/accuracy >= 0.8"``.
    """
    from toolkit.scale import on_dask

    slice_values = _slice_values(slice_by)
    on_dask_collections = scheduler is not None or on_dask.holds_dask_collection(
        y_true, y_pred, y_score, sample_weight, *(slice_values or {}).values())
    if bootstrap is None:
        bootstrap = "poisson" if on_dask_collections else "multinomial"
    pipeline = Pipeline(metrics=metrics, exact=exact, gates=gates, baseline=baseline, ci=ci,
                        n_bootstrap=n_bootstrap, seed=seed, bootstrap=bootstrap, threshold_targets=threshold_targets,
                        trackers=trackers, run_name=run_name, params=params, plugin_manager=plugin_manager,
                        score_type=score_type, slice_by=slice_values, cross_slices=cross_slices)
    if on_dask_collections:
        collections = on_dask.Collections(y_true, y_pred, y_score, sample_weight, slices=slice_values)
        evaluator = pipeline.evaluator(collections.labels(labels), has_scores=y_score is not None)
        collections.fill(evaluator, scheduler)
        return pipeline.finish(evaluator)
    with inputs.bounds_read_once(), inputs.scores_checked_ahead(y_score, score_type):
        if labels is None:
            true_values = inputs.as_label_array(y_true, "y_true")
            pred_values = None if y_pred is None else inputs.as_label_array(y_pred, "y_pred")
            score_array = None if y_score is None else np.asarray(y_score)
            labels = inputs.infer_labels(true_values, pred_values, score_array)
        evaluator = pipeline.evaluator(labels, has_scores=y_score is not None, keep_predictions=True)
        evaluator.update(y_true, y_pred, y_score, sample_weight=sample_weight, slices=slice_values)
    return pipeline.finish(evaluator)


def _slice_values(slice_by: Any) -> Optional[dict]:
    """``slice_by`` of :func:`evaluate`: a mapping of slice name -> one value per example."""
    if slice_by is None:
        return None
    if not isinstance(slice_by, Mapping):
        raise UsageError(f"slice_by must be a mapping of slice name -> values (one per example), such as "
                         f"{{'region': regions}}; got {type(slice_by).__name__} (column names are for "
                         "evaluate_files)")
    for name, values in slice_by.items():
        if isinstance(values, str):
            raise UsageError(f"slice_by[{name!r}] is the text {values!r}: give the values, one per example "
                             "(column names are for evaluate_files and the Trainer's data)")
    return dict(slice_by) or None
