"""Speed of the example plugin's metrics: toolkit.evaluate against scikit-learn, and plugin start-up.

    python benchmarks/bench_plugin_metrics.py          # N = 1e5 and 1e6, K = 10
    python benchmarks/bench_plugin_metrics.py --weighted

The example (examples/custom_metric_plugin) is put on sys.path for this process only. Each
repetition times toolkit (balanced_accuracy, matthews_corrcoef and top_k_accuracy in one
evaluate call, sharing one pass) and scikit-learn (the three functions, as a user would call
them) back to back, alternating the order; medians and the ratio are printed. Values are checked
against scikit-learn (1e-9) before timing. Then the cost of building a plugin manager with the
example, and of `toolkit plugins` in a fresh process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "examples" / "custom_metric_plugin"))

import toolkit  # noqa: E402
from toolkit.plugin import create_plugin_manager  # noqa: E402
from toolkit_custom_metrics import plugin as example_plugin  # noqa: E402
from synthetic import skilled_predictions  # noqa: E402  (benchmarks/ is on sys.path)

METRICS = ["balanced_accuracy", "matthews_corrcoef", "top_k_accuracy"]


def toolkit_values(manager, y_true, y_score, weights):
    return toolkit.evaluate(y_true, y_score=y_score, sample_weight=weights, metrics=METRICS,
                            plugin_manager=manager).metrics


def sklearn_values(y_true, y_score, weights):
    from sklearn import metrics

    y_pred = y_score.argmax(axis=1)
    return {
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred, sample_weight=weights),
        "matthews_corrcoef": metrics.matthews_corrcoef(y_true, y_pred, sample_weight=weights),
        "top_k_accuracy": metrics.top_k_accuracy_score(y_true, y_score, k=2, sample_weight=weights,
                                                       labels=np.arange(y_score.shape[1])),
    }


def timed(function, *arguments) -> float:
    start = time.perf_counter()
    function(*arguments)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weighted", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    manager = create_plugin_manager(strict=True)
    if not manager.is_registered(example_plugin):  # an in-tree build's egg-info may have made it discoverable
        manager.register(example_plugin, "custom_metrics")
    print(f"{'N':>9} {'K':>3}  {'toolkit s':>10} {'sklearn s':>10}  ratio (sklearn / toolkit)")
    for n in (100_000, 1_000_000):
        y_true, y_score, weights = skilled_predictions(n, 10, args.weighted)
        ours, theirs = toolkit_values(manager, y_true, y_score, weights), sklearn_values(y_true, y_score, weights)
        for name in METRICS:
            assert abs(ours[name] - theirs[name]) <= 1e-9, (name, ours[name], theirs[name])
        toolkit_times, sklearn_times = [], []
        for repeat in range(args.repeats):
            pair = [(toolkit_times, lambda: toolkit_values(manager, y_true, y_score, weights)),
                    (sklearn_times, lambda: sklearn_values(y_true, y_score, weights))]
            for times, run in pair if repeat % 2 == 0 else reversed(pair):
                times.append(timed(run))
        ours_s, theirs_s = statistics.median(toolkit_times), statistics.median(sklearn_times)
        print(f"{n:>9} {10:>3}  {ours_s:>10.4f} {theirs_s:>10.4f}  {theirs_s / ours_s:.1f}x")

    build_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fresh = create_plugin_manager()
        if not fresh.is_registered(example_plugin):
            fresh.register(example_plugin, "custom_metrics")
        fresh.get_metrics()
        build_times.append(time.perf_counter() - start)
    print(f"plugin manager built with the example and its registry read: "
          f"{statistics.median(build_times) * 1000:.1f} ms (median of {args.repeats})")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "toolkit.cli", "plugins"], check=True, capture_output=True)
    print(f"`toolkit plugins` in a fresh process (installed plugins): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
