"""The report's charts: matplotlib figures as SVG data URIs, so the HTML file needs nothing else."""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Sequence

_AREA_NAMES = {"roc_curve": "ROC curve", "pr_curve": "Precision-recall curve"}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # never pyplot: the caller's backend and figures stay untouched

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def data_uri(figure: Any) -> str:
    """``figure`` as an ``data:image/svg+xml;base64,...`` URI (ids stay private to each image)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")


def curves_chart(name: str, curves: dict[str, Any]) -> str:
    """One curve per class on one plot; ROC gets the chance diagonal."""
    figure = _figure(5.2, 4.4)
    axes = figure.add_subplot()
    for curve in curves["curves"]:
        axes.plot(curve.x, curve.y, linewidth=1.2, label=curve.label,
                  drawstyle="steps-post" if name == "pr_curve" else "default")
    if name == "roc_curve":
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    axes.set_xlabel(curves["x"])
    axes.set_ylabel(curves["y"])
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.set_title(_AREA_NAMES.get(name, name))
    if len(curves["curves"]) > 1:
        axes.legend(fontsize=7, ncol=2 if len(curves["curves"]) > 10 else 1,
                    loc="lower right" if name == "roc_curve" else "lower left")
    return data_uri(figure)


def threshold_chart(rows: Sequence[dict[str, float]], best_threshold: float = math.nan) -> str:
    """Precision, recall, F1 and FPR against the threshold, the best-F1 threshold marked."""
    figure = _figure(6.4, 4.0)
    axes = figure.add_subplot()
    thresholds = [row["threshold"] for row in rows]
    for column, style in (("precision", "-"), ("recall", "-"), ("f1", "-"), ("fpr", "--")):
        axes.plot(thresholds, [row[column] for row in rows], style, linewidth=1.2,
                  label="FPR" if column == "fpr" else column)
    if not math.isnan(best_threshold):
        axes.axvline(best_threshold, color="grey", linestyle=":", label=f"best F1 at {best_threshold:.3g}")
    axes.set_xlabel("threshold (score >= threshold is positive)")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title("Threshold analysis")
    axes.legend(fontsize=7, loc="best")
    return data_uri(figure)


def confusion_chart(labels: Sequence[str], rows: Sequence[Sequence[float]]) -> str:
    """A heat map of the confusion matrix (rows = true label, columns = predicted label)."""
    import numpy as np

    matrix = np.asarray(rows, dtype=float)
    k = len(labels)
    side = min(3.5 + 0.4 * k, 16.0)
    figure = _figure(side + 1.0, side)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_xticks(range(k), labels=list(labels), rotation=45 if k > 6 else 0)
    axes.set_yticks(range(k), labels=list(labels))
    axes.set_xlabel("predicted label")
    axes.set_ylabel("true label")
    return data_uri(figure)
