"""Paired comparison of two models on the same examples: is b really better than a?

Each metric's difference (a minus b) gets an interval and a two-sided p-value, by the method
that suits it:

* ``accuracy``: the exact McNemar test (binomial on the examples only one model gets right) and
  Agresti-Min's interval (see :mod:`toolkit.evaluation.mcnemar`);
* ``roc_auc`` (binary) and ``roc_auc/<label>`` (each class against the rest): DeLong's test;
  ``roc_auc_ovr_macro`` and ``roc_auc_ovr_weighted`` combine the per-class differences with
  weights 1/K and the class shares of y_true, their variance from DeLong's covariance of the
  per-class estimates on the same examples (see :mod:`toolkit.evaluation.delong`);
* every other metric: a paired bootstrap, both models scored on the same resamples; the interval
  is the percentile interval of the differences and the p-value twice the smaller share of
  resampled differences on either side of 0 (each share counted with one more, as
  ``(count + 1) / (R + 1)``), capped at 1.

With ``sample_weight``, McNemar's and DeLong's tests (which count examples) do not apply: those
metrics go through the paired bootstrap too; ``PairedTest.method`` always says which was used.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from toolkit.evaluation import bootstrap, inputs
from toolkit.evaluation.delong import contrast
from toolkit.evaluation.mcnemar import mcnemar
from toolkit.evaluation.selection import default_metrics
from toolkit.evaluation.statistics import ScoreTable, WeightedCells
from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.types import RAW_INPUTS, MetricSpec

MCNEMAR = "exact McNemar"
DELONG = "DeLong"
PAIRED_BOOTSTRAP = "paired bootstrap"
_DELONG_METRICS = ("roc_auc", "roc_auc_ovr_macro", "roc_auc_ovr_weighted")


@dataclass(frozen=True)
class PairedTest:
    """One metric compared: both values, their difference (a - b), its interval and p-value."""

    metric: str
    value_a: float
    value_b: float
    difference: float
    interval: tuple[float, float]
    p_value: float
    method: str
    higher_is_better: Optional[bool] = True

    def better(self) -> Optional[str]:
        """"a" or "b", whichever has the better value (None when equal or undefined)."""
        if math.isnan(self.difference) or self.difference == 0 or self.higher_is_better is None:
            return None
        return "a" if (self.difference > 0) == self.higher_is_better else "b"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value_a": _json(self.value_a), "value_b": _json(self.value_b),
                "difference": _json(self.difference), "interval": [_json(bound) for bound in self.interval],
                "p_value": _json(self.p_value), "method": self.method, "higher_is_better": self.higher_is_better}


@dataclass(frozen=True)
class PairedGate:
    """``"<metric>: <a|b> better, p < <alpha>"``: the named model must be better on the metric,
    significantly at level alpha (0.05 when the p clause is left out)."""

    metric: str
    better: str
    alpha: float = 0.05

    def __str__(self) -> str:
        return f"{self.metric}: {self.better} better, p < {self.alpha:g}"


@dataclass(frozen=True)
class PairedGateResult:
    gate: PairedGate
    passed: bool
    reason: str

    def __str__(self) -> str:
        return f"{'passed' if self.passed else 'FAILED'}: {self.gate} ({self.reason})"


_GATE = re.compile(r"^\s*(?P<metric>[^:]+?)\s*:\s*(?P<better>[ab])\s+better\s*"
                   r"(?:,\s*p\s*<\s*(?P<alpha>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))?\s*$")


def parse_paired_gate(text: str) -> PairedGate:
    """A :class:`PairedGate` from its written form; ValueError naming the form when it does not fit."""
    match = _GATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"paired gate {text!r} must read '<metric>: <a|b> better[, p < <alpha>]', "
                         "e.g. 'roc_auc: b better, p < 0.05'")
    alpha = float(match["alpha"]) if match["alpha"] else 0.05
    if not 0 < alpha <= 1:
        raise ValueError(f"paired gate {text!r}: alpha must be in (0, 1], got {alpha!r}")
    return PairedGate(match["metric"], match["better"], alpha)


@dataclass(frozen=True)
class PairedComparison:
    """What :func:`paired_test` returns: ``tests`` maps each metric key to its :class:`PairedTest`."""

    tests: dict[str, PairedTest]
    labels: list
    task: str
    example_count: int
    ci: float
    warnings: list[str] = field(default_factory=list)

    def check(self, gates: Sequence[Any]) -> list[PairedGateResult]:
        """Each gate (a :class:`PairedGate` or its written form) checked on these tests."""
        parsed = [gate if isinstance(gate, PairedGate) else parse_paired_gate(gate) for gate in gates]
        unknown = sorted({gate.metric for gate in parsed} - set(self.tests))
        if unknown:
            raise ValueError(f"gates name metric(s) {unknown} that were not compared; compared: {sorted(self.tests)}")
        outcomes = []
        for gate in parsed:
            test = self.tests[gate.metric]
            winner = test.better()
            passed = winner == gate.better and test.p_value < gate.alpha
            reason = (f"{winner or 'neither'} better by {abs(test.difference):.4g}, p = {test.p_value:.3g} "
                      f"({test.method})")
            outcomes.append(PairedGateResult(gate, bool(passed), reason))
        return outcomes

    def table(self) -> str:
        """The tests as a plain-text table, one metric a row."""
        percent = f"{self.ci * 100:g}%"
        rows = [f"{'metric':<24} {'a':>9} {'b':>9} {'a - b':>9} {percent + ' interval':>22} {'p':>9}  method"]
        for key, test in self.tests.items():
            low, high = test.interval
            rows.append(f"{key:<24} {test.value_a:9.4f} {test.value_b:9.4f} {test.difference:+9.4f} "
                        f"[{low:+9.4f}, {high:+9.4f}] {test.p_value:9.3g}  {test.method}")
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "labels": list(self.labels), "example_count": self.example_count,
                "ci": self.ci, "tests": {key: test.to_dict() for key, test in self.tests.items()},
                "warnings": list(self.warnings)}


def paired_test(
    y_true: Any,
    *,
    y_pred_a: Any = None,
    y_pred_b: Any = None,
    y_score_a: Any = None,
    y_score_b: Any = None,
    labels: Optional[Sequence] = None,
    sample_weight: Any = None,
    metrics: Any = None,
    ci: float = 0.95,
    n_bootstrap: int = 1000,
    seed: Any = None,
    plugin_manager: Optional[ToolkitPluginManager] = None,
) -> PairedComparison:
    """Compare models a and b on the same examples, metric by metric (see the module docstring).

    Each model is given as in :func:`toolkit.evaluate`: ``y_pred_*`` and/or ``y_score_*``, with
    predictions derived from scores by the same rule. ``metrics`` chooses metrics as there
    (default: every metric that applies; those without a better direction, like example_count,
    are not compared). ``ci`` is the confidence level of every interval; ``n_bootstrap`` and
    ``seed`` drive the paired bootstrap.
    """
    from toolkit.evaluation.engine import Evaluator, task_of
    from toolkit.evaluation.selection import metric_choices

    if ci is None:
        raise ValueError("ci must be a confidence level between 0 and 1 (e.g. 0.95), got None")
    bootstrap.check_options(ci, n_bootstrap, seed)
    true_values = inputs.as_label_array(y_true, "y_true")
    for side, pred, score in (("a", y_pred_a, y_score_a), ("b", y_pred_b, y_score_b)):
        if pred is None and score is None:
            raise ValueError(f"give y_pred_{side} or y_score_{side} (or both): model {side} has no predictions")
    if (y_score_a is None) != (y_score_b is None):
        raise ValueError("y_score_a and y_score_b: give both or neither (score metrics compare both models' scores)")
    if labels is None:
        predictions = [inputs.as_label_array(pred, f"y_pred_{side}") for side, pred in (("a", y_pred_a), ("b", y_pred_b))
                       if pred is not None]
        labels = inputs.infer_labels(true_values, np.concatenate(predictions) if predictions else None,
                                     None if y_score_a is None else np.asarray(y_score_a))
    labels = inputs.check_labels(labels)
    manager = plugin_manager or get_plugin_manager()
    evaluators = {side: _named(side, lambda: Evaluator(labels, metrics, plugin_manager=manager))
                  for side in "ab"}  # checks metrics (names, task, params) once per side
    results = {
        side: _named(side, lambda: evaluators[side].update(y_true, pred, score, sample_weight=sample_weight).compute())
        for side, pred, score in (("a", y_pred_a, y_score_a), ("b", y_pred_b, y_score_b))
    }
    task = task_of(labels)
    chosen = metric_choices(metrics) if metrics is not None else None
    specs = _compared_specs(manager, task, chosen, scores=y_score_a is not None, weights=sample_weight is not None)
    params = {spec.name: spec.with_params((chosen or {}).get(spec.name)) for spec in specs}
    data = _Paired.build(true_values, labels, (y_pred_a, y_pred_b), (y_score_a, y_score_b), sample_weight)
    notes = sorted({note for result in results.values() for note in result.warnings})

    tests: dict[str, PairedTest] = {}
    by_bootstrap = []
    for spec in specs:
        if data.weights is None and spec.name == "accuracy":
            tests.update(_accuracy_test(data, results, ci))
        elif data.weights is None and spec.name in _DELONG_METRICS:
            tests.update(_delong_tests(spec.name, data, results, ci, notes))
        else:
            by_bootstrap.append(spec)
    if by_bootstrap:
        tests.update(_bootstrap_tests(by_bootstrap, data, results, params, ci, n_bootstrap, seed, notes))
    directions = {spec.name: spec.higher_is_better for spec in specs}
    ordered = {key: tests[key] for key in results["a"].metrics if key in tests}
    ordered.update({key: test for key, test in tests.items() if key not in ordered})
    ordered = {key: _with_direction(test, directions) for key, test in ordered.items()}
    return PairedComparison(ordered, list(labels), task, int(true_values.shape[0]), float(ci), notes)


# --- inputs -----------------------------------------------------------------------------------

def _named(side: str, call):
    """``call()``, with a ValueError about y_pred/y_score renamed to model ``side``'s argument."""
    try:
        return call()
    except ValueError as error:
        raise ValueError(re.sub(r"\b(y_pred|y_score)\b", rf"\1_{side}", str(error))) from None


