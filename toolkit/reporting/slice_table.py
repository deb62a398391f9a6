"""The report's per-slice tables: one per slicing, from a run's ``slice/...`` metrics, worst slice marked per metric."""

from __future__ import annotations

import html
import math
from typing import Any, Optional

from toolkit.evaluation.slices import parse_tracker_key
from toolkit.plugin.records import RunRecord
from toolkit.reporting.cells import number
from toolkit.reporting.directions import higher_is_better

# The columns shown, in this order, when the run has them; every slice metric is in the trackers.
COLUMNS = ("example_count", "accuracy", "roc_auc", "roc_auc_ovr_macro", "log_loss", "f1", "f1_macro",
           "precision_macro", "recall_macro")
_NOT_RANKED = ("example_count",)  # a count: no slice is worse for being smaller
STYLE = "td.worst { background: #fbe9e7; color: #b3261e; font-weight: 600; }"


def slice_rows(record: RunRecord) -> dict[tuple, dict[tuple, dict[str, float]]]:
    """Columns of a slicing -> slice values -> metric -> value, from the run's ``slice/...`` keys."""
    whole = [key for key in record.metrics if not key.startswith("slice/")]
    tables: dict[tuple, dict[tuple, dict[str, float]]] = {}
    for key, value in record.metrics.items():
        parsed = parse_tracker_key(key, whole)
        if parsed is None:
            continue
        pairs, metric = parsed
        columns = tuple(column for column, _ in pairs)
        tables.setdefault(columns, {}).setdefault(tuple(value for _, value in pairs), {})[metric] = value
    return tables


def render_slice_tables(record: RunRecord, heading: str = "Slices") -> str:
    """An HTML fragment: a ``heading`` section with one table per slicing, or "" for a run without slices.

    In each metric's column the worst slice (lowest, or highest for metrics where lower is
    better) is marked ``class="worst"``.
    """
    tables = slice_rows(record)
    if not tables:
        return ""
    parts = [f"<style>{STYLE}</style>", f"<h2>{html.escape(heading)}</h2>",
             "<p class=\"meta\">Each slice evaluated on its examples alone; the worst slice of each metric "
             "is highlighted.</p>"]
    for columns, rows in tables.items():
        shown = [metric for metric in COLUMNS if any(metric in values for values in rows.values())]
        worst = {metric: _worst(rows, metric) for metric in shown if metric not in _NOT_RANKED}
        head = "".join(f"<th>{html.escape(metric)}</th>" for metric in shown)
        body = []
        for values, metrics in sorted(rows.items(), key=lambda item: _order(item[0])):
            cells = [f"<td class=\"name\">{html.escape(', '.join(f'{c}={v}' for c, v in zip(columns, values)))}</td>"]
            for metric in shown:
                css = ' class="worst"' if worst.get(metric) == values else ""
                cells.append(f"<td{css} data-slice-metric=\"{html.escape(metric)}\">"
                             f"{number(metrics.get(metric), count=metric in _NOT_RANKED)}</td>")
            body.append(f"<tr>{''.join(cells)}</tr>")
        parts.append(f"<h3>by {html.escape(' x '.join(columns))}</h3>\n<table class=\"slices\"><thead><tr>"
                     f"<th class=\"name\">slice</th>{head}</tr></thead><tbody>\n" + "\n".join(body)
                     + "\n</tbody></table>")
    return "\n".join(parts)


def _worst(rows: dict[tuple, dict[str, float]], metric: str) -> Optional[tuple]:
    defined = {values: metrics[metric] for values, metrics in rows.items()
               if metric in metrics and not math.isnan(metrics[metric])}
    if len(defined) < 2:
        return None
    higher = higher_is_better(metric) is not False  # lower-better metrics say so; others rank up
    return min(defined, key=defined.get) if higher else max(defined, key=defined.get)


def _order(values: tuple) -> tuple:
    """Numbers in numeric order, then text (values come back from trackers as text)."""
    return tuple((0, float(value), "") if _is_number(value) else (1, 0.0, value) for value in values)


def _is_number(text: Any) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
