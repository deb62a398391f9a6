"""One run of an evaluation or a training, fanned out to every chosen tracker through a journal.

The run applies the shared policy (``toolkit.tracking``) once, so every tracker receives the same
flattened, redacted params and the same checked keys and values. Everything goes to the run's
journal first (:mod:`toolkit.tracking.journal`) and trackers are fed from it
(:mod:`toolkit.tracking.delivery`): a tracker whose store stops answering is retried while the
run goes on, a tracker that raises otherwise is reported and dropped while the others go on.
Each run records the others' ids as cross-links, and at the end one line per tracker says what
its store acknowledged and what still waits in the journal.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
import warnings
from typing import Any, Iterable, Mapping, Optional

from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.records import FINGERPRINT_TAG
from toolkit.plugin.types import DatasetDescription, ModelDescription, TrackerLink
from toolkit.tracking import interrupts
from toolkit.tracking.delivery import Courier, describe_error
from toolkit.tracking.interrupts import Terminated
from toolkit.tracking.journal import Journal, JournalError
from toolkit.tracking.params import PreparedParams, prepare_params
from toolkit.tracking.redaction import redact, strip_url_credentials
from toolkit.evaluation.gates import gate_tags
from toolkit.tracking.report import EvaluationReport
from toolkit.tracking.values import KeyMap, TrackingWarning, clean_metrics
from toolkit.suggestions import did_you_mean

__all__ = ["DeliveryError", "PluginHookError", "Run", "Terminated", "TrackerError"]

DELIVERY_TIMEOUT_ENV = "TOOLKIT_DELIVERY_TIMEOUT"
DEFAULT_DELIVERY_TIMEOUT_SECONDS = 60.0


class TrackerError(RuntimeError):
    """A tracker could not start the run (an unreachable server, a store it cannot open)."""


class DeliveryError(TrackerError):
    """The run ended but a tracker's store did not take everything in time; it waits in the journal."""


class PluginHookError(RuntimeError):
    """A plugin's lifecycle hook raised; the message names the plugin and the hook."""


_describe_error = describe_error  # the name this module used before delivery.py existed


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _reached(counts: Mapping[str, int]) -> str:
    return (f"{_count(counts.get('params', 0), 'param')}, {_count(counts.get('values', 0), 'metric value')}, "
            f"{_count(counts.get('evaluations', 0), 'evaluation')} with charts, "
            f"{_count(counts.get('files', 0), 'file')}")


def _pending_text(counts: Mapping[str, int]) -> str:
    nouns = {"params": "param", "values": "metric value", "evaluations": "evaluation", "files": "file"}
    return ", ".join(_count(number, nouns[kind]) for kind, number in counts.items() if number) or "the end record"


def _delivery_timeout(value: Optional[float]) -> float:
    if value is None:
        text = os.environ.get(DELIVERY_TIMEOUT_ENV)
        if not text:
            return DEFAULT_DELIVERY_TIMEOUT_SECONDS
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{DELIVERY_TIMEOUT_ENV} must be a number of seconds, got {text!r}") from None
        what = DELIVERY_TIMEOUT_ENV
    else:
        what = "delivery_timeout"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _hook_plugin(manager: ToolkitPluginManager, hook_name: str, error: BaseException) -> str:
    """The name of the plugin whose ``hook_name`` implementation raised ``error``."""
    codes = {impl.function.__code__: impl.plugin_name
             for impl in getattr(manager.hook, hook_name).get_hookimpls()
             if hasattr(impl.function, "__code__")}
    traceback = error.__traceback__
    found = None
    while traceback is not None:
        found = codes.get(traceback.tb_frame.f_code, found)
        traceback = traceback.tb_next
    return found or "unknown"