@dataclass(frozen=True)
class _Paired:
    """Both models' predictions on the same examples, encoded as label positions."""

    labels: tuple
    y_true: np.ndarray  # raw labels (for metrics that take raw inputs)
    true_codes: np.ndarray
    pred_codes: tuple  # (a, b)
    pred_values: tuple
    scores: tuple  # (a, b): (N, K) float arrays, or (None, None)
    raw_scores: tuple
    weights: Optional[np.ndarray]

    @classmethod
    def build(cls, true_values, labels, predictions, score_inputs, sample_weight) -> "_Paired":
        n = true_values.shape[0]
        weights = inputs.check_weights(sample_weight, n)
        true_codes = inputs.encode(true_values, labels, "y_true")
        codes, values, scores = [], [], []
        for side, pred, score in zip("ab", predictions, score_inputs):
            table = None if score is None else inputs.check_scores(score, n, labels)
            if pred is not None:
                pred_values = inputs.as_label_array(pred, f"y_pred_{side}")
                pred_codes = inputs.encode(pred_values, labels, f"y_pred_{side}")
            else:
                pred_codes = inputs.predicted_codes(table, np.ndim(score) == 1 or np.shape(score)[1] == 1)
                pred_values = np.asarray(labels, dtype=object if len({type(x) for x in labels}) > 1 else None)[pred_codes]
            codes.append(pred_codes)
            values.append(pred_values)
            scores.append(table)
        return cls(labels, true_values, true_codes, tuple(codes), tuple(values), tuple(scores),
                   tuple(None if score is None else np.asarray(score) for score in score_inputs), weights)

    def values(self, side: int) -> dict[str, Any]:
        """What the bootstrap needs of one model (as the engine hands statistics to metrics)."""
        k = len(self.labels)
        cells = self.true_codes * k + self.pred_codes[side]
        confusion = np.bincount(cells, weights=self.weights, minlength=k * k).reshape(k, k)
        values = {
            "confusion": confusion if self.weights is not None else confusion.astype(np.int64),
            "labels": list(self.labels), "count": int(self.true_codes.shape[0]),
            "y_true": self.y_true, "y_pred": self.pred_values[side], "y_score": self.raw_scores[side],
            "sample_weight": self.weights,
        }
        if self.scores[side] is not None:
            values["scores"] = ScoreTable(self.true_codes, self.scores[side], self.weights)
        if self.weights is not None:
            values["weighted_cells"] = WeightedCells(cells, self.weights)
        return values

    def joint_confusion(self) -> np.ndarray:
        """Examples counted by (true label, a's prediction, b's prediction): shape (K, K, K)."""
        k = len(self.labels)
        cells = (self.true_codes * k + self.pred_codes[0]) * k + self.pred_codes[1]
        return np.bincount(cells, minlength=k ** 3).reshape(k, k, k)


