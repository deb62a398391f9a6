"""What a metric that needs raw inputs costs: memory kept, compute calls and time of one ``ci=`` evaluation.

    python benchmarks/bench_raw_input_metrics.py            # N = 1e6 for memory, 1e5 for intervals

Side by side: ``brier`` (needs ``y_true`` and ``y_score``: every example is kept, and without a
``resample`` function it is recomputed on each bootstrap resample) and ``accuracy`` (needs the
``confusion`` statistic: K x K counts, resampled as one multinomial draw). Memory is the peak
traced by tracemalloc while streaming N binary examples in batches of 100,000 and computing; calls are
counted inside ``compute``. The figures in docs/writing-plugins.md come from this script.
"""

from __future__ import annotations

import os
import time
import tracemalloc

import numpy as np

import toolkit
from toolkit.plugin import create_plugin_manager

CALLS = {"brier": 0}
BATCH = 100_000


def brier(y_true, y_score, labels):
    CALLS["brier"] += 1
    return float(np.mean(((np.asarray(y_true) == labels[1]) - np.asarray(y_score)) ** 2))


def manager_with_brier():
    manager = create_plugin_manager()
    toolkit.metric(brier, higher_is_better=False, plugin_manager=manager)
    return manager


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y_score = rng.random(n)
    y_true = (rng.random(n) < y_score).astype(np.int64)
    return y_true, y_score


def peak_memory(manager, metric: str, n: int) -> float:
    y_true, y_score = data(n)
    tracemalloc.start()
    evaluator = toolkit.Evaluator(labels=[0, 1], metrics=[metric], plugin_manager=manager)
    for start in range(0, n, BATCH):
        evaluator.update(y_true[start:start + BATCH], y_score=y_score[start:start + BATCH])
    evaluator.compute()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def interval_time(manager, metric: str, n: int) -> float:
    y_true, y_score = data(n, seed=1)
    started = time.perf_counter()
    toolkit.evaluate(y_true, y_score=y_score, metrics=[metric], ci=0.95, seed=0, plugin_manager=manager)
    return time.perf_counter() - started


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    manager = manager_with_brier()
    for n in (1_000_000, 2_000_000):
        raw, counts = peak_memory(manager, "brier", n), peak_memory(manager, "accuracy", n)
        print(f"peak memory, N = {n:,} binary examples in batches of {BATCH:,}: brier (y_true, y_score) "
              f"{raw:.1f} MB ({raw * 1e6 / n:.0f} bytes/example), accuracy (confusion) {counts:.1f} MB")
    n = 100_000
    CALLS["brier"] = 0
    brier_seconds = interval_time(manager, "brier", n)
    calls = CALLS["brier"]
    accuracy_seconds = interval_time(manager, "accuracy", n)
    print(f"one evaluate(ci=0.95) at N = {n:,} (n_bootstrap = 1000): brier computed {calls} times, "
          f"{brier_seconds:.2f} s; accuracy {accuracy_seconds:.3f} s; ratio {brier_seconds / accuracy_seconds:.0f}x")


if __name__ == "__main__":
    main()
