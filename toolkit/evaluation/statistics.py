"""The core's built-in statistics (``confusion``, ``scores``, ``count``), registered as plugin "core"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from toolkit.evaluation import confusion
from toolkit.evaluation.inputs import weight_scale
from toolkit.plugin.markers import hookimpl
from toolkit.plugin.types import Batch, ScoreTable, StatisticSpec


# --- confusion: K x K counts, rows = true label, columns = predicted label -------------------------
# Dense (K, K) up to confusion.DENSE_LABEL_LIMIT labels, a SparseConfusion of the occurring cells beyond.

def _confusion_init(labels: Sequence) -> Any:
    return confusion.new_confusion(len(labels))


def _confusion_update(state: Any, batch: Batch) -> Any:
    if (isinstance(state, np.ndarray) and state.shape == (2, 2) and batch.sample_weight is None
            and batch.y_true.dtype == batch.y_pred.dtype == np.int64):  # (a dot of narrower ints could overflow)
        return state + _binary_counts(batch.y_true, batch.y_pred)
    return confusion.add_examples(state, batch.y_true * state.shape[0] + batch.y_pred, batch.sample_weight)


def _binary_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The 2 x 2 counts of 0/1 positions from three counting passes (about half the cost of
    forming every example's cell and counting those): true positives are the dot product."""
    both = int(np.dot(y_true, y_pred))  # (integer dot: numpy's own exact loop, not BLAS)
    true_ones, predicted_ones = int(np.count_nonzero(y_true)), int(np.count_nonzero(y_pred))
    n = y_true.shape[0]
    return np.array([[n - true_ones - predicted_ones + both, predicted_ones - both],
                     [true_ones - both, both]], dtype=np.int64)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


# --- scores: what exact AUROC, curves and log loss need ---------------------------------------

def _scores_init(labels: Sequence) -> list:
    return []


def _scores_update(state: list, batch: Batch) -> list:
    state.append((batch.y_true, batch.y_score, batch.sample_weight))
    return state


def _scores_finalize(state: list) -> ScoreTable:
    weighted = [chunk[2] is not None for chunk in state]
    if any(weighted) and not all(weighted):
        raise ValueError("sample_weight was given for some batches and not for others")
    if len(state) == 1:  # one batch: nothing to join, nothing to copy
        y_true, y_score, weights = state[0]
    else:
        y_true = np.concatenate([chunk[0] for chunk in state])
        y_score = np.concatenate([chunk[1] for chunk in state])
        weights = np.concatenate([chunk[2] for chunk in state]) if all(weighted) else None
        # The joined arrays stand in for the batches (the same examples, in the same order), so
        # the batches' memory is freed now instead of staying beside their copy.
        state[:] = [(y_true, y_score, weights)]
    if weights is None:
        return ScoreTable(y_true, y_score, None)
    scale = weight_scale(weights)
    # (a scale of 1, weights already in [1, 2), multiplies nothing: no copy of the weights)
    return ScoreTable(y_true, y_score, weights * scale if scale != 1.0 else weights, weight_scale=scale)


def normalised(weights: np.ndarray) -> np.ndarray:
    """``weights`` in a unit where the largest lies in [1, 2): scaled by a power of two (exact), so
    products and sums of weights neither underflow nor overflow, whatever unit they came in."""
    return weights * weight_scale(weights)


# --- count: the number of examples (unweighted) -----------------------------------------------

def _count_init(labels: Sequence) -> int:
    return 0


def _count_update(state: int, batch: Batch) -> int:
    return state + len(batch)


# --- weighted_cells: each example's confusion cell and weight, for weighted bootstrap intervals ----

@dataclass(frozen=True)
class WeightedCells:
    """Every example's confusion cell (true position * K + predicted position) and sample weight.

    The weighted confusion matrix alone cannot be resampled exactly (a resampled cell total
    depends on which weights are drawn), so a bootstrap of weighted data keeps these.
    """

    cells: np.ndarray
    sample_weight: np.ndarray


def _cells_init(labels: Sequence) -> tuple:
    return (len(labels), [])


def _cells_update(state: tuple, batch: Batch) -> tuple:
    k, chunks = state
    return (k, chunks + [(batch.y_true * k + batch.y_pred, batch.sample_weight)])


def _cells_merge(a: tuple, b: tuple) -> tuple:
    return (a[0], a[1] + b[1])


def _cells_finalize(state: tuple) -> WeightedCells:
    _, chunks = state
    return WeightedCells(np.concatenate([cells for cells, _ in chunks]),
                         normalised(np.concatenate([weights for _, weights in chunks])))


@hookimpl
def toolkit_register_statistics() -> list[StatisticSpec]:
    return [
        StatisticSpec(
            name="confusion", init=_confusion_init, update=_confusion_update, merge=_add,
            description="K x K counts (weighted by sample_weight), rows = true, columns = predicted; "
                        "a SparseConfusion of the occurring cells beyond 1,024 labels",
        ),
        StatisticSpec(
            name="scores", init=_scores_init, update=_scores_update, merge=_add,
            finalize=_scores_finalize, requires=("y_score",), bounded=False,
            description="true labels, score columns and weights of every example (grows with N)",
        ),
        StatisticSpec(
            name="count", init=_count_init, update=_count_update, merge=_add,
            description="the number of examples",
        ),
        StatisticSpec(
            name="weighted_cells", init=_cells_init, update=_cells_update, merge=_cells_merge,
            finalize=_cells_finalize, requires=("sample_weight",),
            description="each example's confusion cell and weight (kept for weighted bootstrap intervals)",
        ),
    ]