def _compared_specs(manager, task: str, chosen, *, scores: bool, weights: bool) -> list[MetricSpec]:
    """The scalar metrics with a better direction that this evaluation computes (as the engine
    chooses them: named ones, or the defaults whose inputs were given)."""
    metric_specs, statistic_specs = manager.get_metrics(), manager.get_statistics()
    candidates = ([metric_specs[name] for name in chosen] if chosen is not None
                  else default_metrics(metric_specs, statistic_specs, task)[0])
    given = {"y_score": scores, "sample_weight": weights}

    def available(need: str) -> bool:
        if need in RAW_INPUTS:
            return given.get(need, True)
        return all(given.get(required, True) for required in statistic_specs[need].requires)

    return [spec for spec in candidates if spec.kind == "scalar" and spec.higher_is_better is not None
            and all(available(need) for need in spec.needs)]


def _with_direction(test: PairedTest, directions: Mapping[str, Optional[bool]]) -> PairedTest:
    """The test with its metric's direction: a key's own metric, or for a per-class key like
    ``f1/cat`` the metric ``f1_per_class`` that produces it (higher is better otherwise, as for
    ``roc_auc/cat``)."""
    prefix = test.metric.split("/")[0]
    direction = directions.get(test.metric, directions.get(f"{prefix}_per_class"))
    return dataclasses.replace(test, higher_is_better=True if direction is None else direction)


