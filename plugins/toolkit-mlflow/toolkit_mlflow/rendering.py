"""PNG pictures of an evaluation for MLflow: the toolkit's shared figures, saved with Agg."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from toolkit.plugin import Curve, confusion_figure, curves_figure


def confusion_matrix_png(matrix: np.ndarray, labels: Sequence[str], path: str) -> None:
    """A heat map of ``matrix`` (rows = true label, columns = predicted label) with the counts."""
    confusion_figure(matrix, labels).savefig(path)


def curves_png(curves: Sequence[Curve], path: str) -> None:
    """Every class's curve of one kind on one plot, with each curve's area in the legend."""
    curves_figure(curves[0].kind, curves, curves[0].x_name, curves[0].y_name).savefig(path)


def thresholds_png(analysis, path: str) -> None:
    """Precision, recall, F1 and FPR against the threshold, the best-F1 threshold marked."""
    analysis.figure().savefig(path)
