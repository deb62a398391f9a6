"""Bounded-memory Poisson bootstrap of weighted counts and of statistics that are sums of
per-example terms (``StatisticSpec.terms``, log loss's): per-resample sums, batch by batch.

Under the Poisson bootstrap an example's weight in resample ``r`` depends only on the seed, ``r``
and its position (:mod:`toolkit.evaluation.poisson`), so each resample's weighted confusion
matrix (sum of count x sample weight per cell) and each such statistic's sums can be added up
as batches arrive: O(R (K^2 + m)) memory, however many examples. A batch is folded in once its first example's global position
is known: at once in an evaluator whose position is known (the pipeline's, at 0), or, in a
partition's evaluator, when it is merged in order into one that knows where it ends. Until
then a partition keeps its examples' cells and weights, which it holds anyway as its input.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from toolkit.evaluation import poisson
from toolkit.evaluation.poisson import chunk_width, compiled_for, weights_block
from toolkit.plugin.types import Batch, StatisticSpec

# Each fold draws about this many weights at a time (one byte each, eight as float64).
_FOLD_CELLS = 8_000_000
# Beyond this many resampled cells (R x K^2 float64: 200 MB) the sums are not kept: too many labels.
MAX_CELLS = 25_000_000


def for_statistics(seed: int, n_bootstrap: int, n_labels: int, start: Optional[int],
                   statistics: Sequence[StatisticSpec]) -> Optional["PoissonSums"]:
    """The sums an evaluator of these statistics keeps, or None when K^2 x R is too large (see
    MAX_CELLS: those intervals then need exact=True)."""
    if n_bootstrap * n_labels * n_labels > MAX_CELLS:
        return None
    return PoissonSums(seed, n_bootstrap, n_labels, start,
                       term_statistics=[spec.name for spec in statistics if spec.terms is not None])


class PoissonSums:
    """Each resample's weighted confusion cells (R, K * K), example count (R,) and sums of each
    statistic's terms (R, m), folded from batches at their global positions; ``start`` is None
    until this evaluator's position is known. ``term_statistics`` names the statistics whose
    ``terms`` are summed (their specs are passed to :meth:`add`: plugin functions need not pickle)."""

    def __init__(self, seed: int, n_bootstrap: int, n_labels: int, start: Optional[int] = 0,
                 term_statistics: Sequence[str] = ()) -> None:
        self.seed, self.n_bootstrap, self.n_labels = seed, n_bootstrap, n_labels
        self.start, self.count = start, 0
        self.term_statistics = list(term_statistics)
        # made on the first fold, so that partitions' evaluators ship without them
        self.cells: Optional[np.ndarray] = None
        self.examples = None
        self.sums: dict[str, np.ndarray] = {}
        self.pending: list[tuple[int, Optional[np.ndarray], Optional[np.ndarray], dict]] = []

    def emptied(self) -> "PoissonSums":
        """Empty sums of the same kind, starting at 0 (or unplaced, as these are)."""
        return PoissonSums(self.seed, self.n_bootstrap, self.n_labels, None if self.start is None else 0,
                           self.term_statistics)

    def add(self, batch: Batch, statistics: Mapping[str, StatisticSpec]) -> None:
        """One batch: each example's cell (when weighted) and each term statistic's terms
        (``statistics``: the specs by name), for the statistics whose inputs the batch carries."""
        cells = None if batch.sample_weight is None else batch.y_true * self.n_labels + batch.y_pred
        terms = {name: np.asarray(statistics[name].terms(batch), dtype=np.float64)
                 for name in self.term_statistics
                 if all(getattr(batch, need) is not None for need in statistics[name].requires)}
        self._add(len(batch), cells, batch.sample_weight, terms)

    def _add(self, n: int, cells, weights, terms: dict) -> None:
        if self.start is None:
            self.pending.append((n, cells, weights, terms))
        else:
            self._fold(self.start + self.count, n, cells, weights, terms)
        self.count += n

    def merge(self, other: Optional["PoissonSums"]) -> None:
        """Add ``other``'s examples, which come right after this one's."""
        if other is None:
            raise ValueError("other was made with different bootstrap settings; merge evaluators made alike")
        if other.count == 0:
            return
        if other.start is not None and (self.start is None or other.start != self.start + self.count):
            where = "an unknown position" if self.start is None else f"position {self.start + self.count}"
            raise ValueError(
                f"cannot merge: the other evaluator's examples were placed at position {other.start} for the "
                f"Poisson bootstrap, but they come at {where}; make the evaluators of later parts with "
                "evaluator.spawn(), which places their examples when they are merged in order")
        if other.start is None:
            for part in other.pending:
                self._add(*part)
            return
        if other.cells is not None:
            self._cells_made()
            self.cells += other.cells
            self.examples += other.examples
        for name, sums in other.sums.items():
            self.sums[name] = self.sums[name] + sums if name in self.sums else sums.copy()
        self.count += other.count

    def states(self, from_sums: Mapping[str, Callable[[np.ndarray], Any]]) -> dict[str, list]:
        """Each statistic's state in each resample, from its sums."""
        sums = self.resampled().sums
        return {name: [from_sums[name](row) for row in sums[name]] for name in sums}

    def resampled(self) -> "PoissonSums":
        """These sums with every example folded in; examples whose position is still open count
        from position 0 (this evaluator is then the first part)."""
        if not self.pending:
            return self
        whole = PoissonSums(self.seed, self.n_bootstrap, self.n_labels, 0, self.term_statistics)
        for part in self.pending:
            whole._add(*part)
        return whole

    def _cells_made(self) -> None:
        if self.cells is None:
            self.cells = np.zeros((self.n_bootstrap, self.n_labels * self.n_labels))
            self.examples = np.zeros(self.n_bootstrap, dtype=np.int64)

    def _fold(self, position: int, n: int, cells, weights, terms: dict) -> None:
        if n == 0 or (cells is None and not terms):  # unweighted counts are drawn from the final matrix
            return
        if cells is not None:
            self._cells_made()
            order = np.argsort(cells, kind="stable")  # examples grouped by cell: one reduceat per chunk
            sorted_cells = cells[order]
            starts = np.flatnonzero(np.concatenate(([True], sorted_cells[1:] != sorted_cells[:-1])))
            present = sorted_cells[starts]
        weighted_terms = {name: values if weights is None else values * weights[:, None]
                          for name, values in terms.items()}
        for name, values in weighted_terms.items():
            if name not in self.sums:
                self.sums[name] = np.zeros((self.n_bootstrap, values.shape[1]))
        compiled = compiled_for(n * self.n_bootstrap)
        if compiled:
            self._fold_compiled(position, n, cells, weights, weighted_terms)
            return
        width = chunk_width(n, self.n_bootstrap, _FOLD_CELLS)
        for first in range(0, self.n_bootstrap, width):
            count = min(width, self.n_bootstrap - first)
            drawn = weights_block(self.seed, position, n, first, count, compiled)
            for name, values in weighted_terms.items():
                self.sums[name][first:first + count] += (values.T @ drawn).T
            if cells is not None:
                self.examples[first:first + count] += drawn.sum(axis=0, dtype=np.int64)
                mass = np.take(drawn, order, axis=0) * weights[order][:, None]
                self.cells[first:first + count, present] += np.add.reduceat(mass, starts, axis=0).T


    def _fold_compiled(self, position: int, n: int, cells, weights, weighted_terms: dict) -> None:
        from toolkit.evaluation.poisson_kernels import fold_sums

        names = list(weighted_terms)
        terms = (np.ascontiguousarray(np.column_stack([weighted_terms[name] for name in names]))
                 if names else np.zeros((n, 0)))
        no_cells = cells is None
        cell_sums, term_sums, examples = fold_sums(
            poisson.stream_keys(self.seed, 0, (self.n_bootstrap + 1) // 2), position,
            np.empty(0, np.int64) if no_cells else cells.astype(np.int64), np.empty(0) if no_cells else weights,
            terms, self.n_labels * self.n_labels, poisson._TABLE, poisson._THRESHOLDS)
        resamples = slice(0, self.n_bootstrap)
        if not no_cells:
            self.cells += cell_sums[:, resamples].T
            self.examples += examples[resamples].astype(np.int64)  # whole numbers, exact in float64
        column = 0
        for name in names:
            m = weighted_terms[name].shape[1]
            self.sums[name] += term_sums[column:column + m, resamples].T
            column += m
