"""Speed of the whole default metric suite with scores: toolkit.evaluate against scikit-learn (and
torchmetrics when installed), interleaved in one process, with medians and ratios printed.

    python benchmarks/bench_metrics.py            # N = 1e5 and 1e6, K = 2 and 10
    python benchmarks/bench_metrics.py --large    # adds N = 1e7
    python benchmarks/bench_metrics.py --weighted # with sample weights

Each repetition times toolkit and each peer back to back, the order alternating between
repetitions, so that a busy machine slows all of them alike. Before timing, every value toolkit
returns is checked against scikit-learn's (to 1e-9) and the confusion matrices must be equal.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from typing import Callable, Optional

import numpy as np

import toolkit
from synthetic import skilled_predictions  # noqa: E402  (benchmarks/ is on sys.path)

TARGET_RATIO = 20.0  # issue #2: toolkit must be at least 20x faster than scikit-learn at N=1e6, K=10
TOLERANCE = 1e-9


def make_data(n: int, n_classes: int, weighted: bool, seed: int):
    """Binary tasks get (N,) positive-class probabilities, as binary models return."""
    y_true, probabilities, sample_weight = skilled_predictions(n, n_classes, weighted, seed)
    y_score = probabilities[:, 1].copy() if n_classes == 2 else probabilities
    return y_true, y_score, sample_weight


def toolkit_suite(y_true, y_score, sample_weight):
    """toolkit's default suite: every registered metric that applies, y_pred derived from the scores."""
    result = toolkit.evaluate(y_true, y_score=y_score, sample_weight=sample_weight)
    return result.metrics, result.confusion_matrix


def sklearn_suite(y_true, y_score, sample_weight):
    """The same suite in scikit-learn, one call per toolkit key as a user would write it:

    y_pred derived as toolkit derives it (argmax of the columns, or p >= 0.5 for (N,) scores);
    accuracy_score; precision_score, recall_score and f1_score, each with average = macro, micro
    and weighted (9 calls), plus average = binary for binary tasks (3 calls);
    precision_recall_fscore_support(average=None) for the per-class values and supports;
    roc_auc_score once for binary tasks, twice for multiclass (multi_class="ovr" with
    average="macro" and with average="weighted"); log_loss; confusion_matrix.
    Every call gets labels= (so classes never predicted still count) and zero_division=0.
    """
    from sklearn import metrics

    binary = y_score.ndim == 1
    labels = [0, 1] if binary else list(range(y_score.shape[1]))
    y_pred = (y_score >= 0.5).astype(np.int64) if binary else y_score.argmax(axis=1)
    counting = dict(labels=labels, sample_weight=sample_weight, zero_division=0)
    values = {
        "accuracy": metrics.accuracy_score(y_true, y_pred, sample_weight=sample_weight),
        "example_count": float(len(y_true)),
    }
    for name, function in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                           ("f1", metrics.f1_score)):
        for average in ("macro", "micro", "weighted"):
            values[f"{name}_{average}"] = function(y_true, y_pred, average=average, **counting)
        if binary:
            values[name] = function(y_true, y_pred, average="binary", pos_label=labels[1], **counting)
    per_class = metrics.precision_recall_fscore_support(y_true, y_pred, average=None, **counting)
    for name, column in zip(("precision", "recall", "f1", "support"), per_class):
        values.update({f"{name}/{label}": value for label, value in zip(labels, column)})
    if binary:
        values["roc_auc"] = metrics.roc_auc_score(y_true, y_score, sample_weight=sample_weight)
    else:
        for average in ("macro", "weighted"):
            values[f"roc_auc_ovr_{average}"] = metrics.roc_auc_score(
                y_true, y_score, multi_class="ovr", average=average, labels=labels,
                sample_weight=sample_weight)
    values["log_loss"] = metrics.log_loss(y_true, y_proba=y_score, labels=labels, sample_weight=sample_weight)
    confusion = metrics.confusion_matrix(y_true, y_pred, labels=labels, sample_weight=sample_weight)
    return {key: float(value) for key, value in values.items()}, confusion


def torchmetrics_suite(y_true, y_score, sample_weight):
    """The same suite in torchmetrics' functional API (no sample weights there: unweighted runs only)."""
    import torch
    from torchmetrics.functional import classification as tm

    binary = y_score.ndim == 1
    probabilities = np.column_stack((1 - y_score, y_score)) if binary else y_score
    preds = torch.from_numpy(probabilities)
    target = torch.from_numpy(y_true)
    n_classes = probabilities.shape[1]
    values = {"accuracy": tm.multiclass_accuracy(preds, target, n_classes, average="micro")}
    for name, function in (("precision", tm.multiclass_precision), ("recall", tm.multiclass_recall),
                           ("f1", tm.multiclass_f1_score)):
        for average in ("macro", "micro", "weighted"):
            values[f"{name}_{average}"] = function(preds, target, n_classes, average=average)
        values[f"{name}/per_class"] = function(preds, target, n_classes, average="none")
    if binary:
        values["roc_auc"] = tm.binary_auroc(torch.from_numpy(y_score), target)
    else:
        for average in ("macro", "weighted"):
            values[f"roc_auc_ovr_{average}"] = tm.multiclass_auroc(preds, target, n_classes, average=average)
    clipped = preds.clamp(torch.finfo(preds.dtype).eps, 1 - torch.finfo(preds.dtype).eps)
    values["log_loss"] = torch.nn.functional.nll_loss(clipped.log(), target)
    confusion = tm.multiclass_confusion_matrix(preds, target, n_classes)
    return values, confusion.numpy()


