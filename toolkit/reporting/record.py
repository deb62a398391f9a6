"""Recorded runs for reports and comparisons, read through whichever tracker offers a reader.

The core names no tracker: ``--tracker NAME`` picks one by name, and without it the first
configured tracker that can read is used (see :func:`toolkit.tracking.choice.default_tracker_names`).
A run id may be given as any unique prefix, as ``toolkit compare`` prints them shortened.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import numpy as np

from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.records import Curve, RunRecord, RunSummary
from toolkit.suggestions import did_you_mean
from toolkit.tracking.choice import default_tracker_names

__all__ = ["Curve", "RunRecord", "RunSummary", "latest_run_id", "open_reader", "read_run", "record_from_result",
           "resolve_run_id"]


def record_from_result(result: Any, run_name: str = "", params: Optional[dict] = None) -> RunRecord:
    """A record of an in-memory ``EvaluationResult`` (no tracker needed), as a reader would give it back."""
    record = RunRecord(run_id="", run_name=run_name, status="not recorded", tracker="", location="(in memory)",
                       metrics=dict(result.logged_metrics()),
                       params={key: str(value) for key, value in (params or {}).items()},
                       evaluation=json.loads(json.dumps(result.to_dict())))
    record.confusion = ([str(label) for label in result.labels], np.asarray(result.confusion_matrix).tolist())
    analysis = result.artifacts.get("threshold_analysis")
    if analysis is not None:
        record.thresholds = analysis.rows()
        record.threshold_summary = analysis.summary()
    return record


def open_reader(tracker: Optional[str] = None, options: Optional[Mapping[str, Any]] = None,
                manager: Optional[ToolkitPluginManager] = None) -> Any:
    """The reader of tracker ``tracker`` (default: the first configured tracker that can read)."""
    manager = manager or get_plugin_manager()
    specs = manager.get_trackers()
    readable = [name for name, spec in specs.items() if spec.reader is not None]
    if tracker is None:
        configured = [name for name in default_tracker_names(manager) if name in readable]
        if not configured:
            raise ValueError(f"--tracker: no configured tracker can read runs back; name one of "
                             f"{readable or 'none installed'}")
        tracker = configured[0]
    elif tracker not in specs:
        raise ValueError(f"--tracker {tracker!r} is not an installed tracker; {did_you_mean(tracker, specs)}"
                         f"installed: {sorted(specs) or 'none'}")
    elif specs[tracker].reader is None:
        raise ValueError(f"--tracker {tracker!r} cannot read runs back; these can: {readable or 'none'}")
    return specs[tracker].reader(**dict(options or {}))


def resolve_run_id(reader: Any, text: str) -> str:
    """The full id of the one run whose id starts with ``text``; ValueError if none or several do."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"RUN_ID must be a non-empty run id (or a unique prefix of one), got {text!r}")
    ids = [summary.run_id for summary in reader.list_runs()]
    if text in ids:
        return text
    matches = [run_id for run_id in ids if run_id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"RUN_ID {text!r} is ambiguous in {reader.location()}: it starts "
                         f"{', '.join(sorted(matches))}; give more characters")
    raise ValueError(f"RUN_ID {text!r}: no such run in {reader.location()}")


def read_run(reader: Any, run_id: str) -> RunRecord:
    """The run ``run_id`` (or a unique prefix of it) with its last evaluation's files."""
    return reader.read_run(resolve_run_id(reader, run_id))


def latest_run_id(reader: Any, experiment: Optional[str] = None) -> str:
    """The most recently started run, in ``experiment`` or in any experiment."""
    runs = reader.list_runs(experiment)
    if not runs:
        where = f" experiment {experiment!r} of" if experiment else ""
        raise ValueError(f"--latest: there is no run in{where} {reader.location()}")
    return max(runs, key=lambda summary: summary.start_time or 0).run_id
