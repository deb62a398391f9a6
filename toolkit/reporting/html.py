"""One self-contained HTML page for a run: inline CSS, charts and logged images as data URIs, no scripts, no network assets."""

from __future__ import annotations

import base64
import datetime
from typing import Any, Iterable, Optional, Sequence

from toolkit.reporting import charts, slice_table
from toolkit.reporting.cells import missing as _missing, number as _number, text as _text
from toolkit.reporting.directions import TRAIN_PREFIX as _TRAIN_PREFIX, is_count
from toolkit.reporting.record import RunRecord

# Shown first, in this order, when present; the other scalar metrics follow alphabetically.
_HEADLINE = ("accuracy", "roc_auc", "roc_auc_ovr_macro", "roc_auc_ovr_weighted", "log_loss", "precision",
             "recall", "f1", "f1_macro", "precision_macro", "recall_macro")
_PER_CLASS = ("precision", "recall", "f1", "support")
_THRESHOLD_ROWS_SHOWN = 25
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       color: #1d2330; background: #ffffff; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 2px solid #dfe3ea; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #dfe3ea; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f5f9; } td.name, th.name { text-align: left; }
.meta { color: #5a6475; } .pass { color: #11703a; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.banner { padding: 0.6rem 1rem; border-radius: 6px; font-weight: 600; margin: 1rem 0; }
.banner.pass { background: #e5f5eb; } .banner.fail { background: #fbe9e7; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; } .charts img { max-width: 100%; border: 1px solid #dfe3ea; }
.best { background: #fff6d6; font-weight: 600; } .note { color: #5a6475; font-style: italic; }
figure { margin: 0; } .charts.compare figure { flex: 0 1 30rem; } .charts.compare img { width: 100%; }
figcaption { color: #5a6475; font-size: 0.85rem; }
pre { background: #f6f8fa; border: 1px solid #dfe3ea; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem;
      line-height: 1.2; }
"""


def render(record: RunRecord) -> str:
    """The whole page for ``record``: each section of :data:`SECTIONS` in turn (empty ones left out)."""
    return page(record.run_name or record.run_id, [section(record) for section in SECTIONS])


def page(title: str, sections: Iterable[str]) -> str:
    """A complete HTML document of ``sections`` (HTML fragments; empty ones are left out)."""
    body = "\n".join(section for section in sections if section)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>toolkit report: {_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _threshold(value: Optional[float]) -> str:
    """A score threshold with the digits that tell it apart (0.000123, 0.999987), not rounded to 0.0000/1.0000."""
    return "n/a" if _missing(value) else format(value, ".6g")




def _time(milliseconds: Optional[int]) -> str:
    if not milliseconds:
        return "n/a"
    moment = datetime.datetime.fromtimestamp(milliseconds / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    name_class = ' class="name"'
    head = "".join(f"<th{name_class if index == 0 else ''}>{_text(cell)}</th>" for index, cell in enumerate(header))
    body = "\n".join(f"<tr{row_class}>{''.join(cells)}</tr>" for row_class, cells in rows)
    return f"<table{f' class={css!r}' if css else ''}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _header(record: RunRecord) -> str:
    facts = [("run id", record.run_id), ("status", record.status), ("experiment", record.experiment_name),
             ("started", _time(record.start_time)), ("ended", _time(record.end_time)),
             ("tracking", record.tracking_uri)]
    if record.evaluation.get("task"):
        facts.append(("task", f"{record.evaluation['task']}, labels {', '.join(record.labels)}"))
    for tracker in sorted({key.split(".", 1)[0] for key in record.tags if key.endswith(".run_id")}):
        # the same run in another tracker (cross-links the run recorded): where to find it
        where = record.tags.get(f"{tracker}.url") or record.tags.get(f"{tracker}.location") or ""
        facts.append((f"{tracker} run", f"{record.tags[f'{tracker}.run_id']} {where}".strip()))
    meta = " &middot; ".join(f"{_text(name)}: <span data-fact=\"{_text(name)}\">{_text(value)}</span>"
                             for name, value in facts)
    return f"<h1>{_text(record.run_name or record.run_id)}</h1>\n<p class=\"meta\">{meta}</p>"


def _gates(record: RunRecord) -> str:
    gates = record.gates
    if not gates:
        return ""
    passed = all(gate.get("passed") for gate in gates)
    failed = [gate["gate"] for gate in gates if not gate.get("passed")]
    verdict = "All gates passed" if passed else f"Gates failed: {', '.join(failed)}"
    rows = []
    for gate in gates:
        css = "pass" if gate.get("passed") else "fail"
        rows.append(("", [
            f"<td class=\"name\">{_text(gate['gate'])}</td>",
            f"<td>{_number(gate.get('value'))}</td>",
            f"<td>{_number(gate.get('threshold'))}</td>",
            f"<td>{_number(gate.get('baseline'))}</td>",
            f"<td class=\"{css}\" data-gate=\"{_text(gate['gate'])}\">{'PASS' if gate.get('passed') else 'FAIL'}"
            f"{' (' + _text(gate['reason']) + ')' if gate.get('reason') else ''}</td>",
        ]))
    return (f"<h2>Quality gates</h2>\n<div class=\"banner {'pass' if passed else 'fail'}\" id=\"gates-verdict\">"
            f"{_text(verdict)}</div>\n" + _table(["gate", "value", "threshold", "baseline", "result"], rows))


def _scalar_keys(record: RunRecord) -> list[str]:
    keys = [key for key in record.metrics
            if "/" not in key and not key.endswith(("_ci_low", "_ci_high"))]
    headline = [key for key in _HEADLINE if key in keys]
    return headline + sorted(key for key in keys if key not in headline)


def _metrics(record: RunRecord) -> str:
    keys = _scalar_keys(record)
    if not keys:
        return "<h2>Metrics</h2>\n<p class=\"note\">No metrics were recorded for this run.</p>"
    intervals = {key: interval for key, interval in record.intervals.items() if not is_count(key)}
    level = record.params.get("ci") or record.evaluation.get("ci")
    rows = []
    for key in keys:
        cells = [f"<td class=\"name\">{_text(key)}</td>",
                 f"<td data-metric=\"{_text(key)}\">{_number(record.metrics[key], count=is_count(key))}</td>"]
        if intervals:  # a metric without one (a count) gets empty cells, not "n/a"
            cells += [f"<td>{_number(bound)}</td>" for bound in intervals[key]] if key in intervals else \
                ["<td></td>", "<td></td>"]
        rows.append(("", cells))
    if not intervals:
        return ("<h2>Metrics</h2>\n<p class=\"meta\">No confidence intervals were recorded (evaluate with "
                "ci=0.95 to get them).</p>\n" + _table(["metric", "value"], rows))
    note = f"<p class=\"meta\">Intervals: {_text(interval_text(record.evaluation.get('interval_method'), level))}.</p>"
    return "<h2>Metrics</h2>\n" + note + "\n" + _table(["metric", "value", "CI low", "CI high"], rows)


def interval_text(method: Optional[dict], level: Any = None) -> str:
    """"95% percentile bootstrap over examples (Poisson, 1,000 resamples, seed 0)", as far as recorded."""
    method = method or {}
    level = method.get("level", level)
    details = [f"{method['bootstrap'].capitalize()}" if method.get("bootstrap") else "",
               f"{method['resamples']:,} resamples" if method.get("resamples") else "",
               f"seed {method['seed']}" if method.get("seed") is not None else
               ("no fixed seed" if method else "")]
    shown = ", ".join(detail for detail in details if detail)
    return (f"{f'{float(level):.0%} ' if level else ''}percentile bootstrap over examples"
            f"{f' ({shown})' if shown else ''}")


def _confusion(record: RunRecord) -> str:
    if record.confusion is None:
        matrix = record.evaluation.get("confusion_matrix")
        if not matrix:
            return ""
        labels, rows = record.labels, matrix
    else:
        labels, rows = record.confusion
    largest = max((value for row in rows for value in row), default=0) or 1
    body = []
    for label, row in zip(labels, rows):
        cells = [f"<th class=\"name\">{_text(label)}</th>"]
        for value in row:
            shade = 0.08 + 0.6 * value / largest
            colour = "#ffffff" if shade > 0.45 else "#1d2330"
            cells.append(f"<td style=\"background: rgba(31, 94, 181, {shade:.2f}); color: {colour}\">"
                         f"{_number(value, 3, count=True)}</td>")
        body.append(("", cells))
    table = _table(["true \\ predicted", *labels], body)
    return (f"<h2>Confusion matrix</h2>\n<p class=\"meta\">Rows: true label; columns: predicted label.</p>\n"
            f"<div class=\"charts\">{table}<img alt=\"confusion matrix\" "
            f"src=\"{charts.confusion_chart(labels, rows)}\"></div>")


def _curves(record: RunRecord) -> str:
    images = []
    for name in ("roc_curve", "pr_curve"):
        curves = record.curves.get(name)
        if curves and curves["curves"]:
            images.append(f"<img alt=\"{name.replace('_', ' ')}\" src=\"{charts.curves_chart(name, curves)}\">")
    if not images and record.thresholds:  # a binary run without curve files: draw them from the table
        rows = record.thresholds
        from toolkit.reporting.record import Curve

        roc = {"x": "fpr", "y": "tpr", "curves": [Curve("positive", [1.0] + [r["fpr"] for r in rows] + [0.0],
                                                          [1.0] + [r["recall"] for r in rows] + [0.0])]}
        pr = {"x": "recall", "y": "precision",
              "curves": [Curve("positive", [r["recall"] for r in rows], [r["precision"] for r in rows])]}
        images = [f"<img alt=\"roc curve\" src=\"{charts.curves_chart('roc_curve', roc)}\">",
                  f"<img alt=\"pr curve\" src=\"{charts.curves_chart('pr_curve', pr)}\">"]
    if not images:
        return ""
    return "<h2>ROC and precision-recall curves</h2>\n<div class=\"charts\">" + "".join(images) + "</div>"


def _thresholds(record: RunRecord) -> str:
    rows = record.thresholds
    if not rows:
        return ""
    best = max(rows, key=lambda row: row["f1"])
    summary = record.threshold_summary.get("best_f1") or {}
    best_threshold = summary.get("threshold", best["threshold"])
    shown_indices = _spread(len(rows), _THRESHOLD_ROWS_SHOWN)
    best_index = rows.index(best)
    if best_index not in shown_indices:
        shown_indices = sorted(set(shown_indices) | {best_index})
    table_rows = []
    for index in shown_indices:
        row = rows[index]
        css = " class=\"best\"" if index == best_index else ""
        table_rows.append((css, [f"<td class=\"name\">{_threshold(row['threshold'])}</td>"] +
                           [f"<td>{_number(row[column])}</td>" for column in ("precision", "recall", "f1", "fpr")]))
    csv_text = "threshold,precision,recall,f1,fpr\n" + "".join(
        f"{row['threshold']!r},{row['precision']!r},{row['recall']!r},{row['f1']!r},{row['fpr']!r}\n" for row in rows)
    link = "data:text/csv;base64," + base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
    targets = "".join(
        f"<li>{_text(name.replace('_', ' >= ', 1))}: threshold "
        f"{_threshold(point['threshold']) if point else 'not reached'}</li>"
        for name, point in (record.threshold_summary.get("targets") or {}).items())
    return (
        "<h2>Threshold analysis</h2>\n"
        f"<p>Best F1 <strong data-metric=\"best_f1\">{_number(summary.get('f1', best['f1']))}</strong> at threshold "
        f"<strong data-metric=\"best_f1_threshold\">{_threshold(best_threshold)}</strong> "
        f"(precision {_number(summary.get('precision', best['precision']))}, "
        f"recall {_number(summary.get('recall', best['recall']))}).</p>\n"
        + (f"<ul>{targets}</ul>\n" if targets else "")
        + f"<div class=\"charts\"><img alt=\"threshold analysis\" src=\"{charts.threshold_chart(rows, best_threshold)}\">"
        + _table(["threshold", "precision", "recall", "F1", "FPR"], table_rows) + "</div>\n"
        f"<p class=\"meta\">{len(shown_indices)} of {len(rows)} recorded thresholds shown; "
        f"<a download=\"threshold_analysis.csv\" href=\"{link}\">the whole table as CSV</a>.</p>"
    )


def _spread(count: int, wanted: int) -> list[int]:
    if count <= wanted:
        return list(range(count))
    return sorted({round(index * (count - 1) / (wanted - 1)) for index in range(wanted)})


def _per_class(record: RunRecord) -> str:
    by_label: dict[str, dict[str, float]] = {}
    for key, value in record.metrics.items():
        name, _, label = key.partition("/")
        if label and name in _PER_CLASS and not label.endswith(("_ci_low", "_ci_high")):
            by_label.setdefault(label, {})[name] = value
    if not by_label:
        return ""
    order = [label for label in record.labels if label in by_label] + sorted(set(by_label) - set(record.labels))
    # Noise out: a class with no value but its support, a column with no value at all.
    order = [label for label in order
             if not all(_missing(by_label[label].get(name)) for name in _PER_CLASS if name != "support")]
    columns = [name for name in _PER_CLASS if any(not _missing(by_label[label].get(name)) for label in order)]
    intervals = record.intervals
    rows = []
    for label in order:
        cells = [f"<td class=\"name\">{_text(label)}</td>"]
        for name in columns:
            key = f"{name}/{label}"
            value = by_label[label].get(name)
            interval = intervals.get(key)
            spread = f" <span class=\"meta\">[{_number(interval[0], 3)}, {_number(interval[1], 3)}]</span>" \
                if interval and not is_count(name) else ""
            cells.append(f"<td data-metric=\"{_text(key)}\">{_number(value, count=is_count(name))}{spread}</td>")
        rows.append(("", cells))
    if not rows:
        return ""
    return "<h2>Per-class metrics</h2>\n" + _table(["label", *columns], rows)


def _params(record: RunRecord) -> str:
    if not record.params:
        return "<h2>Params</h2>\n<p class=\"note\">No params were recorded.</p>"
    rows = [("", [f"<td class=\"name\">{_text(key)}</td>", f"<td class=\"name\">{_text(value)}</td>"])
            for key, value in sorted(record.params.items())]
    return "<h2>Params</h2>\n" + _table(["param", "value"], rows)


def _warnings(record: RunRecord) -> str:
    notes = record.evaluation.get("warnings") or []
    if not notes:
        return ""
    return "<h2>Warnings</h2>\n<ul>" + "".join(f"<li>{_text(note)}</li>" for note in notes) + "</ul>"


def learning_curve_keys(histories: Iterable[dict[str, list]]) -> list[tuple[str, list[str]]]:
    """The metric keys worth a learning curve (two points or more), grouped per chart as
    ``(metric, [train/<metric>, <metric>])`` (either may be missing); headline metrics first.
    Per-class keys, interval bounds and counts stay out (40 learning curves hide the few that matter)."""
    keys = set()
    for history in histories:  # a curve needs two points: a single evaluation has none
        keys |= {key for key, points in history.items() if len(points) > 1}
    bases = {key[len(_TRAIN_PREFIX):] for key in keys if key.startswith(_TRAIN_PREFIX)}
    bases |= {key for key in keys if key in _HEADLINE}
    bases = {base for base in bases if "/" not in base and not is_count(base)
             and not base.endswith(("_ci_low", "_ci_high"))}
    ordered = [base for base in _HEADLINE if base in bases] + sorted(bases - set(_HEADLINE))
    return [(base, [key for key in (_TRAIN_PREFIX + base, base) if key in keys]) for base in ordered]


def _learning_curves(record: RunRecord) -> str:
    charts_html = []
    for title, keys in learning_curve_keys([record.history]):
        lines = {("train" if key.startswith(_TRAIN_PREFIX) else "evaluated"): record.history[key] for key in keys}
        charts_html.append(f"<img alt=\"learning curve {_text(title)}\" data-chart=\"{_text(title)}\" "
                           f"src=\"{charts.history_chart(title, lines)}\">")
    if not charts_html:
        return ""
    return ("<h2>Learning curves</h2>\n<p class=\"meta\">Each metric's recorded values per epoch (step); "
            "train: the framework's own values on the training data; evaluated: the toolkit's on the "
            "evaluation (validation) data.</p>\n"
            "<div class=\"charts\">" + "".join(charts_html) + "</div>")


def image_uri(content: bytes) -> str:
    """A logged image as a data URI, its type read from its first bytes (PNG, JPEG or GIF)."""
    kind = next((mime for magic, mime in _IMAGE_MAGIC if content.startswith(magic)), "image/png")
    return f"data:{kind};base64," + base64.b64encode(content).decode("ascii")


def image_figures(record: RunRecord, caption: str = "") -> str:
    """The run's logged images, each with its name (and ``caption``) under it."""
    return "".join(
        f"<figure><img alt=\"{_text(name)}\" data-image=\"{_text(name)}\" src=\"{image_uri(content)}\">"
        f"<figcaption>{_text(f'{caption}: {name}' if caption else name)}</figcaption></figure>"
        for name, content in sorted(record.images.items()))


def _samples(record: RunRecord) -> str:
    if not record.images:
        return ""
    return ("<h2>Sample images</h2>\n<p class=\"meta\">As the run logged them (a trainer's grid: true and "
            "predicted label under each image, wrong ones in red).</p>\n"
            f"<div class=\"charts\">{image_figures(record)}</div>")


def model_summaries(record: RunRecord) -> str:
    """The run's logged texts (a model summary) as preformatted blocks."""
    return "".join(f"<h3>{_text(name)}</h3>\n<pre data-text=\"{_text(name)}\">{_text(content)}</pre>"
                   for name, content in sorted(record.texts.items()))


def _model_summary(record: RunRecord) -> str:
    if not record.texts:
        return ""
    return "<h2>Model</h2>\n" + model_summaries(record)


_IMAGE_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (b"GIF8", "image/gif"))

# The single-run page, top to bottom: a new section is one function of the record and one line here.
SECTIONS = (
    _header,
    _gates,
    _metrics,
    _learning_curves,
    _confusion,
    _curves,
    _thresholds,
    _per_class,
    slice_table.render_slice_tables,
    _samples,
    _model_summary,
    _params,
    _warnings,
)
