"""matplotlib figures of an evaluation, drawn once for every medium: MLflow's PNGs and the report's SVGs.

Figures are made with ``matplotlib.figure.Figure`` directly, never pyplot, so the program's own
backend and open figures are untouched; matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

# Beyond this many classes the counts no longer fit in the cells.
ANNOTATE_MAX_CLASSES = 30
CURVE_TITLES = {"roc": "ROC curve", "pr": "Precision-recall curve"}


def new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def confusion_figure(matrix: Any, labels: Sequence[Any]) -> Any:
    """A heat map of ``matrix`` (rows = true label, columns = predicted label) with the counts."""
    matrix = np.asarray(matrix, dtype=float)
    labels = [str(label) for label in labels]
    k = len(labels)
    side = min(4.0 + 0.45 * k, 24.0)
    figure = new_figure(side + 1.2, side)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_xticks(range(k), labels=labels, rotation=45 if k > 6 else 0, ha="right" if k > 6 else "center")
    axes.set_yticks(range(k), labels=labels)
    axes.set_xlabel("predicted label")
    axes.set_ylabel("true label")
    axes.set_title("Confusion matrix")
    if k <= ANNOTATE_MAX_CLASSES:
        integral = np.allclose(matrix, np.round(matrix))
        # White text on the darker half of the colour scale, black on the lighter half.
        threshold = (float(matrix.min()) + float(matrix.max())) / 2
        for row in range(k):
            for column in range(k):
                value = matrix[row, column]
                text = f"{int(round(value))}" if integral else f"{value:.3g}"
                axes.text(column, row, text, ha="center", va="center", fontsize=8,
                          color="white" if value > threshold else "black")
    return figure


def curves_figure(kind: str, curves: Sequence[Any], x_name: str, y_name: str) -> Any:
    """Every class's curve of one kind ("roc" or "pr") on one plot; each curve has ``x``, ``y``,
    ``label`` and, when known, its ``area`` for the legend. ROC gets the chance diagonal."""
    figure = new_figure(6.0, 5.0)
    axes = figure.add_subplot()
    area_name = "AUC" if kind == "roc" else "AP"
    for curve in curves:
        area = getattr(curve, "area", None)
        label = f"{curve.label} ({area_name} {area:.3f})" if area is not None else str(curve.label)
        axes.plot(curve.x, curve.y, drawstyle="steps-post" if kind == "pr" else "default",
                  linewidth=1.2, label=label)
    if kind == "roc":
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    axes.set_title(CURVE_TITLES[kind])
    axes.set_xlabel(x_name)
    axes.set_ylabel(y_name)
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=7,
                ncol=2 if len(curves) > 10 else 1)
    return figure


def history_figure(title: str, lines: Mapping[str, Sequence[tuple[int, float]]], y_name: str = "") -> Any:
    """Learning curves: one line per name in ``lines`` of (step, value) pairs against the epoch (step);
    markers when there are few points, so a one-epoch run still shows."""
    figure = new_figure(4.6, 3.2)
    axes = figure.add_subplot()
    for name, points in lines.items():
        if not points:
            continue
        steps, values = zip(*sorted(points))
        axes.plot(steps, values, marker="o" if len(points) <= 30 else None, markersize=3, linewidth=1.2,
                  label=str(name))
    axes.set_title(title, fontsize=10)
    axes.set_xlabel("epoch (step)")
    if y_name:
        axes.set_ylabel(y_name)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best", ncol=2 if len(lines) > 6 else 1)
    return figure
