"""Percentile bootstrap confidence intervals, drawn by resampling statistics rather than copied data.

A bootstrap resample draws N examples with replacement; what each metric sees of it is exact
without copying the data:

* metrics of the confusion counts (accuracy, precision/recall/F1, ...), unweighted: the resampled
  confusion matrix is one multinomial draw over its K x K cells (probabilities = cell counts / N),
  so a resample costs O(K^2), however large N is;
* the same metrics with sample weights: a resampled cell holds the *weights* of the examples
  drawn, so each example's multiplicity is drawn (an (R, N) count matrix, in chunks) and the
  cells are summed from count x weight;
* metrics of per-example statistics (``scores``: AUROC, log loss): each resample is the same
  examples with their weights multiplied by their multiplicities; a metric's vectorised
  ``resample`` function (AUROC: sort once, then a weighted cumulative sum per resample) handles
  a chunk of resamples at once; without one, ``compute`` runs on each resampled copy.

``method="poisson"`` draws the same kinds of resamples with an independent Poisson(1) weight per
example instead (see :mod:`toolkit.evaluation.poisson`): unweighted cells are then Poisson(count)
draws, and per-example weights depend only on the seed, the resample and the example's position,
so batches, files and partitions give the same intervals as one array.

Each metric's interval is the exact percentile bootstrap of that metric. Confusion metrics and
score metrics are drawn from independent resamples: this does not change any one metric's
interval, only the correlation between intervals, which nothing reports.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from toolkit.evaluation.poisson import cell_counts, check_seed, chunk_width, compiled_for, weight_chunks
from toolkit.plugin.types import RAW_INPUTS, MetricSpec, Resamples

# Each chunk's (N, R) count matrix holds about this many counts (one byte each; R >= 16 however
# large N is, see poisson.chunk_width), and the indices behind it are drawn about DRAW_CELLS at a time.
CHUNK_CELLS = 32_000_000
DRAW_CELLS = 1_000_000
_CONFUSION_NEEDS = {"confusion", "labels", "count"}
# What the fallback (compute on each resampled copy) knows how to resample.
_RESAMPLABLE = set(RAW_INPUTS) | {"scores", "count", "labels"}

Seed = Union[None, int, np.random.Generator]


METHODS = ("multinomial", "poisson")


def check_options(ci: Any, n_bootstrap: Any, seed: Any, method: Any = "multinomial") -> None:
    """ValueError for a confidence level outside (0, 1), too few resamples, a bad seed or method."""
    if method not in METHODS:
        raise ValueError(f"bootstrap must be one of {list(METHODS)}, got {method!r}")
    if ci is None:
        return
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1:
        raise ValueError(f"ci must be a confidence level between 0 and 1 (e.g. 0.95), got {ci!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 2:
        raise ValueError(f"n_bootstrap must be an integer >= 2, got {n_bootstrap!r}")
    if isinstance(seed, bool) or not (seed is None or isinstance(seed, (int, np.integer, np.random.Generator))):
        raise ValueError(f"seed must be None, an integer or a numpy Generator, got {seed!r}")


def percentile_interval(values: np.ndarray, ci: float) -> tuple[float, float]:
    """The central ``ci`` percentile interval of the defined (non-nan) resampled values."""
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return (math.nan, math.nan)
    low, high = np.quantile(defined, [(1 - ci) / 2, (1 + ci) / 2])
    return (float(low), float(high))


def bootstrap_intervals(
    specs: Sequence[MetricSpec],
    values: Mapping[str, Any],
    *,
    ci: float,
    n_bootstrap: int = 1000,
    seed: Seed = None,
    notes: Optional[list[str]] = None,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    method: str = "multinomial",
) -> dict[str, tuple[float, float]]:
    """``{metric key: (low, high)}`` for every scalar metric in ``specs``.

    ``values`` holds the finalized statistics and raw inputs the metrics need (as the engine
    passes them to ``compute``), plus ``weighted_cells`` when sample weights were given and what
    the metrics' ``resample_needs`` name; ``params`` maps a metric's name to the settings its
    ``compute`` and ``resample`` receive (default: the spec's own).
    Undefined resamples (a class missing from a resample) are left out of the percentiles, and
    ``notes`` gets a line saying how many. ``method`` is how resamples are drawn (see
    :func:`resampled_values`).
    """
    check_options(ci, n_bootstrap, seed, method)
    notes = notes if notes is not None else []
    draws = resampled_values(specs, [values], n_bootstrap=n_bootstrap, seed=seed, notes=notes, params=params,
                             method=method)[0]
    intervals = {}
    for key, resampled in draws.items():
        undefined = int(np.isnan(resampled).sum())
        if undefined:
            notes.append(f"{key}: undefined in {undefined} of {resampled.size} bootstrap resamples; "
                         "its interval uses the rest")
        intervals[key] = percentile_interval(resampled, ci)
    return intervals


def resampled_values(
    specs: Sequence[MetricSpec],
    models: Sequence[Mapping[str, Any]],
    *,
    n_bootstrap: int,
    seed: Seed = None,
    notes: Optional[list[str]] = None,
    params: Optional[Mapping[str, Mapping[str, Any]]] = None,
    joint_confusion: Optional[np.ndarray] = None,
    method: str = "multinomial",
) -> list[dict[str, np.ndarray]]:
    """Each scalar metric's value in ``n_bootstrap`` resamples, ``{key: (R,) values}`` per model.

    ``models`` holds one ``values`` mapping (as for :func:`bootstrap_intervals`) per model scored
    on the *same* examples; every model sees the same resamples, so differences between models
    are paired. Unweighted confusion counts are drawn jointly: ``joint_confusion`` counts the
    examples by (true label, prediction of model 1, prediction of model 2, ...), shape
    (K,) * (M + 1); with one model it is the confusion matrix itself (the default).

    ``method="multinomial"``: N draws with replacement (the classic bootstrap).
    ``method="poisson"``: each example's weight in each resample is Poisson(1), a function of
    ``seed`` (an integer), the resample and the example's position only (see
    :mod:`toolkit.evaluation.poisson`), so the same data split into any batches or partitions
    gives the same intervals. Weighted counts without each example's weight (exact=False) are
    resampled from ``poisson_cells``: (R, K * K) cell sums and (R,) example counts folded batch by
    batch (:mod:`toolkit.evaluation.poisson_sums`), and statistics that declare per-example terms
    (log loss's) from ``poisson_states``, each statistic's state in each resample.
    """
    poisson = method == "poisson"
    if poisson:
        seed = check_seed(seed)
    rng = None if poisson else seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    notes = notes if notes is not None else []
    values = models[0]  # the models differ in predictions, not in which statistics they hold
    chosen = {spec.name: dict((params or {}).get(spec.name, spec.params)) for spec in specs}
    scalar = [spec for spec in specs if spec.kind == "scalar"]
    weighted = values.get("weighted_cells")
    confusion_weighted = getattr(values.get("confusion"), "dtype", np.dtype(int)).kind == "f"
    confusion_specs, example_specs, state_specs = [], [], []
    for spec in scalar:
        if set(spec.needs) <= _CONFUSION_NEEDS:
            if confusion_weighted and weighted is None and values.get("poisson_cells") is None:
                notes.append(f"{spec.name}: no confidence interval: weighted counts are resampled from "
                             "each example's weight, which exact=False does not keep")
            else:
                confusion_specs.append(spec)
        elif spec.resample is not None and _given(values, _resample_needs(spec)):
            example_specs.append((spec, True))  # its vectorised resample function
        elif set(spec.needs) <= _RESAMPLABLE and _given(values, spec.needs):
            example_specs.append((spec, False))  # compute on each resampled copy
        elif set(spec.needs) - {"labels"} <= set(values.get("poisson_states") or ()):
            state_specs.append(spec)  # statistics resampled batch by batch from their terms
        else:
            wanted = _resample_needs(spec) if spec.resample is not None else spec.needs
            missing = sorted(need for need in wanted if values.get(need) is None or need not in _RESAMPLABLE)
            notes.append(f"{spec.name}: no confidence interval: {missing} cannot be resampled "
                         "(not kept in this evaluation, or not per-example data)")
    draws: list[dict[str, list[np.ndarray]]] = [{} for _ in models]

    if confusion_specs and confusion_weighted and weighted is None:  # Poisson sums folded batch by batch
        cells, examples = values["poisson_cells"]
        k = np.asarray(values["confusion"]).shape[0]
        _run_on_confusions(confusion_specs, values, cells.reshape(-1, k, k), examples, draws[0], chosen)
    elif confusion_specs and weighted is None:
        joint = np.asarray(values["confusion"] if joint_confusion is None else joint_confusion)
        total = int(joint.sum())
        cells = (cell_counts(seed, joint, n_bootstrap) if poisson
                 else rng.multinomial(total, joint.ravel() / total, size=n_bootstrap).reshape((n_bootstrap,) + joint.shape))
        _confusions_of_models(confusion_specs, models, cells, draws, chosen)
    if state_specs:
        _run_on_states(state_specs, values, values["poisson_states"], draws[0], chosen)
    if example_specs or (confusion_specs and weighted is not None):
        n = _example_count(values, [spec for spec, _ in example_specs])
        chunks = (weight_chunks(seed, n, n_bootstrap, CHUNK_CELLS) if poisson
                  else _count_chunks(n, n_bootstrap, rng))
        for counts in chunks:
            for model, model_draws in zip(models, draws):
                resamples = Resamples(counts)  # one per model: its derived() cache is per model
                if confusion_specs and weighted is not None:
                    _confusion_by_weighted_cells(confusion_specs, model, model["weighted_cells"], resamples,
                                                 model_draws, chosen)
                for spec, fast in example_specs:
                    _per_example(spec, fast, model, resamples, model_draws, chosen[spec.name])
    return [{key: np.concatenate(parts).astype(np.float64) for key, parts in model_draws.items()}
            for model_draws in draws]


# --- confusion metrics ------------------------------------------------------------------------

def _given(values: Mapping[str, Any], needs: Sequence[str]) -> bool:
    return all(values.get(need) is not None for need in needs if need not in ("labels", "count"))


def _resample_needs(spec: MetricSpec) -> tuple:
    return spec.resample_needs if spec.resample_needs is not None else spec.needs


def _confusions_of_models(specs, models, cells: np.ndarray, draws, chosen) -> None:
    """Confusion metrics of each model from (R,) + joint-shape resampled counts."""
    n_bootstrap, k = cells.shape[0], cells.shape[1]
    for index, (model, model_draws) in enumerate(zip(models, draws)):
        # model ``index``'s confusion: the joint counts summed over every other model's predictions
        others = tuple(axis for axis in range(2, cells.ndim) if axis != index + 2)
        confusions = cells.sum(axis=others) if others else cells
        examples = cells.reshape(n_bootstrap, -1).sum(axis=1)
        _run_on_confusions(specs, model, confusions.reshape(n_bootstrap, k, k), examples, model_draws, chosen)


def _confusion_by_weighted_cells(specs, values, weighted, resamples: Resamples, draws, chosen) -> None:
    k = np.asarray(values["confusion"]).shape[0]
    by_example = resamples.by_example
    if compiled_for(by_example.size):  # one sequential pass, no (N, R) float copy
        from toolkit.evaluation.poisson_kernels import weighted_cell_sums

        confusions = weighted_cell_sums(by_example, weighted.cells, weighted.sample_weight, k * k).T
    else:
        order, starts, present = _cell_groups(weighted)
        mass = np.take(by_example, order, axis=0) * weighted.sample_weight[order][:, None]
        confusions = np.zeros((len(resamples), k * k))
        confusions[:, present] = np.add.reduceat(mass, starts, axis=0).T
    examples = resamples.by_example.sum(axis=0, dtype=np.int64)
    _run_on_confusions(specs, values, confusions.reshape(-1, k, k), examples, draws, chosen)


def _cell_groups(weighted) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(weighted.cells, kind="stable")
    sorted_cells = weighted.cells[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_cells[1:] != sorted_cells[:-1])))
    return order, starts, sorted_cells[starts]


def _run_on_confusions(specs, values, confusions: np.ndarray, counts: np.ndarray, draws, chosen) -> None:
    """Each confusion metric on each resampled confusion matrix; ``counts`` holds each resample's
    number of examples (N for the multinomial bootstrap, the sum of the weights for Poisson's)."""
    for spec in specs:
        resampled = {"labels": values.get("labels")}
        collected: dict[str, list[float]] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ill-defined resamples are counted, not warned about
            for confusion, count in zip(confusions, counts):
                resampled["confusion"], resampled["count"] = confusion, int(count)
                outcome = _safe(spec.compute, {**{need: resampled[need] for need in spec.needs},
                                               **chosen[spec.name]})
                for key, value in _as_mapping(spec.name, outcome).items():
                    collected.setdefault(key, []).append(value)
        for key, series in collected.items():
            draws.setdefault(key, []).append(np.asarray(series, dtype=np.float64))


def _run_on_states(specs, values, states: Mapping[str, list], draws, chosen) -> None:
    """Each metric on each resample's statistics (a list of R states per statistic)."""
    n_bootstrap = len(next(iter(states.values())))
    for spec in specs:
        collected: dict[str, list[float]] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for r in range(n_bootstrap):
                arguments = {need: values.get("labels") if need == "labels" else states[need][r] for need in spec.needs}
                for key, value in _as_mapping(spec.name, _safe(spec.compute, {**arguments, **chosen[spec.name]})).items():
                    collected.setdefault(key, []).append(value)
        for key, series in collected.items():
            draws.setdefault(key, []).append(np.asarray(series, dtype=np.float64))


# --- per-example metrics ----------------------------------------------------------------------

def _example_count(values: Mapping[str, Any], specs: Sequence[MetricSpec]) -> int:
    for name in ("scores", "weighted_cells", "y_true"):
        if values.get(name) is not None:
            table = values[name]
            return int(getattr(table, "y_true", getattr(table, "cells", table)).shape[0])
    raise ValueError(f"bootstrap: no per-example data for metrics {[spec.name for spec in specs]}")


def _count_chunks(n: int, n_bootstrap: int, rng: np.random.Generator):
    """(N, R) multiplicities of each example, chunk by chunk: R draws of N indices with replacement.

    Laid out example-major so that the kernels' gathers and running sums over examples move
    whole contiguous rows of R counts. One byte per count (an example drawn more than 255 times
    in a resample has probability below 1e-500 at any N; int32 takes over if it happens) makes
    those gathers four times cheaper than int32.
    """
    chunk = chunk_width(n, n_bootstrap, CHUNK_CELLS)
    # the indices are drawn and counted a few resamples at a time, so the scratch arrays stay in cache
    group = max(1, min(chunk, DRAW_CELLS // max(n, 1)))
    done = 0
    while done < n_bootstrap:
        size = min(chunk, n_bootstrap - done)
        by_example = np.empty((n, size), dtype=np.uint8)
        for first in range(0, size, group):
            width = min(group, size - first)
            drawn = rng.integers(0, n, size=(width, n), dtype=np.int64)
            drawn += np.arange(width, dtype=np.int64)[:, None] * n  # resample r counts into [r*n, (r+1)*n)
            counts = np.bincount(drawn.ravel(), minlength=width * n).reshape(width, n)
            if by_example.dtype == np.uint8 and counts.max() > 255:
                by_example = by_example.astype(np.int32)
            by_example[:, first:first + width] = counts.T
        yield by_example
        done += size


def _per_example(spec: MetricSpec, fast: bool, values, resamples: Resamples, draws,
                 params: Mapping[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fast:
            arguments = {need: values[need] for need in _resample_needs(spec)}
            outcome = spec.resample(resamples=resamples, **arguments, **params)
            for key, series in _as_mapping(spec.name, outcome).items():
                draws.setdefault(key, []).append(np.asarray(series, dtype=np.float64).reshape(-1))
            return
        arguments = {need: values[need] for need in spec.needs}
        collected: dict[str, list[float]] = {}
        for counts in resamples.counts:
            index = np.repeat(np.arange(counts.shape[0]), counts)
            outcome = _safe(spec.compute, {**{need: _take(need, value, index) for need, value in arguments.items()},
                                           **params})
            for key, value in _as_mapping(spec.name, outcome).items():
                collected.setdefault(key, []).append(value)
    for key, series in collected.items():
        draws.setdefault(key, []).append(np.asarray(series, dtype=np.float64))


def _take(need: str, value: Any, index: np.ndarray) -> Any:
    """``value`` restricted to the examples in ``index`` (with repeats)."""
    if value is None or need == "labels":
        return value
    if need == "count":
        return int(index.size)
    if need == "scores":
        weights = None if value.sample_weight is None else value.sample_weight[index]
        return type(value)(value.y_true[index], value.y_score[index], weights)
    return np.asarray(value)[index]  # a raw input


def _safe(compute: Callable[..., Any], arguments: dict) -> Any:
    try:
        return compute(**arguments)
    except Exception:  # one failing resample is an undefined value, not a lost interval
        return math.nan


def _as_mapping(name: str, outcome: Any) -> Mapping[str, Any]:
    return outcome if isinstance(outcome, Mapping) else {name: outcome}
