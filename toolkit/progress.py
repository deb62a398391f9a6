"""What a training prints: one line per epoch, then a table of the final metrics and where to look."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Iterable, Mapping, Optional, Sequence, TextIO

# The metrics shown on the epoch line and first in the summary, when the evaluation has them.
HEADLINE_METRICS = ("accuracy", "f1_macro", "roc_auc", "roc_auc_ovr_macro", "log_loss")


def format_value(value: float) -> str:
    return "nan" if isinstance(value, float) and math.isnan(value) else f"{value:.4f}"


class EpochLine:
    """Prints ``epoch 3/5  loss 0.1234  accuracy 0.9612 | val accuracy 0.9722 ...  0.8 s``."""

    def __init__(self, epochs: int, stream: Optional[TextIO] = None) -> None:
        self.epochs = epochs
        self.stream = stream
        self._last = time.perf_counter()

    def print(self, epoch: int, logs: Mapping[str, float], result: Any = None) -> None:
        now = time.perf_counter()
        parts = [f"epoch {epoch + 1}/{self.epochs}"]
        parts += [f"{key} {format_value(value)}" for key, value in logs.items()]
        if result is not None:
            shown = [key for key in HEADLINE_METRICS if key in result.metrics]
            parts.append("| val " + "  ".join(f"{key} {format_value(result.metrics[key])}" for key in shown))
        parts.append(f"{now - self._last:.1f} s")
        self._last = now
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)


def metrics_table(
    rows: Sequence[tuple[str, Mapping[str, float]]], keys: Optional[Sequence[str]] = None
) -> str:
    """A plain-text table: one row per (name, metrics), one column per key."""
    if keys is None:
        present = [key for key in HEADLINE_METRICS if any(key in metrics for _, metrics in rows)]
        keys = present or sorted({key for _, metrics in rows for key in metrics})[:6]
    header = ["run", *keys]
    body = [[name, *(_cell(key, metrics) for key in keys)] for name, metrics in rows]
    widths = [max(len(row[column]) for row in [header, *body]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *body]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(key: str, metrics: Mapping[str, float]) -> str:
    if key not in metrics:
        return "-"
    if key == "epochs":
        return str(int(metrics[key]))
    return f"{metrics[key]:.1f}" if key in ("seconds", "s/epoch") else format_value(metrics[key])


def final_metrics_block(metrics: Mapping[str, float], keys: Iterable[str] = ()) -> str:
    """The final metrics, one per line: the headline ones first, then ``keys`` asked for."""
    wanted = [key for key in (*HEADLINE_METRICS, *keys) if key in metrics]
    wanted = list(dict.fromkeys(wanted)) or [key for key in metrics if "/" not in key]
    width = max(len(key) for key in wanted)
    return "\n".join(f"  {key.ljust(width)}  {format_value(metrics[key])}" for key in wanted)
