"""``toolkit evaluate --y-true FILE --y-score FILE``: score saved predictions, optionally tracked;
``toolkit evaluate --run RUN_ID``: recompute a recorded run's metrics from its stored predictions."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional

import numpy as np

from toolkit.commands import gating
from toolkit.commands.prediction_files import read_prediction_files
from toolkit.errors import UsageError
from toolkit.evaluation.bootstrap import METHODS as BOOTSTRAP_METHODS
from toolkit.evaluation.inputs import SCORE_TYPES
from toolkit.progress import final_metrics_block


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="compute metrics from saved labels and scores (.npy or .csv), or a recorded run's",
        description="Compute metrics from saved labels, predictions and scores (.npy or .csv files). "
                    "With --run RUN_ID: recompute a recorded run's metrics from the predictions it stored, "
                    "with every metric installed now, and add the new ones to that same run (values it "
                    "already has are checked equal, to 1e-9 relative, and left as they are; a difference "
                    "exits 1 naming the metrics, and nothing is added).",
    )
    parser.add_argument("--y-true", metavar="FILE", help="true labels, one per example (with --files: a column name)")
    parser.add_argument("--y-score", metavar="FILE",
                        help="scores: (N,) positive-class or (N, K) one column per label (with --files: a column, "
                             "a glob over column names such as 'p_*', or names separated by commas)")
    parser.add_argument("--y-pred", metavar="FILE",
                        help="predicted labels (derived from the scores when omitted; with --files: a column)")
    parser.add_argument("--score-type", choices=SCORE_TYPES, default="probability",
                        help="what the scores are: probabilities (default), logits (sigmoid/softmax applied) "
                             "or decision margins (ranking metrics only)")
    parser.add_argument("--labels", nargs="+", metavar="LABEL", help="the class labels, in the order of the score columns")
    parser.add_argument("--metric", dest="metrics", action="append", metavar="NAME", help="a metric to compute (repeatable; default all)")
    parser.add_argument("--tracker", dest="trackers", action="append", default=[], metavar="NAME",
                        help="record the result as a run in this tracker (repeatable; `toolkit plugins` lists them)")
    parser.add_argument("--run-name", help="the run's name in the trackers")
    recorded = parser.add_argument_group(
        "a recorded run", "--run RUN_ID [--tracker NAME] [--store LOCATION] [--metric NAME ...] [--json]")
    recorded.add_argument("--run", dest="run_id", metavar="RUN_ID",
                          help="recompute this recorded run (id or unique prefix) from its stored predictions and "
                               "add the new metrics to it; --tracker names the tracker that has it (default: the "
                               "first configured tracker that can read)")
    recorded.add_argument("--store", "--tracking-uri", dest="store", metavar="LOCATION",
                          help="with --run: where the tracker's runs are (an MLflow tracking URI, the folder "
                               "holding wandb/)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--slice-by", dest="slice_by", action="append", default=[], metavar="COL",
                        help="also report each slice of the examples: NAME=FILE or FILE (.npy or .csv, one value "
                             "per example; the name is the file's stem), with --files a column (repeatable)")
    parser.add_argument("--cross-slices", action="store_true",
                        help="also report the slices of every --slice-by crossed (region=north,device=ios)")
    files = parser.add_argument_group(
        "files larger than memory",
        "read Parquet, CSV or .npy tables a batch at a time (toolkit.evaluate_files); --y-true, --y-score, "
        "--y-pred and --sample-weight then name columns")
    files.add_argument("--files", nargs="+", metavar="PATH",
                       help="prediction files or glob patterns ('preds/part-*.parquet'), or folders of .npy columns")
    files.add_argument("--sample-weight", metavar="COLUMN", help="a column of example weights")
    files.add_argument("--exact", action="store_true",
                       help="exact AUROC, keeping every score in memory (default: binned AUROC, bounded memory)")
    files.add_argument("--batch-rows", type=int, default=1 << 18, metavar="N", help="rows per batch (default 262144)")
    gating.add_arguments(parser)
    parser.add_argument("--bootstrap", choices=BOOTSTRAP_METHODS, metavar="METHOD",
                        help="how --ci resamples are drawn: poisson (the default with --files: the same "
                             "intervals for any --batch-rows) or multinomial (the default otherwise)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import toolkit

    if args.run_id is not None:
        return _run_recorded(args)
    if args.store is not None:
        raise UsageError("--store goes with --run (the store of the recorded run to re-evaluate)")
    if args.files:
        return _run_files(args)
    if args.sample_weight is not None or args.exact:
        raise ValueError("--sample-weight and --exact go with --files")
    if args.y_true is None:
        raise ValueError("give --y-true FILE (or --files PATH with --y-true naming a column)")
    if args.y_score is None and args.y_pred is None:
        raise ValueError("give --y-score or --y-pred (or both): there is nothing to compare --y-true with")
    files = {"--y-true": (args.y_true, True), "--y-score": (args.y_score, False), "--y-pred": (args.y_pred, True)}
    slice_files = _slice_files(args.slice_by)
    arrays = read_prediction_files({**{argument: file for argument, file in files.items() if file[0] is not None},
                                    **{f"--slice-by {name}": (path, True) for name, path in slice_files.items()}})
    y_true, y_score, y_pred = (arrays.get(argument) for argument in files)
    slice_by = {name: arrays[f"--slice-by {name}"] for name in slice_files} or None
    labels = None if args.labels is None else _typed_labels(args.labels, y_true)
    gates, baseline = gating.parse(args)
    result = toolkit.evaluate(
        y_true, y_pred=y_pred, y_score=y_score, labels=labels, metrics=args.metrics,
        trackers=args.trackers, run_name=args.run_name,
        params={argument: os.path.basename(path) for argument, path in
                (("y_true", args.y_true), ("y_score", args.y_score), ("y_pred", args.y_pred)) if path},
        gates=gates, baseline=baseline, ci=args.ci, n_bootstrap=args.n_bootstrap, seed=args.seed,
        bootstrap=args.bootstrap, threshold_targets=gating.threshold_targets(args), score_type=args.score_type,
        slice_by=slice_by, cross_slices=args.cross_slices,
    )
    return _print_result(args, result, len(y_true))


def _slice_files(options: list) -> dict:
    """``--slice-by NAME=FILE`` or ``--slice-by FILE`` (named after the file's stem): name -> path."""
    files = {}
    for option in options:
        name, separator, path = option.partition("=")
        if not separator:
            name, path = os.path.splitext(os.path.basename(option))[0], option
        if name in files:
            raise ValueError(f"--slice-by names the slice {name!r} twice; write NAME=FILE to name them apart")
        files[name] = path
    return files


def _run_files(args: argparse.Namespace) -> int:
    """Out-of-core: the files are read a batch at a time; the options name their columns."""
    import toolkit

    y_score = args.y_score
    if y_score is not None and "," in y_score:
        y_score = [name.strip() for name in y_score.split(",") if name.strip()]
    gates, baseline = gating.parse(args)
    result = toolkit.evaluate_files(
        args.files, y_true=args.y_true or "y_true", y_pred=args.y_pred, y_score=y_score,
        sample_weight=args.sample_weight, labels=_labels_for_columns(args.labels), metrics=args.metrics,
        exact=args.exact,
        batch_rows=args.batch_rows, trackers=args.trackers, run_name=args.run_name,
        params={"files": " ".join(os.path.basename(path) for path in args.files)},
        gates=gates, baseline=baseline, ci=args.ci, n_bootstrap=args.n_bootstrap, seed=args.seed,
        bootstrap=args.bootstrap or "poisson", threshold_targets=gating.threshold_targets(args),
        score_type=args.score_type, slice_by=args.slice_by or None, cross_slices=args.cross_slices,
    )
    return _print_result(args, result, int(result.metrics.get("example_count", 0)))


# What --run cannot combine with: the data comes from the run, and nothing but metrics is added.
_NOT_WITH_RUN = {"y_true": "--y-true", "y_score": "--y-score", "y_pred": "--y-pred", "labels": "--labels",
                 "files": "--files", "sample_weight": "--sample-weight", "run_name": "--run-name", "gates": "--gate",
                 "baseline": "--baseline", "ci": "--ci", "target_precision": "--target-precision",
                 "target_recall": "--target-recall", "slice_by": "--slice-by", "cross_slices": "--cross-slices"}


def _run_recorded(args: argparse.Namespace) -> int:
    """Recompute a recorded run from its stored predictions; add what is new, check what is there."""
    import toolkit
    from toolkit.commands import stored_runs
    from toolkit.reporting.record import open_reader
    from toolkit.tracking.values import KeyMap, clean_metrics

    given = [option for name, option in _NOT_WITH_RUN.items() if getattr(args, name, None)]
    if given or args.score_type != "probability" or args.exact:
        given += ["--score-type"] * (args.score_type != "probability") + ["--exact"] * bool(args.exact)
        raise UsageError(f"--run takes the data and its options from the recorded run: leave out {', '.join(given)}")
    if len(args.trackers) > 1:
        raise UsageError(f"--run reads one tracker's run: give --tracker once, got {args.trackers}")
    reader = open_reader(args.trackers[0] if args.trackers else None, {"location": args.store} if args.store else None)
    record, predictions = stored_runs.read_with_predictions(reader, args.run_id)
    stored_runs.check_ended(record)
    tracker = stored_runs.reopener(record)
    result = toolkit.evaluate(**predictions.arguments(), metrics=args.metrics)
    recomputed = clean_metrics(result.metrics, KeyMap())  # the keys a tracker received them under
    mismatched = stored_runs.differing(record.metrics, recomputed)
    if mismatched:
        print(f"error: run {record.run_id}: recomputed from its stored predictions, {len(mismatched)} metric(s) "
              f"differ from the recorded values: {'; '.join(mismatched)}; nothing was added", file=sys.stderr)
        return 1
    new = {key: value for key, value in recomputed.items() if key not in record.metrics}
    checked = len(recomputed) - len(new)
    if args.json:
        print(json.dumps({"run_id": record.run_id, "tracker": record.tracker, "added": new,
                          "checked": sorted(set(recomputed) - set(new))}, indent=2))
    print(f"run {record.run_id} ({record.tracker}): {predictions.example_count} stored examples, "
          f"{checked} recorded metric(s) recomputed equal", file=sys.stderr if args.json else sys.stdout)
    if not new:
        print("nothing new to add", file=sys.stderr if args.json else sys.stdout)
        return 0
    where = stored_runs.add_values(tracker, record, new, stored_runs.evaluation_step(record, recomputed))
    if not args.json:
        print(f"added {len(new)} metric(s):")
        print(final_metrics_block(new, keys=list(new)))
        print(f"-> {where}")
    return 0


def _labels_for_columns(labels: Optional[list]) -> Optional[list]:
    """Command-line labels for a label column not read yet: integers when they all are."""
    if labels is None:
        return None
    try:
        return [int(label) for label in labels]
    except ValueError:
        return labels


def _print_result(args: argparse.Namespace, result: Any, examples: int) -> int:
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return gating.report(result, stream=sys.stderr) if result.gates else 0
    print(f"{examples} examples, {len(result.labels)} labels ({result.task})")
    print(final_metrics_block(result.metrics, keys=[key for key in result.metrics if "/" not in key]))
    if result.intervals:
        method = args.bootstrap or ("poisson" if args.files else "multinomial")
        print(f"{args.ci:.0%} bootstrap intervals ({args.n_bootstrap} {method} resamples):")
        gating.print_intervals(result)
    gating.print_thresholds(result)
    print_slices(result)
    from toolkit.cli import reported_problems

    for warning in result.warnings:
        if warning not in reported_problems:  # said once on stderr already
            print(f"warning: {warning}")
    return gating.report(result)


# The columns of the printed slice table, where the evaluation has them.
SLICE_COLUMNS = ("example_count", "accuracy", "f1_macro", "roc_auc", "roc_auc_ovr_macro", "log_loss")


def print_slices(result: Any) -> None:
    """One line per slice with the headline metrics; every metric is in --json and the trackers."""
    if not result.slices:
        return
    shown = [key for key in SLICE_COLUMNS if key in result.metrics]
    width = max(len(name) for name in result.slices)
    print("slices:")
    print(f"  {'slice':<{width}}  " + "  ".join(f"{key:>{max(len(key), 8)}}" for key in shown))
    for name, sliced in result.slices.items():
        cells = (f"{sliced.metrics.get(key, float('nan')):>{max(len(key), 8)}.4f}" for key in shown)
        print(f"  {name:<{width}}  " + "  ".join(cells))


def _typed_labels(labels: list, y_true: np.ndarray) -> list:
    """Labels given on the command line take the type of ``y_true`` (ints stay ints)."""
    if np.asarray(y_true).dtype.kind in "iu":
        try:
            return [int(label) for label in labels]
        except ValueError:
            raise ValueError(f"--labels {labels} must be integers, like the values of --y-true") from None
    return labels
