"""Speed of bootstrap confidence intervals: toolkit.evaluate(ci=0.95, n_bootstrap=1000) on the full
metric suite against a loop that calls scikit-learn on resampled copies of the data, in one run.

    python benchmarks/bench_bootstrap.py                  # N = 1e5, K = 10, 1,000 resamples
    python benchmarks/bench_bootstrap.py --weighted       # with sample weights
    python benchmarks/bench_bootstrap.py --peer-resamples 1000   # time every peer resample (~10 min)
    python benchmarks/bench_bootstrap.py --poisson        # N = 1e6: Poisson bootstrap vs one exact evaluation

The peer draws a resample (indices with replacement), copies the arrays and computes every key of
toolkit's suite with scikit-learn, as a user would write it. By default it is timed on the first
--peer-resamples resamples and the time is scaled to 1,000 (each resample costs the same: same N,
same calls); the output says so. Target (issue #7): toolkit >= 50x faster.

--poisson times, in one run, one exact evaluation without intervals (best of 3, after a warm-up),
toolkit.evaluate(ci=0.95, n_bootstrap=1000) with bootstrap="poisson" and with "multinomial", on
N = 1e6 by default, and prints the ratios. Target (issue #15): the 1,000 Poisson resamples within
30x the exact evaluation. All use every core the machine has; under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import numpy as np

import toolkit
from synthetic import skilled_predictions  # noqa: E402  (benchmarks/ is on sys.path)

TARGET_RATIO = 50.0
POISSON_TARGET = 30.0


def sklearn_suite(y_true, y_score, sample_weight, labels) -> dict[str, float]:
    """Every scalar key of toolkit's multiclass suite, one scikit-learn call per group of keys."""
    from sklearn import metrics

    y_pred = y_score.argmax(axis=1)
    counting = dict(labels=labels, sample_weight=sample_weight, zero_division=0)
    values = {"accuracy": metrics.accuracy_score(y_true, y_pred, sample_weight=sample_weight),
              "example_count": float(len(y_true))}
    for name, function in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                           ("f1", metrics.f1_score)):
        for average in ("macro", "micro", "weighted"):
            values[f"{name}_{average}"] = function(y_true, y_pred, average=average, **counting)
    per_class = metrics.precision_recall_fscore_support(y_true, y_pred, average=None, **counting)
    for name, column in zip(("precision", "recall", "f1", "support"), per_class):
        values.update({f"{name}/{label}": float(value) for label, value in zip(labels, column)})
    for average in ("macro", "weighted"):
        values[f"roc_auc_ovr_{average}"] = metrics.roc_auc_score(
            y_true, y_score, multi_class="ovr", average=average, labels=labels, sample_weight=sample_weight)
    values["log_loss"] = metrics.log_loss(y_true, y_score, labels=labels, sample_weight=sample_weight)
    return values


