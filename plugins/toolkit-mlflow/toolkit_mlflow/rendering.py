"""PNG pictures of an evaluation with matplotlib's Agg canvas: the confusion matrix and ROC/PR curves.

Figures are made with ``matplotlib.figure.Figure`` directly, never pyplot, so the program's own
backend and open figures are untouched. matplotlib is imported here only, when a picture is drawn.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from toolkit.evaluation.curves import Curve

# Beyond this many classes the counts no longer fit in the cells.
_ANNOTATE_MAX_CLASSES = 30


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def confusion_matrix_png(matrix: np.ndarray, labels: Sequence[str], path: str) -> None:
    """A heat map of ``matrix`` (rows = true label, columns = predicted label) with the counts."""
    k = len(labels)
    side = min(4.0 + 0.45 * k, 24.0)
    figure = _figure(side + 1.2, side)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_xticks(range(k), labels=labels, rotation=45 if k > 6 else 0, ha="right" if k > 6 else "center")
    axes.set_yticks(range(k), labels=labels)
    axes.set_xlabel("predicted label")
    axes.set_ylabel("true label")
    axes.set_title("Confusion matrix")
    if k <= _ANNOTATE_MAX_CLASSES:
        integral = np.allclose(matrix, np.round(matrix))
        # White text on the darker half of the colour scale, black on the lighter half.
        threshold = (float(matrix.min()) + float(matrix.max())) / 2
        for row in range(k):
            for column in range(k):
                value = matrix[row, column]
                text = f"{int(round(value))}" if integral else f"{value:.3g}"
                axes.text(column, row, text, ha="center", va="center", fontsize=8,
                          color="white" if value > threshold else "black")
    figure.savefig(path)


def curves_png(curves: Sequence[Curve], path: str) -> None:
    """Every class's curve of one kind on one plot, with each curve's area in the legend."""
    kind = curves[0].kind
    figure = _figure(6.0, 5.0)
    axes = figure.add_subplot()
    area_name = "AUC" if kind == "roc" else "AP"
    for curve in curves:
        drawstyle = "steps-post" if kind == "pr" else "default"
        axes.plot(curve.x, curve.y, drawstyle=drawstyle, linewidth=1.2,
                  label=f"{curve.label} ({area_name} {curve.area:.3f})")
    if kind == "roc":
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        axes.set_title("ROC curve")
    else:
        axes.set_title("Precision-recall curve")
    axes.set_xlabel(curves[0].x_name)
    axes.set_ylabel(curves[0].y_name)
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=7,
                ncol=2 if len(curves) > 10 else 1)
    figure.savefig(path)


def thresholds_png(analysis, path: str) -> None:
    """Precision, recall, F1 and FPR against the threshold, the best-F1 threshold marked."""
    analysis.figure().savefig(path)
