"""The report's charts: matplotlib figures as SVG data URIs, so the HTML file needs nothing else."""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Mapping, Sequence

from toolkit.reporting.figures import confusion_figure, curves_figure, history_figure, new_figure

_CURVE_KINDS = {"roc_curve": "roc", "pr_curve": "pr"}


def data_uri(figure: Any) -> str:
    """``figure`` as an ``data:image/svg+xml;base64,...`` URI (ids stay private to each image)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")


def curves_chart(name: str, curves: dict[str, Any]) -> str:
    """One curve per class on one plot; ROC gets the chance diagonal."""
    return data_uri(curves_figure(_CURVE_KINDS[name], curves["curves"], curves["x"], curves["y"]))


def threshold_chart(rows: Sequence[dict[str, float]], best_threshold: float = math.nan) -> str:
    """Precision, recall, F1 and FPR against the threshold, the best-F1 threshold marked."""
    figure = new_figure(6.4, 4.0)
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
    return data_uri(confusion_figure(rows, labels))


def history_chart(title: str, lines: Mapping[str, Sequence[tuple[int, float]]]) -> str:
    """Learning curves of one metric: one line per name (train and validation, or one per run)."""
    return data_uri(history_figure(title, lines))
