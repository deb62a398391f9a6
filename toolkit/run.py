"""One run of an evaluation or a training, fanned out to every chosen tracker with failure isolation.

The run applies the shared policy (``toolkit.tracking``) once, so every tracker receives the same
flattened, redacted params and the same checked keys and values; a tracker that raises is
reported and dropped while the others go on; each run records the others' ids as cross-links;
and at the end one line per tracker says what reached where.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.types import TrackerLink
from toolkit.tracking import interrupts
from toolkit.tracking.interrupts import Terminated
from toolkit.tracking.params import PreparedParams, prepare_params
from toolkit.tracking.redaction import strip_url_credentials
from toolkit.evaluation.gates import gate_tags
from toolkit.tracking.report import EvaluationReport
from toolkit.tracking.values import KeyMap, TrackingWarning, clean_metrics

__all__ = ["Run", "Terminated", "TrackerError"]


class TrackerError(RuntimeError):
    """A tracker could not start the run (an unreachable server, a store it cannot open)."""


def _describe_error(error: BaseException) -> str:
    first_line = (str(error).strip().splitlines() or [""])[0]
    if len(first_line) > 300:
        first_line = first_line[:297] + "..."
    return strip_url_credentials(f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__)


@dataclass
class _TrackerSlot:
    """One tracker of the run, with what reached it and whether it broke."""

    name: str
    tracker: Any
    link: Optional[TrackerLink] = None
    broken: Optional[str] = None
    status: Optional[str] = None
    params: int = 0
    values: int = 0
    evaluations: int = 0
    files: int = 0

    def call(self, method: str, *arguments: Any) -> bool:
        """Call the tracker; a failure marks it broken (reported once) and closes it as FAILED."""
        if self.broken is not None:
            return False
        try:
            getattr(self.tracker, method)(*arguments)
            return True
        except Exception as error:  # one broken tracker must not stop the run or the others
            self.broken = f"{method}: {_describe_error(error)}"
            warnings.warn(
                f"tracker {self.name!r} failed in {method} ({_describe_error(error)}); it is left "
                "out for the rest of this run and the other trackers go on",
                TrackingWarning, stacklevel=4,
            )
            if method != "finish":
                try:
                    self.tracker.finish("FAILED")
                    self.status = "FAILED"
                except Exception:
                    pass  # it already broke; the summary line reports the first failure
            return False

    def summary_line(self) -> str:
        reached = (f"{_count(self.params, 'param')}, {_count(self.values, 'metric value')}, "
                   f"{_count(self.evaluations, 'evaluation')} with charts, {_count(self.files, 'file')}")
        try:
            where = strip_url_credentials(self.tracker.describe())
        except Exception as error:
            where = self.link.location if self.link else f"(unknown: {_describe_error(error)})"
        if self.broken is not None:
            return f"{self.name}: BROKEN in {self.broken}; before that {reached} reached {where}"
        return f"{self.name}: {self.status or 'RUNNING'}: {reached} -> {where}"


class Run:
    """A run's life: ``start``, params, metrics, evaluations and artifacts, then ``end`` or ``fail``.

    Used as a context manager, an exception inside the block fails the run (KILLED for
    SIGTERM/SIGINT, FAILED otherwise) and is re-raised. Without one, an unhandled exception or
    a signal still closes the trackers (see :mod:`toolkit.tracking.interrupts`).

    ``params`` are checked here, before anything is written: nested mappings are flattened to
    dotted keys, secrets become ``***``, and ``run.params`` holds what the trackers receive.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        trackers: Iterable[str] = (),
        plugin_manager: Optional[ToolkitPluginManager] = None,
        tracker_options: Optional[Mapping[str, Mapping[str, Any]]] = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise ValueError(f"name must be a string or None, got {type(name).__name__}")
        self.name = strip_url_credentials(name) if name else name
        self._manager = plugin_manager or get_plugin_manager()
        self.tracker_names = _check_tracker_names(trackers, self._manager)
        self._tracker_options = _check_tracker_options(tracker_options, self.tracker_names)
        self._keys = KeyMap()
        self._initial_params = prepare_params(params)
        self.params: dict[str, Any] = dict(self._initial_params.values)
        self.status: Optional[str] = None
        self.links: dict[str, TrackerLink] = {}
        self.finishing = False
        self._slots: list[_TrackerSlot] = []
        self._logged_params: dict[str, Any] = {}
        self._last_step: Optional[int] = None
        self._scratch: Optional[str] = None
        self._signal: Optional[int] = None
        self._unhandled: Optional[BaseException] = None
        self._summary: list[str] = []

    @property
    def hook(self) -> Any:
        return self._manager.hook

    @property
    def renamed_keys(self) -> dict[str, str]:
        """Every key that was recorded under another name: original -> recorded."""
        return dict(self._keys.renamed)

    # --- life -----------------------------------------------------------------------------------

    def start(self) -> "Run":
        """Open the run in every tracker, link them to each other, then record the params.

        A tracker that cannot start raises :class:`TrackerError` naming it; trackers already
        opened are closed as FAILED, so nothing stays RUNNING.
        """
        if self.status is not None:
            raise RuntimeError(f"run {self.name!r} was already started (status {self.status})")
        specs = self._manager.get_trackers() if self.tracker_names else {}
        for tracker_name in self.tracker_names:
            try:
                tracker = specs[tracker_name].factory(**self._tracker_options.get(tracker_name, {}))
                link = tracker.start(self.name)
            except Exception as error:
                for slot in self._slots:
                    slot.call("finish", "FAILED")
                raise TrackerError(
                    f"tracker {tracker_name!r} could not start: {_describe_error(error)}"
                ) from error
            self._slots.append(_TrackerSlot(tracker_name, tracker, link))
            if isinstance(link, TrackerLink):
                self.links[tracker_name] = link
        self.status = "RUNNING"
        if self._slots:  # with no tracker there is nothing a signal could leave RUNNING
            interrupts.activate(self)
        for slot in self._slots:
            tags = _cross_link_tags(link for name, link in self.links.items() if name != slot.name)
            if tags:
                slot.call("set_tags", tags)
        self.hook.toolkit_run_started(run=self)
        if self._initial_params.values:
            self._record_params(self._initial_params)
        return self

    def end(self) -> None:
        """Close every tracker as FINISHED and print what reached where."""
        self._close("FINISHED")
        self.hook.toolkit_run_ended(run=self, status=self.status)
        interrupts.raise_pending()

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
            for slot in self._slots:
                if slot.broken is None and slot.call("finish", status):
                    slot.status = status
            self.status = status
            self._summary = [slot.summary_line() for slot in self._slots]
            for line in self._summary:
                print(f"toolkit: {line}", file=sys.stderr)
        finally:
            self.finishing = False
            interrupts.deactivate(self)
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
                self._scratch = None

    def summary_lines(self) -> list[str]:
        """One line per tracker: its status, what reached it and where it is (or how it broke)."""
        if self._summary:
            return list(self._summary)
        return [slot.summary_line() for slot in self._slots]

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
        files = self._write_long_values(prepared)
        for slot in self._slots:
            if slot.call("log_params", dict(new)):
                slot.params += len(new)
            for folder, path in files:
                if slot.call("log_file", folder, path):
                    slot.files += 1
        self._logged_params.update(new)
        self.params.update({original: value for original, value in prepared.values.items()})
        self.hook.toolkit_params_logged(run=self, params=dict(new))

    def _write_long_values(self, prepared: PreparedParams) -> list[tuple[str, str]]:
        files = []
        for key, text in prepared.long_values.items():
            folder, file_name = prepared.artifact_names[key].rsplit("/", 1)
            if self._scratch is None:
                self._scratch = tempfile.mkdtemp(prefix="toolkit-run-")
            path = os.path.join(self._scratch, file_name)
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

    def _send_metrics(self, metrics: Mapping[str, float], step: Optional[int]) -> dict[str, float]:
        resolved = self._resolve_step(step)
        if not self._slots:
            return {}  # nothing is recorded, so nothing to check (evaluate() without trackers)
        values = clean_metrics(metrics, self._keys)
        if values:
            for slot in self._slots:
                if slot.call("log_metrics", dict(values), resolved):
                    slot.values += len(values)
        return values

    def log_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Record one training epoch's framework values, then tell the plugins."""
        self.log_metrics(logs, step=epoch)
        self.hook.toolkit_epoch_ended(run=self, epoch=epoch, logs=logs)

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
        if tags:  # gate outcomes are tags in every tracker (the CLI's exit code says the same)
            for slot in self._slots:
                slot.call("set_tags", tags)
        if artifacts and self._slots:
            try:
                report = EvaluationReport.from_result(result, values)
            except Exception as error:  # a broken artifact metric must not lose the logged metrics
                warnings.warn(f"the evaluation's artifacts could not be prepared "
                              f"({_describe_error(error)}); its metrics were recorded",
                              TrackingWarning, stacklevel=2)
            else:
                for slot in self._slots:
                    if slot.call("log_evaluation", report, step):
                        slot.evaluations += 1
        self.hook.toolkit_evaluation_ended(run=self, result=result, step=step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Attach text tags to the run in every tracker (for example the reason it failed)."""
        self._require_running("set tags")
        text = {str(key): strip_url_credentials(str(value)) for key, value in tags.items()}
        for slot in self._slots:
            slot.call("set_tags", text)

    def log_artifact(self, name: str, path: str) -> None:
        """Record a local file or folder as an artifact of the run (under the folder ``name``)."""
        self._require_running("log an artifact")
        if not isinstance(name, str) or not name.strip("/ "):
            raise ValueError(f"name must be a non-empty artifact folder name, got {name!r}")
        if not os.path.exists(path):
            raise ValueError(f"path {path!r} does not exist: nothing to record as artifact {name!r}")
        for slot in self._slots:
            if slot.call("log_file", name.strip("/"), os.fspath(path)):
                slot.files += 1
        self.hook.toolkit_artifact_logged(run=self, name=name, path=path)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


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
            f"trackers names unknown tracker(s) {unknown}; installed: {sorted(known) or 'none'}"
        )
    return names