def peer_loop(y_true, y_score, sample_weight, labels, resamples: int, seed: int) -> tuple[float, dict]:
    """Seconds for ``resamples`` resampled copies through scikit-learn, and the values drawn."""
    rng = np.random.default_rng(seed)
    n = len(y_true)
    drawn: dict[str, list[float]] = {}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(resamples):
            index = rng.integers(0, n, n)
            weights = None if sample_weight is None else sample_weight[index]
            for key, value in sklearn_suite(y_true[index], y_score[index], weights, labels).items():
                drawn.setdefault(key, []).append(value)
    return time.perf_counter() - start, drawn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--peer-resamples", type=int, default=40,
                        help="resamples the scikit-learn loop is timed on (scaled to --resamples)")
    parser.add_argument("--weighted", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--poisson", action="store_true",
                        help="Poisson bootstrap against one exact evaluation (default N = 1e6)")
    args = parser.parse_args()
    if args.poisson:
        return poisson_against_exact(1_000_000 if args.n == parser.get_default("n") else args.n, args)

    y_true, y_score, weights = skilled_predictions(args.n, args.classes, args.weighted, args.seed)
    labels = list(range(args.classes))
    toolkit.evaluate(y_true[:1000], y_score=y_score[:1000], labels=labels, ci=0.95, n_bootstrap=10)  # warm-up

    start = time.perf_counter()
    result = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, labels=labels, ci=0.95,
                              n_bootstrap=args.resamples, seed=args.seed)
    ours = time.perf_counter() - start

    peer_count = min(args.peer_resamples, args.resamples)
    peer_seconds, drawn = peer_loop(y_true, y_score, weights, labels, peer_count, args.seed + 1)
    peer_scaled = peer_seconds * args.resamples / peer_count
    missing = sorted(set(drawn) - set(result.intervals))
    if missing:
        raise SystemExit(f"toolkit gave no interval for {missing}")

    print(f"bootstrap intervals, N = {args.n:,}, K = {args.classes}, {args.resamples:,} resamples, "
          f"{'weighted' if args.weighted else 'unweighted'}, {len(result.intervals)} scalar metrics")
    print(f"  toolkit.evaluate(ci=0.95)   {ours:9.2f} s   (point values and every interval)")
    scaled_note = "" if peer_count == args.resamples else (
        f"   (timed on {peer_count} resamples: {peer_seconds:.2f} s, scaled x{args.resamples / peer_count:g})")
    print(f"  scikit-learn on copies      {peer_scaled:9.2f} s{scaled_note}")
    ratio = peer_scaled / ours
    print(f"  ratio                       {ratio:9.1f} x   (target >= {TARGET_RATIO:g}x: "
          f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'})")
    print("  a few intervals, toolkit (all resamples) vs the peer's percentiles (its resamples):")
    for key in ("accuracy", "f1_macro", "roc_auc_ovr_macro", "log_loss"):
        low, high = result.intervals[key]
        peer_low, peer_high = np.quantile(drawn[key], [0.025, 0.975])
        print(f"    {key:20s} {result.metrics[key]:.4f}  [{low:.4f}, {high:.4f}]   peer [{peer_low:.4f}, {peer_high:.4f}]")
    return 0 if ratio >= TARGET_RATIO else 1


def poisson_against_exact(n: int, args) -> int:
    """Seconds of one exact evaluation, of 1,000 Poisson and of 1,000 multinomial resamples (point
    values and every interval), and their ratios, in one run."""
    import os

    y_true, y_score, weights = skilled_predictions(n, args.classes, args.weighted, args.seed)
    labels = list(range(args.classes))

    def timed(**options) -> tuple[float, Any]:
        start = time.perf_counter()
        result = toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, labels=labels, **options)
        return time.perf_counter() - start, result

    # warm-up at full size: numba's import and cached kernels are loaded once per process, by
    # whichever evaluation comes first, and would otherwise be charged to it
    timed()
    toolkit.evaluate(y_true[:200_000], y_score=y_score[:200_000], labels=labels, ci=0.95, n_bootstrap=16,
                     bootstrap="poisson")
    exact_seconds, exact = min((timed() for _ in range(3)), key=lambda pair: pair[0])
    intervals = dict(ci=0.95, n_bootstrap=args.resamples, seed=args.seed)
    poisson_seconds, result = timed(bootstrap="poisson", **intervals)
    multinomial_seconds, classic = timed(bootstrap="multinomial", **intervals)
    ratio = poisson_seconds / exact_seconds
    print(f"bootstrap cost, N = {n:,}, K = {args.classes}, {args.resamples:,} resamples, "
          f"{'weighted' if args.weighted else 'unweighted'}, {len(result.intervals)} intervals, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  toolkit.evaluate, exact, no intervals (best of 3)   {exact_seconds:8.2f} s")
    print(f"  toolkit.evaluate(ci=0.95, bootstrap='poisson')      {poisson_seconds:8.2f} s   "
          f"{ratio:6.1f} x exact   (target <= {POISSON_TARGET:g}x: {'PASS' if ratio <= POISSON_TARGET else 'FAIL'})")
    print(f"  toolkit.evaluate(ci=0.95, bootstrap='multinomial')  {multinomial_seconds:8.2f} s   "
          f"{multinomial_seconds / exact_seconds:6.1f} x exact   "
          f"(Poisson / multinomial = {poisson_seconds / multinomial_seconds:.2f})")
    print("  intervals, Poisson vs multinomial:")
    for key in ("accuracy", "f1_macro", "roc_auc_ovr_macro", "log_loss"):
        low, high = result.intervals[key]
        classic_low, classic_high = classic.intervals[key]
        print(f"    {key:20s} {exact.metrics[key]:.4f}  [{low:.4f}, {high:.4f}]   [{classic_low:.4f}, {classic_high:.4f}]")
    return 0 if ratio <= POISSON_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