def check_agreement(ours: dict, theirs: dict, our_confusion, their_confusion, case: str) -> None:
    """Every key toolkit returns must match scikit-learn's value (and its confusion matrix)."""
    missing = sorted(set(theirs) - set(ours))
    assert not missing, f"{case}: toolkit lacks {missing}"
    for key, value in theirs.items():
        assert abs(ours[key] - value) <= TOLERANCE * max(1.0, abs(value)), \
            f"{case}: {key} toolkit {ours[key]!r} != scikit-learn {value!r}"
    assert np.allclose(our_confusion, their_confusion, rtol=0, atol=TOLERANCE), f"{case}: confusion matrices differ"


def time_once(function: Callable[[], object], timings: list) -> None:
    start = time.perf_counter()
    function()
    timings.append(time.perf_counter() - start)


def run_case(n: int, n_classes: int, repeats: int, weighted: bool, peers: dict, seed: int) -> dict:
    y_true, y_score, sample_weight = make_data(n, n_classes, weighted, seed)
    case = f"N={n:.0e} K={n_classes}"
    ours, our_confusion = toolkit_suite(y_true, y_score, sample_weight)  # also warms caches and imports
    theirs, their_confusion = sklearn_suite(y_true, y_score, sample_weight)
    check_agreement(ours, theirs, our_confusion, their_confusion, case)
    names = ["toolkit", *peers]
    suites = {"toolkit": toolkit_suite, **peers}
    timings: dict[str, list] = {name: [] for name in names}
    for repetition in range(repeats):
        order = names if repetition % 2 == 0 else names[::-1]  # alternate who goes first
        for name in order:
            time_once(lambda: suites[name](y_true, y_score, sample_weight), timings[name])
    return {name: statistics.median(values) for name, values in timings.items()}


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run N = 1e7")
    parser.add_argument("--weighted", action="store_true", help="pass sample weights")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed repetitions per case (default 5; N = 1e7 gets a fifth of them, at least 1)")
    parser.add_argument("--sizes", type=lambda text: [int(float(n)) for n in text.split(",")],
                        help="comma-separated N values instead of 1e5,1e6 (e.g. 1e6)")
    parser.add_argument("--classes", type=lambda text: [int(k) for k in text.split(",")], default=[2, 10],
                        help="comma-separated K values (default 2,10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    peers: dict[str, Callable] = {"scikit-learn": sklearn_suite}
    if importlib.util.find_spec("torchmetrics") is None:
        print("torchmetrics is not installed: its column is skipped")
    elif args.weighted:
        print("torchmetrics takes no sample weights: its column is skipped with --weighted")
    else:
        peers["torchmetrics"] = torchmetrics_suite

    print(f"load average before: {' '.join(f'{load:.1f}' for load in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (other work on the machine slows every column alike)")
    sizes = args.sizes or [100_000, 1_000_000] + ([10_000_000] if args.large else [])
    header = f"{'N':>6} {'K':>3} {'runs':>4} {'toolkit':>10}" + "".join(f" {name:>13} {'ratio':>7}" for name in peers)
    print(f"medians of interleaved repetitions, milliseconds{' (with sample weights)' if args.weighted else ''}")
    print(header)
    target_met = None
    for n in sizes:
        for n_classes in args.classes:
            repeats = args.repeats if n < 10_000_000 else max(1, args.repeats // 5)
            medians = run_case(n, n_classes, repeats, args.weighted, peers, args.seed)
            row = f"{n:>6.0e} {n_classes:>3} {repeats:>4} {medians['toolkit'] * 1e3:>10.1f}"
            for name in peers:
                row += f" {medians[name] * 1e3:>13.1f} {medians[name] / medians['toolkit']:>6.1f}x"
            print(row, flush=True)
            if n == 1_000_000 and n_classes == 10:
                target_met = medians["scikit-learn"] / medians["toolkit"] >= TARGET_RATIO
    print(f"load average after: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    if target_met is None:
        return 0
    print(f"target {TARGET_RATIO:.0f}x scikit-learn at N=1e6, K=10: {'met' if target_met else 'NOT met'}")
    return 0 if target_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
