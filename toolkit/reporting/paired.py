"""Two recorded runs' stored predictions compared by ``toolkit.paired_test``: for ``toolkit compare
--paired`` and the comparison page's "Paired comparison" section."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from toolkit.evaluation.paired import PairedComparison, paired_test
from toolkit.plugin.records import FINGERPRINT_TAG, PREDICTIONS_FILE, Predictions, RunRecord
from toolkit.reporting.html import _text

# The page's paired tests: fixed so the same runs always give the same page.
PAGE_CI = 0.95
PAGE_BOOTSTRAP = 1000
PAGE_SEED = 0
_NO_PREDICTIONS = (f"stored no predictions ({PREDICTIONS_FILE}): runs store them when arrays are evaluated "
                   "with a tracker, not from files or Dask")


def examples_problem(record_a: RunRecord, a: Predictions, record_b: RunRecord, b: Predictions) -> Optional[str]:
    """Why the two runs' predictions cannot be paired (not the same examples in the same order, with
    the same labels and weights), or None when they can."""
    for record, predictions in ((record_a, a), (record_b, b)):
        tagged = record.tags.get(FINGERPRINT_TAG)
        if tagged and tagged != predictions.fingerprint:
            return f"run {record.run_id}: its stored predictions do not match its {FINGERPRINT_TAG} tag"
    if a.fingerprint != b.fingerprint:
        return (f"runs {record_a.run_id} and {record_b.run_id} were not evaluated on the same examples: y_true "
                f"differs ({a.example_count} examples, labels {list(a.labels)[:10]}, {FINGERPRINT_TAG} "
                f"{a.fingerprint[:12]} vs {b.example_count} examples, labels {list(b.labels)[:10]}, "
                f"{b.fingerprint[:12]}); a paired test needs both models' predictions for the same examples")
    if (a.sample_weight is None) != (b.sample_weight is None) or (
            a.sample_weight is not None and not np.array_equal(a.sample_weight, b.sample_weight)):
        return (f"runs {record_a.run_id} and {record_b.run_id} weighted their examples differently "
                "(sample_weight): a paired test needs the same weights")
    return None


def compare_predictions(a: Predictions, b: Predictions, **options: Any) -> PairedComparison:
    """``paired_test`` of two runs' predictions (checked by :func:`examples_problem` first);
    ``options`` go to it (metrics, ci, n_bootstrap, seed)."""
    return paired_test(**paired_inputs(a, b), **options)


def paired_inputs(a: Predictions, b: Predictions) -> dict[str, Any]:
    """``paired_test``'s arguments: scores when both runs have probabilities (or logits), else predicted labels."""
    labels = a.label_array()
    scores = decoded_scores(a), decoded_scores(b)
    arguments: dict[str, Any] = {"y_true": labels[a.y_true], "labels": list(a.labels),
                                 "sample_weight": a.sample_weight}
    both_scored = scores[0] is not None and scores[1] is not None
    for side, predictions, score in (("a", a, scores[0]), ("b", b, scores[1])):
        if both_scored:
            arguments[f"y_score_{side}"] = score
        if predictions.y_pred is not None:
            arguments[f"y_pred_{side}"] = labels[predictions.y_pred]
        elif not both_scored:
            arguments[f"y_pred_{side}"] = labels[_implied_codes(predictions)]
    return arguments


def decoded_scores(predictions: Predictions) -> Optional[Any]:
    """The stored scores as probabilities (logits through sigmoid/softmax, the shape kept); None
    for none or for decision margins, which are no probabilities."""
    from toolkit.evaluation.inputs import check_scores

    if predictions.y_score is None or predictions.score_type == "decision":
        return None
    if predictions.score_type == "probability":
        return predictions.y_score
    table = check_scores(predictions.y_score, predictions.example_count, predictions.labels, "logits")
    return table[:, 1] if np.ndim(predictions.y_score) == 1 or np.shape(predictions.y_score)[1] == 1 else table


def _implied_codes(predictions: Predictions) -> np.ndarray:
    """The predictions a run's scores implied, by the rule ``evaluate`` applies."""
    from toolkit.evaluation.inputs import check_scores, predicted_codes

    table = check_scores(predictions.y_score, predictions.example_count, predictions.labels, predictions.score_type)
    binary = np.ndim(predictions.y_score) == 1 or np.shape(predictions.y_score)[1] == 1
    return predicted_codes(table, binary, predictions.score_type)


