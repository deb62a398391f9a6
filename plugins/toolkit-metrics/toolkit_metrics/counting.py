"""Metrics from the confusion matrix: accuracy, precision, recall and F1 in every averaging."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Sequence

import numpy as np


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _warn_ill_defined(what: str, denominator: np.ndarray, labels: Sequence, because: str) -> None:
    empty = [labels[index] for index in np.flatnonzero(denominator == 0)]
    if empty:
        warnings.warn(f"{what} is ill-defined for labels {empty} ({because}); counted as 0, "
                      "as scikit-learn does with zero_division=0")


def per_class(confusion: Any) -> dict[str, np.ndarray]:
    """Per-class predicted and true totals, precision, recall and F1 (read-only arrays).

    Computed once per confusion matrix: the dozen metrics of one evaluation that need them share
    the result (it is keyed by the matrix's contents, so a changed matrix is computed anew).
    ``confusion`` is a (K, K) array, or the core's sparse form for many labels, which answers
    ``diagonal()`` and ``sum(axis=...)`` without a K x K array.
    """
    if not isinstance(confusion, np.ndarray) and hasattr(confusion, "diagonal"):
        return _totals(confusion)  # sparse: computed from the occurring cells, O(cells + K)
    matrix = np.ascontiguousarray(confusion)
    return _per_class(matrix.tobytes(), matrix.shape, matrix.dtype.str)


@functools.lru_cache(maxsize=16)
def _per_class(data: bytes, shape: tuple, dtype: str) -> dict[str, np.ndarray]:
    return _totals(np.frombuffer(data, dtype=dtype).reshape(shape))


def _totals(confusion: Any) -> dict[str, np.ndarray]:
    true_positives = confusion.diagonal().astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    support = confusion.sum(axis=1).astype(np.float64)
    classes = {
        "support": support,
        "predicted": predicted,
        "precision": _ratio(true_positives, predicted),
        "recall": _ratio(true_positives, support),
        "f1": _ratio(2 * true_positives, predicted + support),
    }
    for values in classes.values():
        values.flags.writeable = False  # shared by every caller
    return classes


_UNDEFINED_BECAUSE = {
    "precision": ("predicted", "no example was predicted as them"),
    "recall": ("support", "no true example of them"),
    "f1": ("f1_denominator", "neither predicted nor true"),
}


def _values(confusion: np.ndarray, labels: Sequence, name: str, only: slice = slice(None)) -> np.ndarray:
    """Per-class ``name`` values, warning for the classes in ``only`` where they are ill-defined."""
    classes = per_class(confusion)
    denominator_key, because = _UNDEFINED_BECAUSE[name]
    denominator = classes["predicted"] + classes["support"] if denominator_key == "f1_denominator" \
        else classes[denominator_key]
    _warn_ill_defined(name, denominator[only], list(labels)[only], because)
    return classes[name]


def accuracy(confusion: np.ndarray) -> float:
    return float(confusion.trace() / confusion.sum())


def micro(confusion: np.ndarray) -> float:
    """Micro-averaged precision, recall and F1 are all trace / total when every label counts."""
    return float(confusion.trace() / confusion.sum())


def macro(name: str):
    def compute(confusion: np.ndarray, labels: Sequence) -> float:
        return float(_values(confusion, labels, name).mean())
    return compute


def weighted(name: str):
    def compute(confusion: np.ndarray, labels: Sequence) -> float:
        support = per_class(confusion)["support"]
        return float(np.dot(_values(confusion, labels, name), support) / support.sum())
    return compute


def positive_class(name: str):
    """The binary metric for the positive class, ``labels[1]``."""
    def compute(confusion: np.ndarray, labels: Sequence) -> float:
        return float(_values(confusion, labels, name, only=slice(1, 2))[1])
    return compute


def by_class(name: str):
    def compute(confusion: np.ndarray, labels: Sequence) -> dict[str, float]:
        values = per_class(confusion)["support"] if name == "support" else _values(confusion, labels, name)
        return {f"{name}/{label}": float(value) for label, value in zip(labels, values)}
    return compute