class Run:
    """A run's life: ``start``, params, metrics, evaluations and artifacts, then ``end`` or ``fail``.

    Used as a context manager, an exception inside the block fails the run (KILLED for
    SIGTERM/SIGINT, FAILED otherwise) and is re-raised. Without one, an unhandled exception or
    a signal still closes the trackers (see :mod:`toolkit.tracking.interrupts`).

    ``params`` are checked here, before anything is written: nested mappings are flattened to
    dotted keys, secrets become ``***``, and ``run.params`` holds what the trackers receive.

    ``journal_dir`` is where the run's journal lives (default ``TOOLKIT_JOURNAL_DIR``, else
    ``./.toolkit/journal``). ``delivery_timeout`` is how long the end of the run waits for a
    store that stopped answering (default ``TOOLKIT_DELIVERY_TIMEOUT``, else 60 s); after it,
    :meth:`end` raises :class:`DeliveryError` naming the tracker, what waits and how to deliver it.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        trackers: Iterable[str] = (),
        plugin_manager: Optional[ToolkitPluginManager] = None,
        tracker_options: Optional[Mapping[str, Mapping[str, Any]]] = None,
        journal_dir: Optional[str] = None,
        delivery_timeout: Optional[float] = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name must be a string or None, got {type(name).__name__}")
        self.name = strip_url_credentials(name) if name else name
        self._manager = plugin_manager or get_plugin_manager()
        self.tracker_names = _check_tracker_names(trackers, self._manager)
        self._tracker_options = _check_tracker_options(tracker_options, self.tracker_names)
        if journal_dir is not None and not isinstance(journal_dir, (str, os.PathLike)):
            raise ValueError(f"journal_dir must be a folder path or None, got {journal_dir!r}")
        self._journal_dir = journal_dir
        self.delivery_timeout = _delivery_timeout(delivery_timeout)
        self._keys = KeyMap()
        self._initial_params = prepare_params(params)
        self.params: dict[str, Any] = dict(self._initial_params.values)
        self.status: Optional[str] = None
        self.links: dict[str, TrackerLink] = {}
        self.finishing = False
        self.journal: Optional[Journal] = None
        self._slots: list[Courier] = []
        self._logged_params: dict[str, Any] = {}
        self._last_step: Optional[int] = None
        self._signal: Optional[int] = None
        self._unhandled: Optional[BaseException] = None
        self._summary: list[str] = []
        self._undelivered: list[str] = []

    @property
    def hook(self) -> Any:
        return self._manager.hook

    @property
    def renamed_keys(self) -> dict[str, str]:
        """Every key that was recorded under another name: original -> recorded."""
        return dict(self._keys.renamed)

    def _fire(self, hook_name: str, **arguments: Any) -> None:
        """Call a lifecycle hook; a plugin that raises is named in a :class:`PluginHookError`."""
        try:
            getattr(self.hook, hook_name)(**arguments)
        except Exception as error:
            plugin = _hook_plugin(self._manager, hook_name, error)
            raise PluginHookError(f"plugin {plugin!r} failed in {hook_name}: {describe_error(error)}") from error

    # --- life -----------------------------------------------------------------------------------

    def start(self) -> "Run":
        """Open the journal and the run in every tracker, link them to each other, record the params.

        A tracker that cannot start raises :class:`TrackerError` naming it; trackers already
        opened are closed as FAILED, so nothing stays RUNNING. A plugin whose
        ``toolkit_run_started`` raises ends the run FAILED, with the plugin named in the
        ``toolkit.error`` tag, and the :class:`PluginHookError` is raised.
        """
        if self.status is not None:
            raise RuntimeError(f"run {self.name!r} was already started (status {self.status})")
        if self.tracker_names:
            self._open_trackers()
        self.status = "RUNNING"
        if self._slots:  # with no tracker there is nothing a signal could leave RUNNING
            interrupts.activate(self)
            for slot in self._slots:
                tags = _cross_link_tags(link for name, link in self.links.items() if name != slot.name)
                if tags:
                    self._write("tags", tags=tags, only=slot.name)
            self.journal.sync()
        try:
            self._fire("toolkit_run_started", run=self)
        except PluginHookError as error:
            if self._slots:
                self._write("tags", tags={"toolkit.error": str(error)})
            self.fail(error)
            raise
        if self._initial_params.values:
            self._record_params(self._initial_params)
        return self

    def _open_trackers(self) -> None:
        options = {name: {key: redact(value) for key, value in values.items()}
                   for name, values in self._tracker_options.items()}
        try:
            self.journal = Journal.create(self._journal_dir, {
                "name": self.name, "trackers": list(self.tracker_names), "tracker_options": options})
        except JournalError as error:
            raise TrackerError(f"the run journal could not be created: {error}") from error
        specs = self._manager.get_trackers()
        for tracker_name in self.tracker_names:
            try:
                tracker = specs[tracker_name].factory(**self._tracker_options.get(tracker_name, {}))
                link = tracker.start(self.name)
            except Exception as error:
                for slot in self._slots:
                    try:
                        slot.tracker.finish("FAILED")
                    except Exception:
                        pass  # the error that stops the run is the one raised below
                self.journal.close(remove=True)
                raise TrackerError(
                    f"tracker {tracker_name!r} could not start: {describe_error(error)}"
                ) from error
            if isinstance(link, TrackerLink):
                self.links[tracker_name] = link
                self.journal.append("link", tracker=tracker_name, run_id=link.run_id,
                                    location=strip_url_credentials(link.location),
                                    url=strip_url_credentials(link.url) if link.url else None)
            self._slots.append(Courier(tracker_name, tracker, self.journal, offset=self.journal.offset,
                                       seq=self.journal.seq - 1))

    def _write(self, op: str, **fields: Any) -> None:
        """Journal one record, then offer it to every tracker."""
        record, start, end = self.journal.append(op, **fields)
        for slot in self._slots:
            slot.offer(record, start, end)

    def end(self) -> None:
        """Close every tracker as FINISHED and print what reached where.

        Raises :class:`DeliveryError` when a store did not take everything within the delivery
        timeout (its values wait in the journal for ``toolkit recover``).
        """
        self._close("FINISHED")
        self._fire("toolkit_run_ended", run=self, status=self.status)
        interrupts.raise_pending()
        if self._undelivered:
            raise DeliveryError("; ".join(self._undelivered))

    def fail(self, error: BaseException) -> None:
        """Close every tracker as KILLED (SIGTERM/SIGINT) or FAILED, keeping what was logged."""
        signalled = isinstance(error, (KeyboardInterrupt, Terminated)) or (
            self._signal is not None and isinstance(error, SystemExit))
        self._close("KILLED" if signalled else "FAILED")
        self.hook.toolkit_run_failed(run=self, error=error, status=self.status)
        interrupts.raise_pending()

    def _close(self, status: str) -> None:
        if self.status in ("FINISHED", "FAILED", "KILLED"):
            raise RuntimeError(f"run {self.name!r} already ended as {self.status}")
        self.finishing = True
        try:
            if self._slots:
                self._deliver_end(status)
            self.status = status
            self._summary = [self._summary_line(slot) for slot in self._slots]
            for line in self._summary:
                print(f"toolkit: {line}", file=sys.stderr)
        finally:
            self.finishing = False
            interrupts.deactivate(self)

    def _deliver_end(self, status: str) -> None:
        try:
            self._write("end", status=status)
            self.journal.sync()
        except JournalError as error:  # a full disk: the trackers still get their end, directly
            warnings.warn(f"{error}; the trackers are closed without it", TrackingWarning, stacklevel=4)
            for slot in self._slots:
                if slot.state in ("live", "waiting"):
                    slot.stop()
                    try:
                        slot.tracker.finish(status)
                        slot.state = "done"
                    except Exception as finish_error:
                        slot.broken = f"finish: {describe_error(finish_error)}"
                        slot.state = "broken"
        waiting = [slot.name for slot in self._slots if slot.state == "waiting"]
        if waiting:
            print(f"toolkit: waiting up to {self.delivery_timeout:g} s for {', '.join(waiting)} to take "
                  "what the run journal holds", file=sys.stderr)
        deadline = time.monotonic() + self.delivery_timeout
        for slot in self._slots:
            slot.wait_until_done(deadline)
        self._undelivered = []
        for slot in self._slots:
            if slot.state == "waiting":
                slot.stop()
                self._undelivered.append(
                    f"tracker {slot.name!r} did not answer for {self.delivery_timeout:g} s "
                    f"({slot.waiting_reason}): {_pending_text(slot.pending())} wait in the run journal "
                    f"{self.journal.path}; deliver them with: toolkit recover --journal-dir "
                    f"{os.path.dirname(self.journal.path)}")
        self.journal.close(remove=all(slot.state != "waiting" for slot in self._slots))

    def _summary_line(self, slot: Courier) -> str:
        counts = dict(slot.acked)
        stored = getattr(slot.tracker, "stored_values", None)
        if isinstance(stored, int):  # the tracker read its store back: that count is the truth
            counts["values"] = stored
        try:
            where = strip_url_credentials(slot.tracker.describe())
        except Exception as error:
            link = self.links.get(slot.name)
            where = link.location if link else f"(unknown: {describe_error(error)})"
        if slot.broken is not None:
            return f"{slot.name}: BROKEN in {slot.broken}; before that {_reached(counts)} reached {where}"
        if slot.state == "waiting":
            return (f"{slot.name}: NOT DELIVERED ({slot.waiting_reason}): {_reached(counts)} reached {where}; "
                    f"{_pending_text(slot.pending())} wait in {self.journal.path} "
                    "(deliver them with: toolkit recover)")
        return f"{slot.name}: {self.status or 'RUNNING'}: {_reached(counts)} -> {where}"

    def broken_trackers(self) -> list[str]:
        """The trackers that broke during the run (their summary line says where and why)."""
        return [slot.name for slot in self._slots if slot.broken is not None]

    def summary_lines(self) -> list[str]:
        """One line per tracker: its status, what its store acknowledged and where it is (or how it broke)."""
        if self._summary:
            return list(self._summary)
        return [self._summary_line(slot) for slot in self._slots]

    def where_to_look(self) -> list[str]:
        """How a person opens each tracker's copy of the run: lines its plugin offers, else its location."""
        specs = self._manager.get_trackers()
        lines: list[str] = []
        for tracker_name, link in self.links.items():
            spec = specs.get(tracker_name)
            if spec is not None and spec.where_to_look is not None:
                lines += [strip_url_credentials(line) for line in spec.where_to_look(link)]
            else:
                lines.append(f"{tracker_name}: {link.url or link.location}")
        return lines

    def __enter__(self) -> "Run":
        return self.start()

    def __exit__(self, exc_type: Any, error: Optional[BaseException], traceback: Any) -> None:
        if self.status not in ("RUNNING", None):
            return  # ended inside the block
        clean_exit = isinstance(error, SystemExit) and not isinstance(error, Terminated) and (
            error.code in (0, None) and self._signal is None)
        if error is None or clean_exit:
            self.end()
        else:
            self.fail(error)

    # --- what interrupts.py tells the run -------------------------------------------------------

    def note_signal(self, signal_number: int) -> None:
        self._signal = signal_number

    def note_unhandled(self, error: BaseException) -> None:
        self._unhandled = error

    def end_at_exit(self) -> None:
        """Called at interpreter exit for a run nobody ended: FAILED/KILLED if it died, else FINISHED."""
        if self.status != "RUNNING":
            return
        if self._unhandled is not None:
            self.fail(self._unhandled)
        elif self._signal is not None:
            self.fail(Terminated(self._signal))
        else:
            self.end()

    # --- recording ------------------------------------------------------------------------------

    def _require_running(self, what: str) -> None:
        if self.status != "RUNNING":
            state = "not started" if self.status is None else f"ended ({self.status})"
            raise RuntimeError(f"cannot {what}: run {self.name!r} is {state}; use it inside `with run:`")

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record more params; a key already recorded with another value is a ValueError.

        Everything is checked before any tracker is written.
        """
        self._require_running("log params")
        self._record_params(prepare_params(params))

    def _record_params(self, prepared: PreparedParams) -> None:
        mapped = {self._keys(key, "param"): (key, value) for key, value in prepared.values.items()}
        changed = [
            f"{original!r} (was {self._logged_params[key]!r}, now {value!r})"
            for key, (original, value) in mapped.items()
            if key in self._logged_params and self._logged_params[key] != value
        ]
        if changed:
            raise ValueError(
                f"params: {', '.join(changed)} already recorded in this run with another value; "
                "a run's params cannot change: use a new key or a new run"
            )
        new = {key: value for key, (_, value) in mapped.items() if key not in self._logged_params}
        if not new:
            return
        if self._slots:
            files = self._write_long_values(prepared)
            self._write("params", values=dict(new))
            for folder, path in files:
                self._write("file", name=folder, path=path)
            self.journal.sync()
        self._logged_params.update(new)
        self.params.update({original: value for original, value in prepared.values.items()})
        self._fire("toolkit_params_logged", run=self, params=dict(new))

    def _write_long_values(self, prepared: PreparedParams) -> list[tuple[str, str]]:
        """Long values saved whole in the journal's folder, so ``toolkit recover`` finds them too."""
        files = []
        for key, text in prepared.long_values.items():
            folder, file_name = prepared.artifact_names[key].rsplit("/", 1)
            path = os.path.join(self.journal.side_folder, "params", file_name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            files.append((folder, path))
        return files

    def _resolve_step(self, step: Optional[int]) -> int:
        if step is None:
            return self._last_step if self._last_step is not None else 0
        if isinstance(step, bool) or not isinstance(step, int) and not hasattr(step, "__index__"):
            raise ValueError(f"step must be a non-negative integer or None, got {step!r}")
        step = int(step)
        if step < 0:
            raise ValueError(f"step must be a non-negative integer or None, got {step}")
        self._last_step = step if self._last_step is None else max(self._last_step, step)
        return step

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        """Record scalar values at ``step`` (None: the latest step so far, 0 at first).

        NaN is kept; +-inf and non-numbers are refused with a :class:`TrackingWarning` naming
        the key; keys outside what both stores accept are renamed and reported.
        """
        self._require_running("log metrics")
        self._send_metrics(metrics, step)
        if self._slots:
            self.journal.sync_if_due()

    def _send_metrics(self, metrics: Mapping[str, float], step: Optional[int]) -> dict[str, float]:
        resolved = self._resolve_step(step)
        if not self._slots:
            return {}  # nothing is recorded, so nothing to check (evaluate() without trackers)
        values = clean_metrics(metrics, self._keys)
        if values:
            self._write("metrics", step=resolved, values=values, timestamp=int(time.time() * 1000))
        return values

    def log_epoch(self, epoch: int, logs: Mapping[str, float], step: Optional[int] = None) -> None:
        """Record one training epoch's framework values at ``step`` (default ``epoch``), on disk before
        this returns, then tell the plugins.

        The trainer passes ``step=epoch + 1`` (epochs counted from 0, as frameworks count them),
        so the epoch the console calls "epoch 1" is step 1 in every tracker.
        """
        self._require_running("log metrics")
        self._send_metrics(logs, epoch if step is None else step)
        if self._slots:
            self.journal.sync()
        self._fire("toolkit_epoch_ended", run=self, epoch=epoch, logs=logs)

    def log_evaluation(self, result: Any, step: Optional[int] = None, *, artifacts: bool = True) -> None:
        """Record an EvaluationResult: its metrics, then (``artifacts``) the confusion matrix,
        curves and metrics JSON rendered natively by each tracker; then tell the plugins.

        A trainer evaluating every epoch may pass ``artifacts=False`` except for the last one.
        """
        self._require_running("log an evaluation")
        # the metrics plus <key>_ci_low / <key>_ci_high when the result has intervals
        logged = result.logged_metrics() if hasattr(result, "logged_metrics") else result.metrics
        values = self._send_metrics(logged, step)
        tags = gate_tags(getattr(result, "gates", None) or [])
        predictions = getattr(result, "predictions", None) if artifacts else None
        if predictions is not None:  # which examples the stored predictions are for, checkable cheaply
            tags[FINGERPRINT_TAG] = predictions.fingerprint
        if tags and self._slots:  # gate outcomes are tags in every tracker (the CLI's exit code says the same)
            self._write("tags", tags=tags)
        if artifacts and self._slots:
            try:
                report = EvaluationReport.from_result(result, values)
            except Exception as error:  # a broken artifact metric must not lose the logged metrics
                warnings.warn(f"the evaluation's artifacts could not be prepared "
                              f"({describe_error(error)}); its metrics were recorded",
                              TrackingWarning, stacklevel=2)
            else:
                # the predictions are compressed once here; every tracker copies the file
                report = report.with_predictions_file(
                    os.path.join(self.journal.side_folder, f"evaluation-{self.journal.seq}-predictions.npz"))
                path = os.path.join(self.journal.side_folder, f"evaluation-{self.journal.seq}.pickle")
                with open(path, "wb") as handle:
                    pickle.dump(report, handle, protocol=pickle.HIGHEST_PROTOCOL)
                self._write("evaluation", step=step, path=path)
        if self._slots:
            self.journal.sync()
        self._fire("toolkit_evaluation_ended", run=self, result=result, step=step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Attach text tags to the run in every tracker (for example the reason it failed)."""
        self._require_running("set tags")
        text = redact({str(key): str(value) for key, value in tags.items()})  # by key and by value
        if self._slots:
            self._write("tags", tags=text)

    def log_dataset(self, description: DatasetDescription) -> None:
        """Record a data set the run used, in every tracker that records data sets (``log_dataset``)."""
        self._require_running("log a dataset")
        if not isinstance(description, DatasetDescription):
            raise ValueError(f"description must be a DatasetDescription, got {type(description).__name__}")
        self._call_optional("log_dataset", description)

    def log_model(self, description: ModelDescription) -> None:
        """Record the trained model, in every tracker that records models (``log_model``)."""
        self._require_running("log a model")
        if not isinstance(description, ModelDescription):
            raise ValueError(f"description must be a ModelDescription, got {type(description).__name__}")
        self._call_optional("log_model", description)

    def _call_optional(self, method: str, *arguments: Any) -> None:
        for slot in self._slots:
            if callable(getattr(slot.tracker, method, None)):
                slot.call(method, *arguments)

    def log_artifact(self, name: str, path: str) -> None:
        """Record a local file or folder as an artifact of the run (under the folder ``name``)."""
        self._require_running("log an artifact")
        if not isinstance(name, str) or not name.strip("/ "):
            raise ValueError(f"name must be a non-empty artifact folder name, got {name!r}")
        if not os.path.exists(path):
            raise ValueError(f"path {path!r} does not exist: nothing to record as artifact {name!r}")
        if self._slots:
            self._write("file", name=name.strip("/"), path=os.path.abspath(os.fspath(path)))
            self.journal.sync()
        self._fire("toolkit_artifact_logged", run=self, name=name, path=path)


def _cross_link_tags(links: Iterable[TrackerLink]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for link in links:
        tags[f"{link.tracker}.run_id"] = link.run_id
        tags[f"{link.tracker}.location"] = strip_url_credentials(link.location)
        if link.url:
            tags[f"{link.tracker}.url"] = strip_url_credentials(link.url)
    return tags


def _check_tracker_options(
    options: Optional[Mapping[str, Mapping[str, Any]]], names: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Options per tracker, given to its factory; only for trackers the run records to."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(f"tracker_options must map a tracker name to its options, got {options!r}")
    checked = {}
    for tracker_name, values in options.items():
        if tracker_name not in names:
            raise ValueError(f"tracker_options names {tracker_name!r}, which is not among trackers {list(names)}")
        if not isinstance(values, Mapping):
            raise ValueError(f"tracker_options[{tracker_name!r}] must be a mapping of option to value, got {values!r}")
        checked[tracker_name] = dict(values)
    return checked


def _check_tracker_names(trackers: Iterable[str], manager: ToolkitPluginManager) -> tuple[str, ...]:
    if isinstance(trackers, str):
        trackers = [trackers]
    names = tuple(dict.fromkeys(trackers or ()))
    if not names:
        return names
    known = manager.get_trackers()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"trackers names unknown tracker(s) {unknown}; {did_you_mean(unknown[0], known)}"
            f"installed: {sorted(known) or 'none'}"
        )
    return names
