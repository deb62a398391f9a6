"""``toolkit compare RUN_A RUN_B --paired``: ``toolkit.paired_test`` on two runs' stored predictions."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

import numpy as np

from toolkit.commands.gating import GATES_FAILED
from toolkit.commands.stored_runs import decoded_scores, read_with_predictions
from toolkit.errors import UsageError
from toolkit.evaluation.paired import PairedComparison, paired_test, parse_paired_gate
from toolkit.plugin.records import FINGERPRINT_TAG, Predictions


def run_paired(args: argparse.Namespace, open_reader: Callable[[argparse.Namespace], Any]) -> int:
    """Read both runs' predictions, check they are the same examples, test, print, gate."""
    if not args.paired:
        raise UsageError(f"runs {args.runs} given: add --paired to test RUN_A against RUN_B "
                         "(without runs, compare lists every run)")
    if len(args.runs) != 2:
        raise UsageError(f"--paired compares two runs: give RUN_A RUN_B, got {len(args.runs)} run(s)")
    gates = [parse_paired_gate(text) for text in args.gates]  # a malformed gate fails before any reading
    reader = open_reader(args)
    _check_tagged_examples(reader, args.runs)
    (record_a, a), (record_b, b) = (read_with_predictions(reader, text, f"RUN_{side}")
                                    for side, text in zip("AB", args.runs))
    _check_same_examples(record_a, a, record_b, b)
    comparison = paired_test(**_inputs(a, b), metrics=None if args.metric is None else [args.metric],
                             ci=args.ci, n_bootstrap=args.n_bootstrap, seed=args.seed)
    outcomes = comparison.check(gates) if gates else []
    if args.json:
        document = {"a": record_a.run_id, "b": record_b.run_id, **comparison.to_dict(),
                    "gates": [{"gate": str(outcome.gate), "passed": outcome.passed, "reason": outcome.reason}
                              for outcome in outcomes]}
        print(json.dumps(document, indent=2))
    else:
        _print(record_a, record_b, comparison)
    for outcome in outcomes:
        print(f"gate {outcome}", file=sys.stderr if args.json else sys.stdout)
    failed = [outcome for outcome in outcomes if not outcome.passed]
    if failed:
        print(f"{len(failed)} of {len(outcomes)} paired gate(s) failed: "
              f"{'; '.join(str(outcome.gate) for outcome in failed)}", file=sys.stderr)
        return GATES_FAILED
    return 0


def _check_tagged_examples(reader: Any, runs: list) -> None:
    """The cheap check first: runs tagged with different y_true fingerprints are refused unread."""
    from toolkit.reporting.record import resolve_run_id

    summaries = {summary.run_id: summary for summary in reader.list_runs()}
    found = []
    for side, text in zip("AB", runs):
        try:
            found.append(summaries[resolve_run_id(reader, text)])
        except ValueError as error:
            raise UsageError(f"RUN_{side}: {error}") from None
    tags = [summary.tags.get(FINGERPRINT_TAG) for summary in found]
    if all(tags) and tags[0] != tags[1]:
        raise UsageError(f"runs {found[0].run_id} and {found[1].run_id} were not evaluated on the same examples: "
                         f"their {FINGERPRINT_TAG} tags differ ({tags[0][:12]} vs {tags[1][:12]}); a paired test "
                         "needs both models' predictions for the same examples")


def _check_same_examples(record_a: Any, a: Predictions, record_b: Any, b: Predictions) -> None:
    """The same examples in the same order, with the same labels (and the same weights): else a UsageError."""
    for record, predictions in ((record_a, a), (record_b, b)):
        tagged = record.tags.get(FINGERPRINT_TAG)
        if tagged and tagged != predictions.fingerprint:
            raise UsageError(f"run {record.run_id}: its stored predictions do not match its {FINGERPRINT_TAG} tag")
    if a.fingerprint != b.fingerprint:
        raise UsageError(
            f"runs {record_a.run_id} and {record_b.run_id} were not evaluated on the same examples: y_true differs "
            f"({a.example_count} examples, labels {list(a.labels)[:10]}, {FINGERPRINT_TAG} {a.fingerprint[:12]} "
            f"vs {b.example_count} examples, labels {list(b.labels)[:10]}, {b.fingerprint[:12]}); "
            "a paired test needs both models' predictions for the same examples")
    if (a.sample_weight is None) != (b.sample_weight is None) or (
            a.sample_weight is not None and not np.array_equal(a.sample_weight, b.sample_weight)):
        raise UsageError(f"runs {record_a.run_id} and {record_b.run_id} weighted their examples differently "
                         "(sample_weight): a paired test needs the same weights")


def _inputs(a: Predictions, b: Predictions) -> dict[str, Any]:
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


def _implied_codes(predictions: Predictions) -> np.ndarray:
    """The predictions a run's scores implied, by the rule ``evaluate`` applies."""
    from toolkit.evaluation.inputs import check_scores, predicted_codes

    table = check_scores(predictions.y_score, predictions.example_count, predictions.labels, predictions.score_type)
    binary = np.ndim(predictions.y_score) == 1 or np.shape(predictions.y_score)[1] == 1
    return predicted_codes(table, binary, predictions.score_type)


def _print(record_a: Any, record_b: Any, comparison: PairedComparison) -> None:
    for side, record in (("a", record_a), ("b", record_b)):
        print(f"{side}: {record.run_name or '-'} ({record.tracker} run {record.run_id})")
    print(f"{comparison.example_count} examples, {len(comparison.labels)} labels ({comparison.task}); "
          f"difference = a - b")
    print()
    print(comparison.table())
    for warning in comparison.warnings:
        print(f"warning: {warning}")
