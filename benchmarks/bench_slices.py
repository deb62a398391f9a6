"""Cost of sliced metrics: toolkit.evaluate(slice_by=...) in one pass against its peers, in one run.

    python benchmarks/bench_slices.py                     # N = 1e6, K = 10, 2 columns (8 x 3 values) crossed
    python benchmarks/bench_slices.py --n 200000 --regions 50

Timed side by side, each the best of --repeat runs:
  * the whole evaluation without slices (the floor);
  * toolkit with slice_by (each column alone and crossed: 8 + 3 + 24 = 35 slices), one pass;
  * the loop a user writes without slice_by: toolkit.evaluate on each subset (boolean mask + copy);
  * the same loop through scikit-learn (accuracy, macro F1, OvR macro AUROC, log loss per subset: a
    smaller suite than toolkit's, so it flatters the peer).
Printed as ratios to the whole evaluation. Every figure depends on the machine's load.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

import toolkit
from synthetic import skilled_predictions  # noqa: E402  (benchmarks/ is on sys.path)


def best_of(repeat: int, function) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - started)
    return best, value


def subsets(regions: np.ndarray, devices: np.ndarray) -> list[np.ndarray]:
    masks = [regions == value for value in np.unique(regions)] + [devices == value for value in np.unique(devices)]
    masks += [(regions == a) & (devices == b) for a in np.unique(regions) for b in np.unique(devices)]
    return masks


def toolkit_loop(y_true, y_score, masks, labels):
    return [toolkit.evaluate(y_true[mask], y_score=y_score[mask], labels=labels) for mask in masks]


def sklearn_loop(y_true, y_score, masks, labels):
    from sklearn import metrics

    out = []
    for mask in masks:
        truth, scores = y_true[mask], y_score[mask]
        predicted = scores.argmax(axis=1)
        out.append((metrics.accuracy_score(truth, predicted),
                    metrics.f1_score(truth, predicted, average="macro", labels=labels, zero_division=0),
                    metrics.roc_auc_score(truth, scores, multi_class="ovr", average="macro", labels=labels),
                    metrics.log_loss(truth, scores, labels=labels)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    y_true, y_score, _ = skilled_predictions(args.n, args.classes, weighted=False)
    rng = np.random.default_rng(1)
    regions = np.array([f"r{index}" for index in range(args.regions)])[rng.integers(0, args.regions, args.n)]
    devices = rng.choice(["ios", "android", "web"], args.n)
    labels = list(range(args.classes))
    masks = subsets(regions, devices)
    warnings.simplefilter("ignore")

    whole, _ = best_of(args.repeat, lambda: toolkit.evaluate(y_true, y_score=y_score, labels=labels))
    sliced, result = best_of(args.repeat, lambda: toolkit.evaluate(
        y_true, y_score=y_score, labels=labels, slice_by={"region": regions, "device": devices}, cross_slices=True))
    loop, looped = best_of(args.repeat, lambda: toolkit_loop(y_true, y_score, masks, labels))
    peer, _ = best_of(args.repeat, lambda: sklearn_loop(y_true, y_score, masks, labels))
    assert len(result.slices) == len(masks)
    worst = max(abs(a - b) for sliced_result, alone in zip(result.slices.values(), looped)
                for a, b in ((sliced_result[key], alone[key]) for key in alone.metrics))
    print(f"N = {args.n:,}, K = {args.classes}, {len(masks)} slices ({args.regions} regions x 3 devices, each alone "
          f"and crossed); best of {args.repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  whole evaluation, no slices          {whole:8.2f} s   1.00x")
    print(f"  toolkit slice_by, one pass           {sliced:8.2f} s   {sliced / whole:5.2f}x the whole")
    print(f"  loop: toolkit.evaluate per subset    {loop:8.2f} s   {loop / whole:5.2f}x the whole, "
          f"{loop / sliced:5.2f}x slice_by")
    print(f"  loop: scikit-learn per subset (4 metrics) {peer:8.2f} s   {peer / whole:5.2f}x the whole, "
          f"{peer / sliced:5.2f}x slice_by")
    print(f"  largest difference slice_by vs loop: {worst:.1e}")


if __name__ == "__main__":
    main()
