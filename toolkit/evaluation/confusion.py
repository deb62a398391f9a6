"""Confusion counts for many labels: only the cells that occur are kept (cost grows with N, not K x K)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

# Up to this many labels the confusion matrix is a dense (K, K) array (8 MB of int64 at 1,024);
# beyond it a SparseConfusion, which never allocates K x K.
DENSE_LABEL_LIMIT = 1024


class SparseConfusion:
    """A K x K confusion matrix stored as its non-zero cells (rows = true, columns = predicted).

    It answers what the metrics need without a dense array: ``diagonal()``, ``sum(axis=...)``
    and ``trace()`` behave as on a numpy matrix. Adding two is exact (integer counts add as
    integers, weighted counts as the same float sums a dense matrix would hold). ``toarray()``
    builds the dense matrix for whoever really wants it (K x K values).
    """

    __array_priority__ = 20  # so that ndarray + SparseConfusion defers to __radd__

    def __init__(self, k: int, cells: np.ndarray, counts: np.ndarray) -> None:
        self.k = int(k)
        self.cells = cells      # sorted distinct flat indices, true * K + predicted
        self.counts = counts    # int64 (unweighted) or float64 (weighted), same length as cells

    @classmethod
    def empty(cls, k: int) -> "SparseConfusion":
        return cls(k, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    @classmethod
    def from_cells(cls, k: int, cells: np.ndarray, weights: Optional[np.ndarray] = None) -> "SparseConfusion":
        """The counts of flat cell indices (each example's true * K + predicted), weighted or not."""
        present, inverse = np.unique(np.asarray(cells, dtype=np.int64), return_inverse=True)
        if weights is None:
            counts = np.bincount(inverse.reshape(-1), minlength=present.size).astype(np.int64)
        else:
            counts = np.bincount(inverse.reshape(-1), weights=weights, minlength=present.size)
        return cls(k, present, counts)

    # --- numpy-like reading ------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (self.k, self.k)

    @property
    def dtype(self) -> np.dtype:
        return self.counts.dtype

    @property
    def ndim(self) -> int:
        return 2

    def diagonal(self) -> np.ndarray:
        out = np.zeros(self.k, dtype=self.dtype)
        on_diagonal = self.cells // self.k == self.cells % self.k
        out[self.cells[on_diagonal] // self.k] = self.counts[on_diagonal]
        return out

    def trace(self, dtype: Any = None) -> Any:
        return self.diagonal().sum(dtype=dtype)

    def sum(self, axis: Optional[int] = None, dtype: Any = None) -> Any:
        if axis is None:
            return self.counts.sum(dtype=dtype)
        if axis not in (0, 1, -1, -2):
            raise ValueError(f"axis must be 0, 1 or None, got {axis!r}")
        index = self.cells % self.k if axis in (0, -2) else self.cells // self.k
        if self.dtype.kind == "i":  # integer counts summed as integers: exact at any size
            totals = np.zeros(self.k, dtype=self.dtype)
            np.add.at(totals, index, self.counts)
        else:
            totals = np.bincount(index, weights=self.counts, minlength=self.k)
        return totals if dtype is None else totals.astype(dtype)

    def toarray(self) -> np.ndarray:
        dense = np.zeros(self.k * self.k, dtype=self.dtype)
        dense[self.cells] = self.counts
        return dense.reshape(self.k, self.k)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = self.toarray()
        return dense if dtype is None else dense.astype(dtype)

    def nonzero_cells(self) -> list[list]:
        """[[true position, predicted position, count], ...] for every cell that occurred."""
        return [[int(cell // self.k), int(cell % self.k), count]
                for cell, count in zip(self.cells.tolist(), self.counts.tolist())]

    # --- accumulating ------------------------------------------------------------------------------

    def __add__(self, other: Any) -> "SparseConfusion":
        if not isinstance(other, SparseConfusion) or other.k != self.k:
            return NotImplemented
        cells = np.concatenate([self.cells, other.cells])
        counts = np.concatenate([self.counts, other.counts])  # int + float -> float, as dense does
        present, inverse = np.unique(cells, return_inverse=True)
        summed = np.zeros(present.size, dtype=counts.dtype)
        np.add.at(summed, inverse.reshape(-1), counts)
        return SparseConfusion(self.k, present, summed)

    __radd__ = __add__

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, SparseConfusion):
            return (self.k == other.k and np.array_equal(self.cells, other.cells)
                    and np.array_equal(self.counts, other.counts))
        return NotImplemented

    __hash__ = None  # mutable arrays inside: not hashable, like ndarray

    def __repr__(self) -> str:
        return f"SparseConfusion({self.k} x {self.k}, {self.cells.size} non-zero cells, {self.dtype})"


def new_confusion(k: int) -> Any:
    """The empty confusion state for ``k`` labels: dense when small, sparse beyond DENSE_LABEL_LIMIT."""
    if k <= DENSE_LABEL_LIMIT:
        return np.zeros((k, k), dtype=np.int64)
    return SparseConfusion.empty(k)


def add_examples(state: Any, cells: np.ndarray, weights: Optional[np.ndarray]) -> Any:
    """``state`` plus the examples at flat ``cells`` (true * K + predicted), weighted or not."""
    if isinstance(state, SparseConfusion):
        return state + SparseConfusion.from_cells(state.k, cells, weights)
    k = state.shape[0]
    if weights is None:
        counts = np.bincount(cells, minlength=k * k)
    else:
        counts = np.bincount(cells, weights=weights, minlength=k * k)
        state = state.astype(np.float64, copy=False)  # weighted counts are floats, as in scikit-learn
    return state + counts.reshape(k, k)


def to_json(confusion: Any) -> Any:
    """The matrix as nested lists, or for a SparseConfusion its shape and non-zero cells."""
    if isinstance(confusion, SparseConfusion):
        return {"shape": list(confusion.shape), "cells": confusion.nonzero_cells()}
    return np.asarray(confusion).tolist()
