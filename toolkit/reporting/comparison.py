"""One self-contained HTML page comparing runs: overlaid learning curves, the params that differ,
final metrics with the best marked, a paired test of each run against the first, confusion
matrices and logged images side by side."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from toolkit.reporting import charts
from toolkit.reporting.directions import TRAIN_PREFIX as _TRAIN_PREFIX, higher_is_better, is_count, metric_directions
from toolkit.reporting.html import (
    _number, _scalar_keys, _table, _text, _time, image_figures, learning_curve_keys,
    model_summaries, page,
)
from toolkit.reporting.paired import paired_section
from toolkit.reporting.record import RunRecord
from toolkit.reporting.slice_table import render_slice_tables


def render_comparison(records: Sequence[RunRecord], directions: Optional[Mapping[str, Optional[bool]]] = None) -> str:
    """The comparison page of ``records`` (two or more). ``directions`` maps a metric name to
    whether higher is better (None: neither; default: the installed metrics' own, see :func:`metric_directions`)."""
    if len(records) < 2:
        raise ValueError(f"records: a comparison needs two runs or more, got {len(records)}")
    known = dict(metric_directions() if directions is None else directions)
    labels = run_labels(records)
    return page(f"{len(records)} runs compared", [section(records, labels, known) for section in SECTIONS])


def run_labels(records: Sequence[RunRecord]) -> list[str]:
    """Each run's name, with the start of its id when two runs share a name (or it has none)."""
    names = [record.run_name for record in records]
    return [name if name and names.count(name) == 1 else f"{name} {record.run_id[:8]}".strip()
            for name, record in zip(names, records)]


def differing_params(records: Sequence[RunRecord]) -> list[str]:
    """The params whose value is not the same in every run (missing in some counts as different)."""
    keys = sorted({key for record in records for key in record.params})
    return [key for key in keys if len({record.params.get(key) for record in records}) > 1]


def best_runs(values: Sequence[Optional[float]], higher: Optional[bool]) -> set[int]:
    """The indices of the best value (ties all count); none when there is no better direction."""
    known = [(value, index) for index, value in enumerate(values) if value is not None and value == value]
    if higher is None or len(known) < 2:
        return set()
    best = max(known)[0] if higher else min(known)[0]
    return {index for value, index in known if value == best}


def _header(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    rows = [("", [f"<td class=\"name\">{_text(label)}</td>", f"<td class=\"name\">{_text(record.run_id)}</td>",
                  f"<td class=\"name\">{_text(record.status)}</td>", f"<td>{_time(record.start_time)}</td>",
                  f"<td class=\"name\">{_text(record.location)}</td>"])
            for label, record in zip(labels, records)]
    return (f"<h1>{len(records)} runs compared</h1>\n"
            + _table(["run", "run id", "status", "started", "where"], rows))


def _params(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    keys = differing_params(records)
    same = len({key for record in records for key in record.params}) - len(keys)
    note = f"<p class=\"meta\">{same} other param(s) have the same value in every run.</p>"
    if not keys:
        return "<h2>Params that differ</h2>\n<p class=\"note\">Every run has the same params.</p>\n" + note
    rows = [("", [f"<td class=\"name\">{_text(key)}</td>"] +
             [f"<td class=\"name\" data-run=\"{_text(record.run_id)}\" data-param=\"{_text(key)}\">"
              f"{_text(record.params.get(key, '-'))}</td>" for record in records])
            for key in keys]
    return "<h2>Params that differ</h2>\n" + note + "\n" + _table(["param", *labels], rows)


def _final_metrics(records: Sequence[RunRecord], labels: list[str], directions: Mapping) -> str:
    keys: list[str] = []
    for record in records:
        keys += [key for key in _scalar_keys(record) if key not in keys]
    keys += sorted({key for record in records for key in record.metrics if key.startswith(_TRAIN_PREFIX)
                    and "/" not in key[len(_TRAIN_PREFIX):]} - set(keys))
    if not keys:
        return "<h2>Final metrics</h2>\n<p class=\"note\">No metrics were recorded in these runs.</p>"
    rows = []
    for key in keys:
        values = [record.metrics.get(key) for record in records]
        higher = higher_is_better(key, directions)
        best = best_runs(values, higher)
        better = {True: " <span class=\"meta\">(higher is better)</span>",
                  False: " <span class=\"meta\">(lower is better)</span>", None: ""}[higher]
        cells = [f"<td class=\"name\">{_text(key)}{better}</td>"]
        for index, (record, value) in enumerate(zip(records, values)):
            css = " class=\"best\"" if index in best else ""
            cells.append(f"<td{css} data-run=\"{_text(record.run_id)}\" data-metric=\"{_text(key)}\">"
                         f"{_number(value, count=is_count(key)) if value is not None else '-'}</td>")
        rows.append(("", cells))
    return ("<h2>Final metrics</h2>\n<p class=\"meta\">Each run's last recorded value; the best one per "
            "metric is highlighted.</p>\n" + _table(["metric", *labels], rows))


def _learning_curves(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    images = []
    for title, keys in learning_curve_keys([record.history for record in records]):
        for key in keys:
            lines = {label: record.history[key] for label, record in zip(labels, records)
                     if record.history.get(key)}
            images.append(f"<img alt=\"learning curve {_text(key)}\" data-chart=\"{_text(key)}\" "
                          f"src=\"{charts.history_chart(key, lines)}\">")
    if not images:
        return ""
    return ("<h2>Learning curves</h2>\n<p class=\"meta\">One line per run; train/: the framework's own values on "
            "the training data, the others the toolkit's on the evaluation data.</p>\n"
            "<div class=\"charts\">" + "".join(images) + "</div>")


def _confusion_matrices(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    figures = []
    for label, record in zip(labels, records):
        if record.confusion is not None:
            classes, rows = record.confusion
        elif record.evaluation.get("confusion_matrix"):
            classes, rows = record.labels, record.evaluation["confusion_matrix"]
        else:
            continue
        figures.append(f"<figure><img alt=\"confusion matrix of {_text(label)}\" data-run=\"{_text(record.run_id)}\" "
                       f"src=\"{charts.confusion_chart(classes, rows)}\"><figcaption>{_text(label)}</figcaption></figure>")
    if not figures:
        return ""
    return ("<h2>Confusion matrices</h2>\n<p class=\"meta\">Rows: true label; columns: predicted label.</p>\n"
            "<div class=\"charts compare\">" + "".join(figures) + "</div>")


def _samples(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    figures = "".join(image_figures(record, caption=label) for label, record in zip(labels, records))
    if not figures:
        return ""
    return "<h2>Sample images</h2>\n<div class=\"charts compare\">" + figures + "</div>"


def _slices(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    return "\n".join(render_slice_tables(record, f"Slices of {label}") for label, record in zip(labels, records))


def _models(records: Sequence[RunRecord], labels: list[str], _directions: Mapping) -> str:
    blocks = [f"<details><summary>{_text(label)}</summary>{model_summaries(record)}</details>"
              for label, record in zip(labels, records) if record.texts]
    return "<h2>Models</h2>\n" + "\n".join(blocks) if blocks else ""


# The comparison page, top to bottom: a section is a function of (records, labels, directions) and one line here.
SECTIONS = (
    _header,
    _params,
    _final_metrics,
    paired_section,
    _learning_curves,
    _confusion_matrices,
    _slices,
    _samples,
    _models,
)
