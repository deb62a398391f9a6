"""Which metrics an evaluation computes when none are named: exact ones, or bounded-memory stand-ins."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from toolkit.plugin.types import RAW_INPUTS, MetricSpec, StatisticSpec


def keeps_memory_bounded(spec: MetricSpec, statistics: Mapping[str, StatisticSpec]) -> bool:
    """True when every need of ``spec`` is a statistic of fixed size (raw inputs are kept whole)."""
    return all(
        need == "labels" or (need in statistics and statistics[need].bounded) for need in spec.needs
    )


def default_metrics(
    metrics: Mapping[str, MetricSpec],
    statistics: Mapping[str, StatisticSpec],
    task: str,
    *,
    exact: bool = True,
) -> tuple[list[MetricSpec], list[str]]:
    """The metrics computed when ``metrics=None``, and notes on what was left out.

    ``exact=True``: every metric for ``task`` except the opt-in approximations.
    ``exact=False``: only metrics whose statistics have a fixed size, so memory stays bounded
    however many examples arrive; an exact metric that needs more (exact AUROC keeps every
    score) is replaced by the metric that ``approximates`` it, when a plugin registers one.
    """
    applicable = [spec for spec in metrics.values() if task in spec.tasks]
    exact_ones = [spec for spec in applicable if spec.approximates is None]
    if exact:
        return exact_ones, []
    chosen = [spec for spec in exact_ones if keeps_memory_bounded(spec, statistics)]
    notes = []
    for spec in exact_ones:
        if keeps_memory_bounded(spec, statistics):
            continue
        stand_ins = [other for other in applicable
                     if other.approximates == spec.name and keeps_memory_bounded(other, statistics)]
        chosen += stand_ins
        instead = f"; {', '.join(other.name for other in stand_ins)} computed instead" if stand_ins else ""
        notes.append(
            f"{spec.name}: left out to keep memory bounded (it needs every example kept){instead}; "
            "pass exact=True or name it in metrics to compute it"
        )
    return chosen, notes


def metric_choices(metrics: Any) -> dict[str, Optional[Mapping[str, Any]]]:
    """The ``metrics`` argument as metric name -> params overrides (None: the defaults).

    Accepted forms: a name; names; a mapping of name -> params (or None); or a list mixing names
    and one-key mappings, which is how a YAML config spells it
    (``[accuracy, {top_k_accuracy: {k: 3}}]``).
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    items = list(metrics.items()) if isinstance(metrics, Mapping) else None
    if items is None:
        try:
            entries = list(metrics)
        except TypeError:
            raise ValueError(f"metrics must be metric names or a mapping of name -> params, got {metrics!r}") from None
        items = []
        for entry in entries:
            if isinstance(entry, str):
                items.append((entry, None))
            elif isinstance(entry, Mapping) and len(entry) == 1:
                items.extend(entry.items())
            else:
                raise ValueError(
                    f"metrics entries must be names or one-key mappings {{name: params}}, got {entry!r}"
                )
    chosen: dict[str, Optional[Mapping[str, Any]]] = {}
    for name, params in items:
        if not isinstance(name, str):
            raise ValueError(f"metrics names must be strings, got {name!r}")
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"metrics: params of {name!r} must be a mapping, got {params!r}")
        if name in chosen and chosen[name] != params:
            raise ValueError(f"metrics names {name!r} twice with different params")
        chosen[name] = params
    return chosen


def plugin_problems(manager: Any, metrics: Mapping[str, MetricSpec],
                    statistics: Mapping[str, StatisticSpec]) -> list[str]:
    """Why metrics an evaluation would have had are missing: plugins that failed to load, and
    metrics needing a statistic that no plugin registers. Every evaluation's warnings say so."""
    notes = [f"{broken}; its metrics are missing from this evaluation"
             for broken in getattr(manager, "broken", ())]
    for spec in metrics.values():
        absent = [need for need in spec.needs if need not in RAW_INPUTS and need not in statistics]
        if absent:
            notes.append(f"{spec.name}: cannot be computed: it needs statistic(s) {absent}, which no "
                         "installed plugin registers")
    return notes


def probability_metrics(specs: list[MetricSpec]) -> list[str]:
    """The names of metrics in ``specs`` that read scores as probabilities."""
    return [spec.name for spec in specs if spec.needs_probabilities]


DEFAULT = "default"


def with_defaults(
    chosen: Mapping[str, Any],
    metrics: Mapping[str, MetricSpec],
    statistics: Mapping[str, StatisticSpec],
    task: str,
    *,
    exact: bool = True,
) -> tuple[dict[str, Any], list[str]]:
    """``chosen`` (metric name -> params) with the name "default" replaced by the default metrics.

    "default" is what ``metrics=None`` computes for ``task`` (see ``default_metrics``), so
    ``[default, specificity_macro]`` adds a metric without listing the others; a metric named
    both ways keeps the params given with it. Returns the expanded choice and the notes on what
    the default left out.
    """
    if DEFAULT not in chosen:
        return dict(chosen), []
    if chosen[DEFAULT] is not None:
        raise ValueError(f"metrics: {DEFAULT!r} stands for the default metrics and takes no params")
    defaults, notes = default_metrics(metrics, statistics, task, exact=exact)
    expanded: dict[str, Any] = {}
    for name, params in chosen.items():
        if name == DEFAULT:
            expanded.update({spec.name: chosen.get(spec.name) for spec in defaults if spec.name not in expanded})
        else:
            expanded[name] = params
    return expanded, notes
