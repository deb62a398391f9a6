"""Speed and memory of the exact metric suites against the sort floor and the peers, in one process.

    python benchmarks/bench_metrics.py                  # N = 1e5, 1e6, 1e7; K = 2 and 10 (about 3 minutes)
    python benchmarks/bench_metrics.py --sizes 1e6      # one size
    python benchmarks/bench_metrics.py --contention     # the same with one CPU-bound process beside it
    python benchmarks/bench_metrics.py --one-cpu        # the same held to one CPU (to compare with --contention)
    python benchmarks/bench_metrics.py --slow-peers     # scikit-learn and torchmetrics at N = 1e7 too (minutes)
    python benchmarks/bench_metrics.py --dtype float64  # float64 scores instead of float32

Columns, all on float32 softmax scores with y_pred given (as a model's output would be):

- floor: ``np.sort`` of each score column (one column for binary scores), the least an exact
  AUROC of every class can cost;
- toolkit classic: ``toolkit.evaluate`` of accuracy, precision/recall/F1 x macro/micro/weighted,
  AUROC (one-vs-rest macro for K > 2) and the confusion matrix;
- toolkit default: ``metrics=None`` (adds weighted AUROC, log loss and the per-class values);
- numpy: a plain-numpy reference of the classic suite (one bincount confusion matrix, then per
  class one ``np.sort`` of packed uint32 (float32 bits, is-positive) keys and a tie-aware count);
- scikit-learn and torchmetrics (when installed: ``pip install torch==2.13.0 torchmetrics``, the
  CPU build, or ``pip install -e '.[bench]'``): the classic suite; numpy/tk and torch/tk are their
  times over toolkit classic's;
- w/unw: toolkit's AUROC alone with sample weights over without;
- wavg/mac (K > 2): the support-weighted one-vs-rest AUROC (``roc_auc_ovr_weighted``, the default
  suite's "weighted AUROC") alone over the unweighted mean (``roc_auc_ovr_macro``) alone;
- cpu: the CPUs' worth that toolkit classic and default ran on (the process's CPU time over the
  wall time, summed over the timed runs). Idle, it is the speed-up the threads bring; with
  --contention, the share of the machine the scheduler gave them. Work that runs on every CPU
  has its time grow by about the idle figure over the contended one: on 2 CPUs, two threads
  beside one busy process get a fair share of 4/3 of a CPU against 2 idle, 1.5x. ``--one-cpu``
  holds the process to one CPU (its affinity, which the toolkit's threads follow): contended
  ratios over its ratios tell whether anything beyond the second CPU is lost.

Each repetition runs every column back to back, the order alternating, so that other work on the
machine slows them alike (each waits, up to 50 ms, for the threads of the one before to stop);
medians are printed, with ratios to the floor. Peak memory is what numpy allocated beyond the
inputs during one untimed run, over the size of the scores
(tracemalloc sees numpy's arrays, not torch's). Every numpy and toolkit value is first checked
against scikit-learn's (to 1e-9; above N = 1e6 without --slow-peers, toolkit's against the numpy
reference's). The load average (``uptime``) is printed with every row: on a shared machine the
figures are indicative.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Callable, Optional

import numpy as np

import toolkit
from toolkit.evaluation.concurrency import running_threads
from synthetic import skilled_predictions  # noqa: E402  (benchmarks/ is on sys.path)

TOLERANCE = 1e-9
SLOW_PEER_LIMIT = 1_000_000  # above this N, scikit-learn and torchmetrics run only with --slow-peers, once
SLOW_PEERS = ("scikit-learn", "torchmetrics")
# peak memory is measured for these (tracemalloc sees numpy's allocations, not torch's), with their labels
MEMORY_LABELS = (("toolkit classic", "classic"), ("toolkit default", "default"), ("numpy", "numpy"),
                 ("scikit-learn", "sklearn"))
MEMORY_COLUMNS = tuple(name for name, _ in MEMORY_LABELS)
# the CPUs' worth these ran on is printed (process CPU time over wall time)
CPU_COLUMNS = ("toolkit classic", "toolkit default")


def make_data(n: int, n_classes: int, dtype: str, seed: int = 0):
    """y_true, y_pred (argmax, or p >= 0.5), scores ((N,) for binary) and sample weights."""
    y_true, probabilities, weights = skilled_predictions(n, n_classes, True, seed)
    probabilities = probabilities.astype(dtype)
    y_score = probabilities[:, 1].copy() if n_classes == 2 else probabilities
    y_pred = (y_score >= 0.5).astype(np.int64) if n_classes == 2 else y_score.argmax(axis=1)
    return y_true, y_pred, y_score, weights


def classic_metrics(n_classes: int) -> list[str]:
    averaged = [f"{name}_{average}" for name in ("precision", "recall", "f1")
                for average in ("macro", "micro", "weighted")]
    return ["accuracy", *averaged, "roc_auc" if n_classes == 2 else "roc_auc_ovr_macro", "confusion_matrix"]


def auroc_key(n_classes: int) -> str:
    return "roc_auc" if n_classes == 2 else "roc_auc_ovr_macro"


# --- the columns -------------------------------------------------------------------------------

def sort_floor(y_true, y_pred, y_score, weights):
    if y_score.ndim == 1:
        return np.sort(y_score)
    return [np.sort(y_score[:, k]) for k in range(y_score.shape[1])]


def toolkit_classic(y_true, y_pred, y_score, weights):
    result = toolkit.evaluate(y_true, y_pred, y_score, metrics=classic_metrics(_classes(y_score)))
    return result.metrics, result.confusion_matrix


def toolkit_default(y_true, y_pred, y_score, weights):
    result = toolkit.evaluate(y_true, y_pred, y_score)
    return result.metrics, result.confusion_matrix


def toolkit_auroc(y_true, y_pred, y_score, weights):
    return toolkit.evaluate(y_true, y_pred, y_score, metrics=[auroc_key(_classes(y_score))]).metrics


def toolkit_auroc_weighted(y_true, y_pred, y_score, weights):
    return toolkit.evaluate(y_true, y_pred, y_score, sample_weight=weights,
                            metrics=[auroc_key(_classes(y_score))]).metrics


def toolkit_auroc_support_weighted(y_true, y_pred, y_score, weights):
    return toolkit.evaluate(y_true, y_pred, y_score, metrics=["roc_auc_ovr_weighted"]).metrics


def numpy_classic(y_true, y_pred, y_score, weights):
    """The plain-numpy reference: exact for non-negative float32 scores (softmax outputs)."""
    n_classes = _classes(y_score)
    confusion = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, -1)
    true_positives = np.diag(confusion).astype(np.float64)
    support, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(true_positives / predicted)
        recall = np.nan_to_num(true_positives / support)
        f1 = np.nan_to_num(2 * true_positives / (predicted + support))
    accuracy = true_positives.sum() / confusion.sum()
    values = {"accuracy": accuracy}
    for name, per_class in (("precision", precision), ("recall", recall), ("f1", f1)):
        values.update({f"{name}_macro": per_class.mean(), f"{name}_micro": accuracy,
                       f"{name}_weighted": per_class @ support / support.sum()})
    columns = [1] if y_score.ndim == 1 else range(n_classes)
    areas = [_numpy_auroc(y_score if y_score.ndim == 1 else y_score[:, k], y_true == k) for k in columns]
    values[auroc_key(n_classes)] = float(np.mean(areas))
    return {key: float(value) for key, value in values.items()}, confusion


def _numpy_auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    # non-negative float32 bits (probabilities) sort like the scores and leave the top bit free
    keys = np.sort((scores.astype(np.float32).view(np.uint32) << 1) | positive)
    value = keys >> 1
    starts = np.flatnonzero(np.r_[True, value[1:] != value[:-1]])
    group_positives = np.add.reduceat((keys & 1).astype(np.int64), starts)  # (int64: no overflow)
    group_negatives = np.diff(np.r_[starts, keys.shape[0]]) - group_positives
    negatives_below = np.cumsum(group_negatives) - group_negatives
    twice_u = int((group_positives * (2 * negatives_below + group_negatives)).sum())
    n_positive = int(group_positives.sum())
    return twice_u / 2 / (n_positive * (keys.shape[0] - n_positive))


def sklearn_classic(y_true, y_pred, y_score, weights):
    from sklearn import metrics

    n_classes = _classes(y_score)
    labels = list(range(n_classes))
    values = {"accuracy": metrics.accuracy_score(y_true, y_pred)}
    for name, function in (("precision", metrics.precision_score), ("recall", metrics.recall_score),
                           ("f1", metrics.f1_score)):
        for average in ("macro", "micro", "weighted"):
            values[f"{name}_{average}"] = function(y_true, y_pred, average=average, labels=labels, zero_division=0)
    if n_classes == 2:
        values["roc_auc"] = metrics.roc_auc_score(y_true, y_score)
    else:
        values["roc_auc_ovr_macro"] = metrics.roc_auc_score(y_true, y_score, multi_class="ovr", labels=labels)
    confusion = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    return {key: float(value) for key, value in values.items()}, confusion


def torchmetrics_classic(y_true, y_pred, y_score, weights):
    import torch
    from torchmetrics.functional import classification as tm

    n_classes = _classes(y_score)
    preds, target = torch.from_numpy(y_pred), torch.from_numpy(y_true)
    values = {"accuracy": tm.multiclass_accuracy(preds, target, n_classes, average="micro")}
    for name, function in (("precision", tm.multiclass_precision), ("recall", tm.multiclass_recall),
                           ("f1", tm.multiclass_f1_score)):
        for average in ("macro", "micro", "weighted"):
            values[f"{name}_{average}"] = function(preds, target, n_classes, average=average)
    if n_classes == 2:
        values["roc_auc"] = tm.binary_auroc(torch.from_numpy(y_score), target)
    else:
        values["roc_auc_ovr_macro"] = tm.multiclass_auroc(torch.from_numpy(y_score), target, n_classes)
    return values, tm.multiclass_confusion_matrix(preds, target, n_classes)


def _classes(y_score: np.ndarray) -> int:
    return 2 if y_score.ndim == 1 else y_score.shape[1]


# --- measuring ---------------------------------------------------------------------------------

def check_agreement(name: str, ours, theirs, case: str) -> None:
    (our_values, our_confusion), (their_values, their_confusion) = ours, theirs
    for key, value in their_values.items():
        assert abs(our_values[key] - value) <= TOLERANCE * max(1.0, abs(value)), \
            f"{case}: {key} {name} {our_values[key]!r} != scikit-learn {value!r}"
    assert np.array_equal(np.asarray(our_confusion), their_confusion), f"{case}: {name} confusion differs"


def peak_memory(function: Callable, data: tuple) -> float:
    """Bytes numpy allocated at the peak of one call, beyond what was allocated before it."""
    tracemalloc.start()
    try:
        function(*data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def settle(background: int, longest: float = 0.05) -> None:
    """Waits, busy (a sleeping CPU of a VM wakes up slowly), up to ``longest`` seconds until no
    more threads run than this one and the ``background`` processes: a peer's thread pool spins
    for some milliseconds after its work (torch's OpenMP threads do), which would slow, or keep
    off a second CPU, the column timed next."""
    deadline = time.perf_counter() + longest
    while (running_threads() or 1) > 1 + background and time.perf_counter() < deadline:
        pass


def run_case(n: int, n_classes: int, columns: dict, repeats: int, dtype: str, background: int = 0) -> dict:
    data = make_data(n, n_classes, dtype)
    case = f"N={n:.0e} K={n_classes}"
    if "scikit-learn" in columns:
        reference = sklearn_classic(*data)  # (also its warm-up)
        check_agreement("numpy", columns["numpy"](*data), reference, case)
    else:  # the plain-numpy reference, itself checked against scikit-learn at the smaller sizes
        reference = columns["numpy"](*data)
    check_agreement("toolkit classic", columns["toolkit classic"](*data), reference, case)
    for name in columns:
        if name not in ("scikit-learn", "toolkit classic", "numpy"):
            columns[name](*data)  # warm-up: imports, compiled code, caches
    timings: dict[str, list] = {name: [] for name in columns}
    cpu_times: dict[str, list] = {name: [] for name in columns}
    for repetition in range(repeats):
        order = list(columns) if repetition % 2 == 0 else list(columns)[::-1]
        for name in order:
            if name in SLOW_PEERS and len(timings[name]) >= (1 if n > SLOW_PEER_LIMIT else 3):
                continue  # (seconds to minutes each: three timings, one above the limit)
            settle(background)
            start, cpu_start = time.perf_counter(), time.process_time()
            columns[name](*data)
            timings[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu_start)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    cpus = {name: sum(cpu_times[name]) / sum(timings[name]) for name in CPU_COLUMNS if name in columns}
    memory = {name: peak_memory(columns[name], data) for name in MEMORY_COLUMNS if name in columns}
    return {"medians": medians, "cpus": cpus, "memory": memory, "score_bytes": data[2].nbytes}


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def print_case(n: int, n_classes: int, outcome: dict, names: list) -> None:
    medians, memory = outcome["medians"], outcome["memory"]
    floor = medians["floor"]
    row = f"{n:>6.0e} {n_classes:>3} {floor * 1e3:>8.1f}"
    for name in names:
        row += f" {medians[name] * 1e3:>9.1f} {medians[name] / floor:>6.2f}x" if name in medians else f" {'-':>17}"
    row += f" {medians['toolkit AUROC weighted'] / medians['toolkit AUROC']:>8.2f}x"
    support_weighted = medians.get("toolkit AUROC support-weighted")
    row += f" {support_weighted / medians['toolkit AUROC']:>8.2f}x" if support_weighted else f" {'-':>9}"
    for peer in ("numpy", "torchmetrics"):
        if peer in names:
            row += (f" {medians[peer] / medians['toolkit classic']:>7.1f}x" if peer in medians else f" {'-':>8}")
    row += "  " + "/".join(f"{outcome['cpus'][name]:.2f}" for name in CPU_COLUMNS)
    scores = outcome["score_bytes"]
    row += "  " + " ".join(f"{memory[name] / scores:>5.2f}" if name in memory else "  n/a"
                           for name in MEMORY_COLUMNS)
    print(f"{row}   load {load()}", flush=True)


def competitor() -> subprocess.Popen:
    """One CPU-bound process (a busy loop), to see how the columns fare on a contended CPU."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda text: [int(float(n)) for n in text.split(",")],
                        default=[100_000, 1_000_000, 10_000_000], help="comma-separated N (default 1e5,1e6,1e7)")
    parser.add_argument("--classes", type=lambda text: [int(k) for k in text.split(",")], default=[2, 10],
                        help="comma-separated K (default 2,10)")
    parser.add_argument("--repeats", type=int, default=5,
                        help=f"timed repetitions per case (default 5; 3 above N={SLOW_PEER_LIMIT:.0e})")
    parser.add_argument("--dtype", choices=["float16", "float32", "float64"], default="float32")
    parser.add_argument("--contention", action="store_true", help="run one CPU-bound process alongside")
    parser.add_argument("--one-cpu", action="store_true",
                        help="hold this process to one CPU (its affinity): the toolkit's one-thread time")
    parser.add_argument("--slow-peers", action="store_true",
                        help=f"also time scikit-learn and torchmetrics above N={SLOW_PEER_LIMIT:.0e} (once; minutes)")
    args = parser.parse_args(argv)

    columns: dict[str, Callable] = {
        "floor": sort_floor, "toolkit classic": toolkit_classic, "toolkit default": toolkit_default,
        "numpy": numpy_classic, "scikit-learn": sklearn_classic,
        "toolkit AUROC": toolkit_auroc, "toolkit AUROC weighted": toolkit_auroc_weighted,
        "toolkit AUROC support-weighted": toolkit_auroc_support_weighted,
    }
    if importlib.util.find_spec("torchmetrics") is None:
        print("torchmetrics is not installed (pip install torch==2.13.0 torchmetrics, or '.[bench]'): "
              "its column is skipped")
    else:
        columns["torchmetrics"] = torchmetrics_classic
    shown = [name for name in ("toolkit classic", "toolkit default", "numpy", "scikit-learn", "torchmetrics")
             if name in columns]

    other = competitor() if args.contention else None
    if args.one_cpu:  # (after the competitor starts, which would take it too; before any thread does)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        if other is not None:
            time.sleep(5)  # let the load average notice it
            print(f"with one CPU-bound process running (pid {other.pid})")
        print(f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} CPUs; "
              f"{args.dtype} scores; medians of {args.repeats} interleaved runs (3 above N={SLOW_PEER_LIMIT:.0e}, "
              "where scikit-learn and torchmetrics run only with --slow-peers, once); ms and ratio to the floor; "
              "w/unw: AUROC with sample weights over without; wavg/mac: roc_auc_ovr_weighted over _macro; numpy/tk, torch/tk: their time over toolkit classic's; "
              "cpu: CPUs' worth toolkit classic/default ran on; mem: peak numpy allocation / size of the scores")
        print(f"{'N':>6} {'K':>3} {'floor':>8}" + "".join(f" {name[:16]:>17}" for name in shown)
              + f" {'w/unw':>9} {'wavg/mac':>9}" + "".join(f" {label:>8}" for peer, label in
                                           (("numpy", "numpy/tk"), ("torchmetrics", "torch/tk")) if peer in shown)
              + f"  {'cpu':>9}" + "  mem: " + " ".join(label for _, label in MEMORY_LABELS))
        for n in args.sizes:
            for n_classes in args.classes:
                repeats = args.repeats if n <= SLOW_PEER_LIMIT else min(args.repeats, 3)
                chosen = {name: function for name, function in columns.items()
                          if (args.slow_peers or n <= SLOW_PEER_LIMIT or name not in SLOW_PEERS)
                          and (n_classes > 2 or name != "toolkit AUROC support-weighted")}
                print_case(n, n_classes, run_case(n, n_classes, chosen, repeats, args.dtype, int(other is not None)),
                           shown)
    finally:
        if other is not None:
            other.kill()
            other.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
