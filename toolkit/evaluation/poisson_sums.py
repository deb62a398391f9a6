"""Bounded-memory Poisson bootstrap of weighted confusion counts: per-resample cell sums, batch by batch.

Under the Poisson bootstrap an example's weight in resample ``r`` depends only on the seed, ``r``
and its position (:mod:`toolkit.evaluation.poisson`), so each resample's weighted confusion
matrix, sum of count x sample weight per cell, can be added up as batches arrive: O(R K^2)
memory, however many examples. A batch is folded in once its first example's global position
is known: at once in an evaluator whose position is known (the pipeline's, at 0), or, in a
partition's evaluator, when it is merged in order into one that knows where it ends. Until
then a partition keeps its examples' cells and weights, which it holds anyway as its input.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from toolkit.evaluation.poisson import chunk_width, compiled_for, weights_block

# Each fold draws about this many weights at a time (one byte each, eight as float64).
_FOLD_CELLS = 8_000_000
# Beyond this many resampled cells (R x K^2 float64: 200 MB) the sums are not kept: too many labels.
MAX_CELLS = 25_000_000


def fits(n_bootstrap: int, n_labels: int) -> bool:
    """Whether the per-resample cells of ``n_labels`` labels stay small (see MAX_CELLS)."""
    return n_bootstrap * n_labels * n_labels <= MAX_CELLS


class PoissonSums:
    """Each resample's weighted confusion cells (R, K * K) and example count (R,), folded from
    batches at their global positions; ``start`` None until this evaluator's position is known."""

    def __init__(self, seed: int, n_bootstrap: int, n_labels: int, start: Optional[int] = 0) -> None:
        self.seed, self.n_bootstrap, self.n_labels = seed, n_bootstrap, n_labels
        self.start, self.count = start, 0
        self._cells: Optional[np.ndarray] = None  # made on the first fold: partitions ship without it
        self._examples: Optional[np.ndarray] = None
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, cells: np.ndarray, weights: np.ndarray) -> None:
        """One batch: each example's cell (true * K + predicted) and sample weight."""
        if self.start is None:
            self.pending.append((cells, weights))
        else:
            self._fold(self.start + self.count, cells, weights)
        self.count += cells.shape[0]

    def merge(self, other: "PoissonSums") -> None:
        """Add ``other``'s examples, which come right after this one's."""
        if other.count == 0:
            return
        if other.start is not None and (self.start is None or other.start != self.start + self.count):
            where = "an unknown position" if self.start is None else f"position {self.start + self.count}"
            raise ValueError(
                f"cannot merge: the other evaluator's examples were placed at position {other.start} for the "
                f"Poisson bootstrap, but they come at {where}; make the evaluators of later parts with "
                "evaluator.spawn(), which places their examples when they are merged in order")
        if other.start is not None:
            cells, examples = other.resampled()
            self.cells += cells
            self.examples += examples
        else:
            for cells, weights in other.pending:
                self.add(cells, weights)
            return
        self.count += other.count

    @property
    def cells(self) -> np.ndarray:
        if self._cells is None:
            self._cells = np.zeros((self.n_bootstrap, self.n_labels * self.n_labels))
        return self._cells

    @property
    def examples(self) -> np.ndarray:
        if self._examples is None:
            self._examples = np.zeros(self.n_bootstrap, dtype=np.int64)
        return self._examples

    def resampled(self) -> tuple[np.ndarray, np.ndarray]:
        """(R, K * K) cell sums and (R,) example counts of every example given; examples whose
        position is still open count from position 0 (this evaluator is then the first part)."""
        if not self.pending:
            return self.cells, self.examples
        whole = PoissonSums(self.seed, self.n_bootstrap, self.n_labels, start=0)
        for cells, weights in self.pending:
            whole.add(cells, weights)
        return whole.cells, whole.examples

    def _fold(self, position: int, cells: np.ndarray, weights: np.ndarray) -> None:
        n = cells.shape[0]
        if n == 0:
            return
        order = np.argsort(cells, kind="stable")  # examples grouped by cell: one reduceat per chunk
        sorted_cells = cells[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_cells[1:] != sorted_cells[:-1])))
        present = sorted_cells[starts]
        compiled = compiled_for(n * self.n_bootstrap)
        width = chunk_width(n, self.n_bootstrap, _FOLD_CELLS)
        for first in range(0, self.n_bootstrap, width):
            count = min(width, self.n_bootstrap - first)
            drawn = weights_block(self.seed, position, n, first, count, compiled)
            self.examples[first:first + count] += drawn.sum(axis=0, dtype=np.int64)
            mass = np.take(drawn, order, axis=0) * weights[order][:, None]
            self.cells[first:first + count, present] += np.add.reduceat(mass, starts, axis=0).T
