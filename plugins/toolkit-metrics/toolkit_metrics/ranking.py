"""Metrics from the scores: exact, tie-aware AUROC (binary and one-vs-rest)."""

from __future__ import annotations

import sys
import warnings
from typing import NamedTuple, Sequence

import numpy as np

from toolkit_metrics.mann_whitney import mann_whitney_packed, mann_whitney_sorted

# From this many examples on, the compiled packed-key sort (packed_sort) is used. Importing numba
# and loading the cached kernels costs about 1.2 s once per process (measured idle), while the
# kernel saves about 0.12 ms per 1,000 examples at K=10 over the numpy packed-key path (one-thread
# CPU time, measured on a loaded machine): a one-shot evaluation (the CLI's) gains nothing from it
# below a few million examples; a process that evaluates often (training) gains from here on.
PACKED_MIN_EXAMPLES = 500_000
# Once this process has loaded the kernel (an earlier or larger evaluation did), its cost is paid,
# and from this many examples on it is about 10x faster than the numpy path (measured at 5,000 to
# 333,000 examples, K=10): the slices of a large evaluation then cost per example what the whole does.
PACKED_LOADED_MIN_EXAMPLES = 5_000
# Below this many examples a thread pool costs more than it saves.
_PARALLEL_MIN_EXAMPLES = 100_000


class OneVsRest(NamedTuple):
    """Per-class AUROC (nan where a class is all or none of y_true) and per-class support
    (weighted when sample weights were given), in the order of the labels."""

    auc: np.ndarray
    support: np.ndarray


def area_by_column(score_table, columns: Sequence[int]) -> OneVsRest:
    """AUROC of each score column in ``columns`` for its class against the rest, and the class's
    (weighted) support."""
    y_true, y_score, weights = score_table.y_true, score_table.y_score, score_table.sample_weight
    n = y_true.shape[0]
    if n < _packed_from():
        # probabilities (never negative) sort fastest as integer keys; other scores are argsorted
        packed = weights is None and y_score.dtype.itemsize in (2, 4, 8) and y_score.min() >= 0
        results = [mann_whitney_packed(y_score[:, k], y_true == k) if packed else
                   mann_whitney_sorted(np.ascontiguousarray(y_score[:, k], dtype=np.float64), y_true == k, weights)
                   for k in columns]
        u, positives, negatives = (np.array(values, dtype=np.float64) for values in zip(*results))
    else:
        from toolkit_metrics.packed_sort import mann_whitney_columns, workers_for_columns, workers_for_load

        if y_score.dtype.itemsize not in (2, 4, 8):  # long double: compared in float64, as scikit-learn does
            y_score = y_score.astype(np.float64)
        # threads for several columns (every CPU), or for the two parts of one column split by
        # value (when a CPU is idle this moment)
        if n < _PARALLEL_MIN_EXAMPLES:
            workers = 1
        elif len(columns) > 1:
            workers = workers_for_columns(len(columns))
        else:
            workers = workers_for_load(2)
        u, positives, negatives = mann_whitney_columns(y_score, y_true, weights, columns, workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where((positives > 0) & (negatives > 0), u / (positives * negatives), np.nan)
    return OneVsRest(auc, positives)


def _packed_from() -> int:
    """How many examples take the compiled kernel: fewer once this process has loaded it."""
    if "toolkit_metrics.packed_sort" in sys.modules:
        return min(PACKED_MIN_EXAMPLES, PACKED_LOADED_MIN_EXAMPLES)
    return PACKED_MIN_EXAMPLES


def one_vs_rest(score_table) -> OneVsRest:
    """Every class against the rest; computed once per evaluation, shared by the macro and
    weighted means."""
    return score_table.derived("one_vs_rest_auc", lambda table: area_by_column(table, range(table.n_classes)))


def _warn_undefined(per_class: np.ndarray, labels: Sequence) -> None:
    missing = [labels[index] for index in np.flatnonzero(np.isnan(per_class))]
    if missing:
        warnings.warn(f"AUROC is undefined: labels {missing} are all or none of y_true")


def roc_auc(scores, labels: Sequence) -> float:
    """Binary AUROC of the positive class ``labels[1]``."""
    value = float(area_by_column(scores, [1]).auc[0])
    if np.isnan(value):
        warnings.warn("AUROC is undefined: y_true holds only one class")
    return value


def roc_auc_ovr_macro(scores, labels: Sequence) -> float:
    per_class = one_vs_rest(scores).auc
    _warn_undefined(per_class, labels)
    return float(per_class.mean())


def roc_auc_ovr_weighted(scores, labels: Sequence) -> float:
    per_class, support = one_vs_rest(scores)
    _warn_undefined(per_class, labels)
    return float(np.dot(per_class, support) / support.sum())
