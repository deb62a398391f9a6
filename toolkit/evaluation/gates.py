"""Quality gates: "metric <op> threshold" rules, optionally relative to a baseline run, checked on a result.

A gate is written ``"accuracy>=0.9"`` (CLI, one string) or ``{"accuracy": ">= 0.9"}`` (API and
configs). The threshold may name the baseline: ``"f1_macro >= baseline + 0.01"`` asks for an
improvement of at least 0.01 over the baseline run, ``"log_loss <= baseline"`` for no regression.

Gates may hold for slices (evaluations given ``slice_by``): ``"slice/region=north/accuracy >= 0.8"``
checks one slice (crossed: ``"slice/region=north,device=ios/accuracy >= 0.8"``), and
``"accuracy >= 0.8 for every region"`` every slice of a column (``for every region,device``: of
that crossing); the latter's value is the worst slice's. Slice gates compare with a number, not
a baseline, and a gate naming a column that is not a slice column is an error before anything
is computed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from toolkit.evaluation.selection import DEFAULT, metric_choices

OPERATORS = {
    ">=": lambda value, threshold: value >= threshold,
    "<=": lambda value, threshold: value <= threshold,
    ">": lambda value, threshold: value > threshold,
    "<": lambda value, threshold: value < threshold,
}
_UNSIGNED = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER = rf"[-+]?{_UNSIGNED}"
# "<op> <number>" or "<op> baseline [(+|-) <number>]"; operators longest first so ">=" wins over ">".
_CONDITION = re.compile(
    rf"^\s*(?P<op>>=|<=|>|<)\s*(?:(?P<baseline>baseline)\s*(?:(?P<sign>[-+])\s*(?P<delta>{_UNSIGNED}))?"
    rf"|(?P<number>{_NUMBER}))\s*$"
)
_GATE = re.compile(r"^\s*(?P<metric>[^<>=]+?)\s*(?P<condition>(?:>=|<=|>|<).*)$")
# "slice/<column>=<value>[,<column>=<value>...]/<metric> <condition>": the metric follows the
# first "/" after the last "=" (metric keys hold no "=").
_SLICE_GATE = re.compile(r"^\s*slice/(?P<body>[^<>]+?)\s*(?P<condition>(?:>=|<=|>|<).*)$")
_EVERY = re.compile(r"^(?P<condition>.*?)\s+for\s+every\s+(?P<columns>\S.*?)\s*$")
# Tag keys the trackers record; one per gate plus the overall outcome.
OUTCOME_TAG = "toolkit.gates"
GATE_TAG_PREFIX = "toolkit.gate."

_PER_CLASS = "_per_class"
_OPERATOR_WORDS = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}  # tag keys cannot hold < or >

GateInput = Union[None, str, Mapping[str, str], Iterable[Union[str, "Gate"]]]


@dataclass(frozen=True)
class Gate:
    """One rule: ``metric op threshold``, or ``metric op baseline + delta`` when ``relative``."""

    metric: str
    operator: str
    threshold: float
    relative: bool = False  # threshold is a change from the baseline run's value of the metric
    slice: str = ""  # one slice ("region=north"): the gate holds for it
    every: tuple = ()  # slice columns ("region",) or a crossing: the gate holds for each of its slices

    @property
    def key(self) -> str:
        """What the gate is about: the metric, ``slice/region=north/<metric>``, or ``<metric> for every region``."""
        if self.slice:
            return f"slice/{self.slice}/{self.metric}"
        if self.every:
            return f"{self.metric} for every {','.join(self.every)}"
        return self.metric

    def __str__(self) -> str:
        if self.slice or self.every:
            condition = f"{self.operator} {self.threshold!r}"
            return (f"slice/{self.slice}/{self.metric} {condition}" if self.slice
                    else f"{self.metric} {condition} for every {','.join(self.every)}")
        if not self.relative:
            return f"{self.metric} {self.operator} {self.threshold!r}"
        if self.threshold == 0:
            return f"{self.metric} {self.operator} baseline"
        sign = "+" if self.threshold > 0 else "-"
        return f"{self.metric} {self.operator} baseline {sign} {abs(self.threshold)!r}"


@dataclass(frozen=True)
class GateResult:
    """A gate checked on a result: the value seen, the threshold it was held to, pass or fail."""

    gate: Gate
    value: float
    threshold: float  # absolute: the baseline's value plus the gate's change for relative gates
    passed: bool
    baseline: Optional[float] = None
    reason: str = ""

    @property
    def metric(self) -> str:
        return self.gate.metric

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        seen = "nan" if math.isnan(self.value) else f"{self.value:.6g}"
        against = f" (baseline {self.baseline:.6g})" if self.baseline is not None else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{verdict}: {self.gate} with {self.gate.metric} = {seen}{against}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": str(self.gate), "metric": self.gate.metric, "operator": self.gate.operator,
            "threshold": self.threshold, "value": None if math.isnan(self.value) else self.value,
            "baseline": self.baseline, "passed": self.passed, "reason": self.reason,
        }


def parse_gate(text: str, metric: Optional[str] = None) -> Gate:
    """One gate from ``"accuracy>=0.9"``, or from ``">= 0.9"`` when ``metric`` is given apart."""
    if not isinstance(text, str):
        raise ValueError(f"gates: the condition for {metric!r} must be a string like '>= 0.9', got {text!r}")
    every = _EVERY.match(text)
    if every is not None:
        gate = parse_gate(every.group("condition"), metric)
        columns = tuple(column.strip() for column in every.group("columns").split(","))
        if not all(columns) or gate.slice:
            raise ValueError(f"gates: {text!r}: write 'METRIC OP VALUE for every COLUMN' (or COLUMN,COLUMN "
                             "for a crossing)")
        return _slice_gate(Gate(gate.metric, gate.operator, gate.threshold, gate.relative, every=columns))
    sliced = _SLICE_GATE.match(text) if metric is None else None
    if sliced is not None:
        metric, text = "slice/" + sliced.group("body"), sliced.group("condition")
    if isinstance(metric, str) and metric.strip().startswith("slice/"):
        body = metric.strip()[len("slice/"):]
        cut = body.find("/", body.rfind("="))
        if "=" not in body or cut < 0 or not body[cut + 1:]:
            raise ValueError(f"gates: {metric!r} must look like 'slice/COLUMN=VALUE/METRIC' "
                             "(or COLUMN=VALUE,COLUMN=VALUE for a crossed slice)")
        gate = parse_gate(text, body[cut + 1:])
        return _slice_gate(Gate(gate.metric, gate.operator, gate.threshold, gate.relative, slice=body[:cut]))
    if metric is None:
        match = _GATE.match(text)
        if match is None:
            raise ValueError(
                f"gates: {text!r} is not a gate; write METRIC OP VALUE, e.g. 'accuracy>=0.9' or "
                "'log_loss <= baseline'"
            )
        metric, text = match.group("metric"), match.group("condition")
    metric = metric.strip() if isinstance(metric, str) else metric
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"gates: a gate needs a metric name, got {metric!r}")
    condition = _CONDITION.match(text)
    if condition is None:
        raise ValueError(
            f"gates: condition {text!r} for {metric!r} is malformed; use one of "
            f"{', '.join(OPERATORS)} then a number or 'baseline', 'baseline + 0.01', 'baseline - 0.01'"
        )
    if condition.group("baseline"):
        delta = float(condition.group("delta") or 0.0)
        threshold = -delta if condition.group("sign") == "-" else delta
        return Gate(metric, condition.group("op"), threshold, relative=True)
    threshold = float(condition.group("number"))
    if not math.isfinite(threshold):
        raise ValueError(f"gates: threshold for {metric!r} must be finite, got {threshold}")
    return Gate(metric, condition.group("op"), threshold)


def _slice_gate(gate: Gate) -> Gate:
    if gate.relative:
        raise ValueError(f"gates: {gate.key!r} compares a slice with the baseline; slice gates compare "
                         "with a number ('>= 0.8')")
    return gate


def slice_columns(gate: Gate) -> tuple:
    """The slice columns a gate names (none for a gate on the whole evaluation)."""
    if gate.every:
        return gate.every
    return tuple(pair.split("=", 1)[0] for pair in gate.slice.split(",")) if gate.slice else ()


def check_gate_slices(gates: Sequence[Gate], slicing: Any) -> None:
    """ValueError for a gate naming a slice column (or crossing) that ``slicing`` does not make."""
    for gate in gates:
        columns = slice_columns(gate)
        if not columns:
            continue
        made = slicing.slicings if slicing is not None else ()
        if columns not in made:
            known = [",".join(each) for each in made]
            raise ValueError(f"gates: {str(gate)!r} names slice column(s) {','.join(columns)}, which this "
                             f"evaluation does not slice by (slices: {', '.join(known) or 'none; give slice_by'})")


def parse_gates(gates: GateInput) -> list[Gate]:
    """Gates from a mapping ``{metric: condition}``, a string, or a list of strings or Gates."""
    if gates is None:
        return []
    if isinstance(gates, Gate):
        return [gates]
    if isinstance(gates, str):
        return [parse_gate(gates)]
    if isinstance(gates, Mapping):
        parsed = []
        for metric, condition in gates.items():
            conditions = [condition] if isinstance(condition, str) else condition
            if not isinstance(conditions, (list, tuple)) or not conditions:
                raise ValueError(
                    f"gates: the condition for {metric!r} must be a string like '>= 0.9' "
                    f"(or a list of them), got {condition!r}"
                )
            parsed += [parse_gate(text, metric) for text in conditions]
        return parsed
    try:
        items = list(gates)
    except TypeError:
        raise ValueError(
            f"gates must be a mapping {{metric: condition}} or a list of 'metric>=value' strings, "
            f"got {type(gates).__name__}"
        ) from None
    return [item if isinstance(item, Gate) else parse_gate(item) for item in items]


def known_metric_keys(
    metric_specs: Mapping[str, Any], *, task: Optional[str] = None, labels: Optional[Sequence] = None,
    selected: Optional[Any] = None, intervals: bool = False,
) -> set[str]:
    """The scalar metric keys an evaluation can produce, known before it runs.

    A metric named ``X_per_class`` produces ``X/<label>`` for each label (the per-class
    keys); without ``labels`` the per-class keys are given as ``X/*``. With ``intervals``, every
    key also has ``<key>_ci_low`` and ``<key>_ci_high``.
    """
    # ``selected`` may carry params ({"top_k_accuracy": {"k": 3}}); only the names matter here.
    names = set(metric_choices(selected)) if selected is not None else set(metric_specs)
    if DEFAULT in names:  # the default metrics of any task: every one but the opt-in approximations
        names = (names - {DEFAULT}) | {name for name, spec in metric_specs.items() if spec.approximates is None}
    keys: set[str] = set()
    for name in names:
        spec = metric_specs[name]
        if spec.kind != "scalar" or (task is not None and task not in spec.tasks):
            continue
        if name.endswith(_PER_CLASS):
            prefix = name[: -len(_PER_CLASS)]
            keys |= {f"{prefix}/{label}" for label in labels} if labels is not None else {f"{prefix}/*"}
        else:
            keys.add(name)
    if intervals:
        keys |= {f"{key}{suffix}" for key in keys for suffix in ("_ci_low", "_ci_high")}
    return keys


def _matches(metric: str, known: set[str]) -> bool:
    if metric in known:
        return True
    for suffix in ("", "_ci_low", "_ci_high"):  # "f1/cat_ci_low" against "f1/*_ci_low"
        if "/" in metric and metric.endswith(suffix):
            stem = metric[: len(metric) - len(suffix)] if suffix else metric
            if f"{stem.split('/', 1)[0]}/*{suffix}" in known:
                return True
    return False


def check_gate_metrics(gates: Sequence[Gate], known: Iterable[str], where: str = "this evaluation") -> None:
    """ValueError naming every gate whose metric is not in ``known`` (see :func:`known_metric_keys`)."""
    known = set(known)
    unknown = [gate.metric for gate in gates if not _matches(gate.metric, known)]
    if unknown:
        import difflib

        hints = []
        for name in dict.fromkeys(unknown):
            close = difflib.get_close_matches(name, known, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        shown = sorted(name for name in known if "/" not in name)
        raise ValueError(
            f"gates name unknown metric(s) {', '.join(hints)} for {where}; "
            f"known: {', '.join(shown)} and per-class keys like 'f1/<label>'"
        )


def check_baseline(gates: Sequence[Gate], baseline: Optional[Mapping[str, float]]) -> None:
    """ValueError when a relative gate has no baseline value to compare with."""
    relative = [gate for gate in gates if gate.relative]
    if not relative:
        return
    if baseline is None:
        raise ValueError(
            f"gates {[str(gate) for gate in relative]} compare with a baseline, but no baseline "
            "was given (pass baseline= metrics or --baseline RUN_ID)"
        )
    missing = [gate.metric for gate in relative if gate.metric not in baseline]
    if missing:
        raise ValueError(f"baseline has no value for {missing}, which gates compare with")


def evaluate_gates(
    gates: Sequence[Gate], metrics: Mapping[str, float], baseline: Optional[Mapping[str, float]] = None,
    slices: Optional[Any] = None,
) -> list[GateResult]:
    """Check each gate against ``metrics`` (slice gates against ``slices``: ``result.slices``);
    an undefined (nan) value fails its gate."""
    check_baseline(gates, baseline)
    outcomes = []
    for gate in gates:
        if gate.slice or gate.every:
            outcomes.append(_slice_outcome(gate, slices or {}))
            continue
        if gate.metric not in metrics:
            raise ValueError(f"gates: metric {gate.metric!r} was not computed in this evaluation")
        value = float(metrics[gate.metric])
        base = None
        threshold = gate.threshold
        if gate.relative:
            base = float(baseline[gate.metric])  # type: ignore[index]
            threshold = base + gate.threshold
        if math.isnan(value) or math.isnan(threshold):
            outcomes.append(GateResult(gate, value, threshold, False, base, "undefined (nan)"))
            continue
        outcomes.append(GateResult(gate, value, threshold, bool(OPERATORS[gate.operator](value, threshold)), base))
    return outcomes


def _slice_outcome(gate: Gate, slices: Any) -> GateResult:
    """A slice gate's outcome: the one slice's value, or the worst of every slice of its columns."""
    def value_of(result: Any) -> float:
        return float(result.logged_metrics().get(gate.metric, math.nan))

    if gate.slice:
        if gate.slice not in slices:
            return GateResult(gate, math.nan, gate.threshold, False, reason=f"no example is in slice {gate.slice}")
        seen = {gate.slice: value_of(slices[gate.slice])}
    else:
        seen = {name: value_of(result) for name, result in slices.of(gate.every).items()} if slices else {}
        if not seen:
            return GateResult(gate, math.nan, gate.threshold, False, reason="no slice to check")
    undefined = [name for name, value in seen.items() if math.isnan(value)]
    if undefined:
        return GateResult(gate, math.nan, gate.threshold, False, reason=f"undefined (nan) in {', '.join(undefined)}")
    check = OPERATORS[gate.operator]
    failing = [name for name, value in seen.items() if not check(value, gate.threshold)]
    low_is_worse = gate.operator in (">=", ">")
    worst = min(seen, key=seen.get) if low_is_worse else max(seen, key=seen.get)
    reason = f"failed in {', '.join(failing)}" if failing else ""
    if gate.every:
        reason = f"worst slice {worst}" + (f"; {reason}" if reason else "")
    return GateResult(gate, seen[worst], gate.threshold, not failing, reason=reason)


def gate_tags(outcomes: Sequence[GateResult]) -> dict[str, str]:
    """Tracker tags for gate outcomes: ``toolkit.gates`` = passed/failed, one tag per gate."""
    if not outcomes:
        return {}
    tags = {OUTCOME_TAG: "passed" if all(outcome.passed for outcome in outcomes) else "failed"}
    for outcome in outcomes:
        word = _OPERATOR_WORDS[outcome.gate.operator]
        metric = re.sub(r"[^A-Za-z0-9_\-./ ]", "_", outcome.gate.key)  # labels may hold any character
        tags[f"{GATE_TAG_PREFIX}{metric}.{word}"] = str(outcome)
    return tags


def failed_gates(outcomes: Sequence[GateResult]) -> list[GateResult]:
    return [outcome for outcome in outcomes if not outcome.passed]
