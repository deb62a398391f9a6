"""Recorded runs' stored predictions, for ``toolkit evaluate --run`` and ``toolkit compare --paired``.

Predictions are read back through the tracker's reader (``predictions.npz`` in the run's last
evaluation folder); values are added to an ended run through the tracker's optional
``reopen(run_id, location)`` (see the Tracker protocol), never by writing to its store directly.
"""

from __future__ import annotations

import datetime
import math
from typing import Any, Mapping, Optional

from toolkit.errors import UsageError
from toolkit.plugin.records import PREDICTIONS_FILE, Predictions, RunRecord
from toolkit.plugin.types import RUN_STATUSES

# Tag saying when values were added to a run from its stored predictions, and which.
REEVALUATION_TAG = "toolkit.reevaluated"
RELATIVE_TOLERANCE = 1e-9  # a value recomputed from the stored predictions equals the recorded one
ABSOLUTE_TOLERANCE = 1e-12


def read_with_predictions(reader: Any, run_text: str, argument: str = "--run") -> tuple[RunRecord, Predictions]:
    """The run ``run_text`` (an id or a unique prefix) and its stored predictions; UsageError without them."""
    from toolkit.reporting.record import resolve_run_id

    try:
        run_id = resolve_run_id(reader, run_text)
    except ValueError as error:
        raise UsageError(f"{argument}: {error}") from None
    record = reader.read_run(run_id)
    if record.predictions is None:
        raise UsageError(f"{argument} {run_text!r}: run {run_id} in {reader.location()} has no stored predictions "
                         f"({PREDICTIONS_FILE}); runs store them when arrays are evaluated with a tracker "
                         "(toolkit.evaluate, toolkit evaluate --y-true, the trainer), not from files or Dask")
    return record, record.predictions


def differing(recorded: Mapping[str, float], recomputed: Mapping[str, float]) -> list[str]:
    """Keys in both whose values differ beyond the tolerance (NaN equals NaN), each with both values."""
    found = []
    for key, value in recomputed.items():
        if key not in recorded:
            continue
        old = recorded[key]
        same = (math.isnan(old) and math.isnan(value)) or math.isclose(
            old, value, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)
        if not same:
            found.append(f"{key} (recorded {old!r}, recomputed {value!r})")
    return found


def evaluation_step(record: RunRecord, keys: Any) -> int:
    """The step the run's last evaluation was logged at: the last step of any of ``keys`` it has."""
    steps = [record.history[key][-1][0] for key in keys if record.history.get(key)]
    return max(steps) if steps else 0


def reopener(record: RunRecord, manager: Any = None) -> Any:
    """A new tracker of ``record``'s kind that can reopen it; UsageError (before any work) when none can."""
    from toolkit.plugin.manager import get_plugin_manager

    spec = (manager or get_plugin_manager()).get_trackers().get(record.tracker)
    tracker = spec.factory() if spec is not None else None
    if tracker is None or not callable(getattr(tracker, "reopen", None)):
        raise UsageError(f"--run: tracker {record.tracker!r} cannot reopen a recorded run to add values "
                         "(it has no reopen method); use a tracker that can, such as mlflow or wandb")
    return tracker


def add_values(tracker: Any, record: RunRecord, values: Mapping[str, float], step: int) -> str:
    """Log ``values`` at ``step`` into the ended run ``record`` through ``tracker.reopen``; its status
    stays. Returns the tracker's line saying where the run is."""
    tracker.reopen(record.run_id, record.location)
    try:
        tracker.log_metrics(dict(values), step)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        tracker.set_tags({REEVALUATION_TAG: f"{stamp}: {', '.join(sorted(values))}"[:500]})
    finally:
        tracker.finish(record.status)
    return tracker.describe()


def check_ended(record: RunRecord, argument: str = "--run") -> None:
    """A run still RUNNING (in progress, or a dead process's) is not re-evaluated."""
    if record.status not in RUN_STATUSES:
        raise UsageError(f"{argument}: run {record.run_id} is {record.status}; let it end (or `toolkit recover` "
                         "a dead run's journal) before adding values to it")


def decoded_scores(predictions: Predictions) -> Optional[Any]:
    """The stored scores as probabilities (logits through sigmoid/softmax, the shape kept); None
    for none or for decision margins, which are no probabilities."""
    import numpy as np

    from toolkit.evaluation.inputs import check_scores

    if predictions.y_score is None or predictions.score_type == "decision":
        return None
    if predictions.score_type == "probability":
        return predictions.y_score
    table = check_scores(predictions.y_score, predictions.example_count, predictions.labels, "logits")
    return table[:, 1] if np.ndim(predictions.y_score) == 1 or np.shape(predictions.y_score)[1] == 1 else table