# --- the tests --------------------------------------------------------------------------------

def _accuracy_test(data: _Paired, results, ci: float) -> dict[str, PairedTest]:
    outcome = mcnemar(data.pred_codes[0] == data.true_codes, data.pred_codes[1] == data.true_codes, ci)
    value_a, value_b = results["a"].metrics["accuracy"], results["b"].metrics["accuracy"]
    return {"accuracy": PairedTest("accuracy", value_a, value_b, value_a - value_b, outcome.interval,
                                   outcome.p_value, MCNEMAR)}


def _delong_tests(name: str, data: _Paired, results, ci: float, notes: list[str]) -> dict[str, PairedTest]:
    k = len(data.labels)
    positives = data.true_codes[:, None] == np.arange(k)[None, :]
    classes = [1] if name == "roc_auc" else list(range(k))
    sizes = positives[:, classes].sum(axis=0)
    too_few = [data.labels[c] for c, size in zip(classes, sizes)
               if size < 2 or data.true_codes.shape[0] - size < 2]
    if too_few:
        notes.append(f"{name}: DeLong's test needs at least two examples of each class against the rest; "
                     f"labels {too_few} have fewer, so no test")
        nan = PairedTest(name, results["a"].metrics.get(name, math.nan), results["b"].metrics.get(name, math.nan),
                         math.nan, (math.nan, math.nan), math.nan, DELONG)
        return {name: nan}
    found = contrast(data.scores[0][:, classes], data.scores[1][:, classes], positives[:, classes])
    z = NormalDist().inv_cdf((1 + ci) / 2)
    if name == "roc_auc":
        weights = np.ones(1)
    elif name == "roc_auc_ovr_macro":
        weights = np.full(k, 1.0 / k)
    else:
        weights = sizes / sizes.sum()
    tests = {}
    value_a, value_b = results["a"].metrics[name], results["b"].metrics[name]
    tests[name] = _normal_test(name, value_a, value_b, float(weights @ found.difference),
                               float(weights @ found.covariance @ weights), z)
    if name != "roc_auc":
        for index, label in enumerate(data.labels):
            key = f"roc_auc/{label}"
            tests[key] = _normal_test(key, float(found.auc_a[index]), float(found.auc_b[index]),
                                      float(found.difference[index]), float(found.covariance[index, index]), z)
    return tests


def _normal_test(key: str, value_a: float, value_b: float, difference: float, variance: float,
                 z: float) -> PairedTest:
    spread = math.sqrt(max(variance, 0.0))
    if spread == 0:
        p_value = 1.0 if difference == 0 else 0.0
    else:
        p_value = math.erfc(abs(difference) / spread / math.sqrt(2))
    interval = (max(-1.0, difference - z * spread), min(1.0, difference + z * spread))
    return PairedTest(key, value_a, value_b, value_a - value_b, interval, p_value, DELONG)


def _bootstrap_tests(specs, data: _Paired, results, params, ci, n_bootstrap, seed, notes) -> dict[str, PairedTest]:
    draws_a, draws_b = bootstrap.resampled_values(
        specs, [data.values(0), data.values(1)], n_bootstrap=n_bootstrap, seed=seed, notes=notes,
        params=params, joint_confusion=None if data.weights is not None else data.joint_confusion())
    tests = {}
    for key in draws_a:
        if key not in results["a"].metrics:
            continue
        differences = draws_a[key] - draws_b[key]
        defined = differences[~np.isnan(differences)]
        if defined.size < differences.size:
            notes.append(f"{key}: undefined in {differences.size - defined.size} of {differences.size} "
                         "paired resamples; its interval and p-value use the rest")
        value_a, value_b = results["a"].metrics[key], results["b"].metrics[key]
        tests[key] = PairedTest(key, value_a, value_b, value_a - value_b,
                                bootstrap.percentile_interval(defined, ci), _bootstrap_p_value(defined),
                                PAIRED_BOOTSTRAP)
    return tests


def _bootstrap_p_value(differences: np.ndarray) -> float:
    """Twice the smaller share of resampled differences on either side of 0, each counted as
    ``(count + 1) / (R + 1)``; at most 1 (nan without defined resamples)."""
    if differences.size == 0:
        return math.nan
    below = (np.count_nonzero(differences <= 0) + 1) / (differences.size + 1)
    above = (np.count_nonzero(differences >= 0) + 1) / (differences.size + 1)
    return min(1.0, 2 * min(below, above))


def _json(value: float):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