# --- the comparison page's section ------------------------------------------------------------

def paired_section(records: Sequence[RunRecord], labels: Sequence[str], _directions: Mapping) -> str:
    """"Paired comparison": each later run (b) against the first (a, the baseline) on their stored
    predictions, one table per pair; a pair that cannot be tested gets one line saying why."""
    baseline, label_a = records[0], labels[0]
    if baseline.predictions is None:
        return "<h2>Paired comparison</h2>\n" + _no_test(baseline, f"{label_a} (a) {_NO_PREDICTIONS}")
    pairs = []
    for record, label in zip(records[1:], labels[1:]):
        problem = f"{label} (b) {_NO_PREDICTIONS}" if record.predictions is None else \
            examples_problem(baseline, baseline.predictions, record, record.predictions)
        if problem is not None:
            pairs.append((label, _no_test(record, f"{label} (b) against {label_a} (a): {problem}"), False))
            continue
        comparison = compare_predictions(baseline.predictions, record.predictions, ci=PAGE_CI,
                                         n_bootstrap=PAGE_BOOTSTRAP, seed=PAGE_SEED)
        notes = "".join(f"\n<p class=\"note\">{_text(warning)}</p>" for warning in comparison.warnings)
        pairs.append((label, _table(comparison, record.run_id, label_a, label) + "\n" + _methods(comparison)
                      + notes, True))
    if not any(tested for _, _, tested in pairs):  # nothing to explain: one line per run that could not be tested
        return "\n".join(["<h2>Paired comparison</h2>"] + [block for _, block, _ in pairs])
    intro = (f"<p class=\"meta\">Each run (b) against the first, <b>{_text(label_a)}</b> (a), on the predictions "
             f"both stored for the same examples: difference = a &minus; b, {PAGE_CI:.0%} interval and two-sided "
             f"p-value from toolkit.paired_test (paired bootstrap: {PAGE_BOOTSTRAP} resamples, seed {PAGE_SEED}).</p>")
    return "\n".join(["<h2>Paired comparison</h2>", intro] +
                     [f"<h3>{_text(label)} (b) vs {_text(label_a)} (a)</h3>\n{block}" for label, block, _ in pairs])


def _no_test(record: RunRecord, problem: str) -> str:
    return f"<p class=\"note\" data-paired=\"{_text(record.run_id)}\">No paired test: {_text(problem)}.</p>"


def _table(comparison: PairedComparison, run_id: str, label_a: str, label_b: str) -> str:
    rows = []
    for key, test in comparison.tests.items():
        low, high = test.interval
        fields = (("value_a", test.value_a, "{:.4f}"), ("value_b", test.value_b, "{:.4f}"),
                  ("difference", test.difference, "{:+.4f}"))
        cells = [f"<td class=\"name\">{_text(key)}</td>"]
        cells += [_cell(run_id, key, name, _shown(value, form), repr(float(value))) for name, value, form in fields]
        cells.append(_cell(run_id, key, "interval", f"[{_shown(low, '{:+.4f}')}, {_shown(high, '{:+.4f}')}]",
                           f"{float(low)!r} {float(high)!r}"))
        cells.append(_cell(run_id, key, "p_value", _shown(test.p_value, "{:.3g}"), repr(float(test.p_value))))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{_text(name)}</th>" for name in
                   (f"a: {label_a}", f"b: {label_b}", "a \u2212 b", f"{comparison.ci:.0%} interval", "p"))
    return (f"<table class=\"paired\"><thead><tr><th class=\"name\">metric</th>{head}</tr></thead><tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")


def _cell(run_id: str, metric: str, field: str, shown: str, exact: str) -> str:
    """A table cell: the rounded number shown, the exact one in ``data-value`` for whoever checks it."""
    return (f"<td data-paired=\"{_text(run_id)}\" data-metric=\"{_text(metric)}\" data-field=\"{field}\" "
            f"data-value=\"{exact}\">{shown}</td>")


def _methods(comparison: PairedComparison) -> str:
    """One sentence: which test each metric used."""
    by_method: dict[str, list[str]] = {}
    for key, test in comparison.tests.items():
        by_method.setdefault(test.method, []).append(key)
    said = "; ".join(f"{method} for {', '.join(keys)}" for method, keys in by_method.items())
    return f"<p class=\"meta\" data-methods=\"paired\">Tests used: {_text(said)}.</p>"


def _shown(value: float, form: str) -> str:
    return "n/a" if value != value else form.format(value)
