"""Delivering a journal to one tracker, in order, with acknowledgements and retries during outages.

A :class:`Courier` feeds one tracker from its run's journal. While the store answers, records go
out in the caller's thread as they are written. When delivery fails with an outage (the tracker's
``is_transient(error)`` says so; by default ``ConnectionError`` and ``TimeoutError``), the courier rewinds to the last
acknowledged record and a background thread retries with exponential backoff, reading the
waiting records from the journal file (not from memory) until the store answers again; training
goes on meanwhile. Any other error breaks the tracker for the rest of the run, as before.

A record is acknowledged once the tracker's store holds it: after the tracker's ``flush()`` for
trackers that buffer, right after the call otherwise. Replaying from the last acknowledgement can
offer a record twice, so trackers must take a replay without duplicating: metric values carry
their journal timestamp (MLflow keeps one row per key, step, time and value), params and tags
are set to the same value again.

Optional tracker methods used here, beyond the :class:`toolkit.plugin.types.Tracker` protocol:
``flush()`` (send buffered values; raise when the store refuses), ``is_transient(error)``,
``resume(run_id, location) -> bool`` (reopen a dead process's run; True asks for the whole journal
again because the store may have lost acknowledged records), a ``timestamp`` keyword on
``log_metrics`` and an ``end_time`` keyword on ``finish`` (Unix milliseconds).
"""

from __future__ import annotations

import inspect
import os
import pickle
import threading
import time
import warnings
from typing import Any, Callable, Optional

from toolkit.tracking.journal import Journal, read_records, record_count
from toolkit.tracking.redaction import strip_url_credentials
from toolkit.tracking.values import TrackingWarning

# Send buffered metric values once this many wait (MLflow's per-request limit), or after this long.
FLUSH_VALUES = 1000
FLUSH_SECONDS = 5.0
FIRST_RETRY_SECONDS = 0.5
# The tracker method each record kind is delivered with, as failures name it.
METHODS = {"metrics": "log_metrics", "params": "log_params", "tags": "set_tags", "file": "log_file",
           "evaluation": "log_evaluation", "end": "finish"}
MAX_RETRY_SECONDS = 30.0


def describe_error(error: BaseException) -> str:
    """``Type: first line`` of an error, at most 300 characters, without URL credentials."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    if len(first_line) > 300:
        first_line = first_line[:297] + "..."
    return strip_url_credentials(f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__)


def _accepts(method: Callable[..., Any], keyword: str) -> bool:
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return keyword in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


class Courier:
    """Delivers one tracker's share of a journal and keeps count of what its store acknowledged.

    ``state`` is "live" (in step with the journal), "waiting" (the store is out; retrying),
    "broken" (a non-transient error; ``broken`` says where and why) or "done" (the end delivered).
    """

    def __init__(self, name: str, tracker: Any, journal: Journal, *, offset: int = 0, seq: int = -1) -> None:
        self.name = name
        self.tracker = tracker
        self.journal = journal
        self.state = "live"
        self.broken: Optional[str] = None
        self.waiting_reason: Optional[str] = None
        self.acked = {"params": 0, "values": 0, "evaluations": 0, "files": 0}
        self._unacked = dict.fromkeys(self.acked, 0)
        self._offset = self._acked_offset = offset  # where the next record starts
        self._acked_seq = seq
        self._delivered_seq = seq
        self._unflushed = 0
        self._flushed_at = time.monotonic()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = False
        self._retry_thread: Optional[threading.Thread] = None
        self._flush = getattr(tracker, "flush", None)
        self._metrics_take_time = _accepts(tracker.log_metrics, "timestamp")
        self._finish_takes_time = _accepts(tracker.finish, "end_time")

    # --- feeding ----------------------------------------------------------------------------------

    def offer(self, record: dict, start: int, end: int) -> None:
        """A record was just appended: deliver it now when live (and everything before it)."""
        if self.state != "live":
            return
        with self._lock:
            if self.state != "live":
                return
            try:
                if start == self._offset:
                    self._deliver(record, end)
                else:  # records were skipped (the retry thread handed over meanwhile): catch up
                    self._deliver_from_file()
            except Exception as error:
                self._failed(error, METHODS.get(record["op"], record["op"]))

    def call(self, method: str, *arguments: Any) -> bool:
        """Call an optional tracker method directly, outside the journal (data sets and trained
        models are live objects, not lines of text); a failure breaks the tracker as usual."""
        if self.state in ("broken", "done"):
            return False
        with self._lock:
            try:
                getattr(self.tracker, method)(*arguments)
                return True
            except Exception as error:
                error.toolkit_method = method  # type: ignore[attr-defined]
                self._failed(error, method)
                return False

    def catch_up(self) -> bool:
        """Deliver everything the journal file holds past the last acknowledgement; True on success."""
        with self._lock:
            if self.state in ("broken", "done"):
                return self.state == "done"
            try:
                self._deliver_from_file()
                self._flush_and_acknowledge()
                return True
            except Exception as error:
                self._failed(error, "delivery")
                return False

    def _deliver_from_file(self) -> None:
        for record, end in read_records(self.journal.path, self._offset):
            if record["seq"] > self._delivered_seq:
                self._deliver(record, end)
            else:
                self._offset = end

    def _deliver(self, record: dict, end: int) -> None:
        try:
            self._deliver_one(record, end)
        except Exception as error:
            error.toolkit_method = METHODS.get(record["op"], record["op"])  # type: ignore[attr-defined]
            raise

    def _deliver_one(self, record: dict, end: int) -> None:
        op = record["op"]
        tracker = self.tracker
        if record.get("only", self.name) != self.name:
            op = "skip"  # another tracker's record (its cross-links to the others)
        elif op == "metrics":
            if self._metrics_take_time:
                tracker.log_metrics(record["values"], record["step"], timestamp=record["timestamp"])
            else:
                tracker.log_metrics(record["values"], record["step"])
            self._unflushed += len(record["values"])
        elif op == "params":
            tracker.log_params(record["values"])
        elif op == "tags":
            tracker.set_tags(record["tags"])
        elif op == "file":
            if not os.path.exists(record["path"]):
                warnings.warn(f"tracker {self.name!r}: file {record['path']!r} no longer exists; artifact "
                              f"{record['name']!r} is left out", TrackingWarning, stacklevel=2)
            else:
                tracker.log_file(record["name"], record["path"])
        elif op == "evaluation":
            with open(record["path"], "rb") as handle:
                report = pickle.load(handle)  # written by this toolkit into the run's own journal folder
            tracker.log_evaluation(report, record["step"])
        elif op == "end":
            self._flush_and_acknowledge()
            if self._finish_takes_time:
                tracker.finish(record["status"], end_time=int(record["time"] * 1000))
            else:
                tracker.finish(record["status"])
        kind, count = record_count(record)
        if kind is not None:
            self._unacked[kind] += count
        self._offset, self._delivered_seq = end, record["seq"]
        if op == "end":
            self._acknowledge()
            self.state = "done"
        elif self._flush is None or op != "metrics" or self._unflushed >= FLUSH_VALUES or (
                time.monotonic() - self._flushed_at >= FLUSH_SECONDS):
            self._flush_and_acknowledge()

    def _flush_and_acknowledge(self) -> None:
        if self._flush is not None:
            self._flush()
        self._unflushed = 0
        self._flushed_at = time.monotonic()
        self._acknowledge()

    def _acknowledge(self) -> None:
        if self._delivered_seq <= self._acked_seq:
            return
        self.journal.acknowledge(self.name, self._delivered_seq, self._offset)
        self._acked_seq, self._acked_offset = self._delivered_seq, self._offset
        for kind, count in self._unacked.items():
            self.acked[kind] += count
        self._unacked = dict.fromkeys(self.acked, 0)

    # --- failures -----------------------------------------------------------------------------------

    def _is_transient(self, error: BaseException) -> bool:
        judge = getattr(self.tracker, "is_transient", None)
        if callable(judge):
            try:
                return bool(judge(error))
            except Exception:
                return False
        return isinstance(error, (ConnectionError, TimeoutError))

    def _failed(self, error: BaseException, op: str) -> None:
        op = getattr(error, "toolkit_method", op)
        # Whatever the store did not acknowledge is offered again from the journal.
        self._offset, self._delivered_seq = self._acked_offset, self._acked_seq
        self._unacked = dict.fromkeys(self.acked, 0)
        self._unflushed = 0
        if self._is_transient(error):
            first = self.state == "live"
            self.state = "waiting"
            self.waiting_reason = describe_error(error)
            if first:
                warnings.warn(f"tracker {self.name!r} did not answer in {op} ({self.waiting_reason}); its "
                              "values wait in the run journal and are retried while the run goes on",
                              TrackingWarning, stacklevel=4)
            self._start_retrying()
            return
        self.state = "broken"
        self.broken = f"{op}: {describe_error(error)}"
        warnings.warn(f"tracker {self.name!r} failed in {op} ({describe_error(error)}); it is left out "
                      "for the rest of this run and the other trackers go on", TrackingWarning, stacklevel=4)
        if op != "finish":
            try:
                self.tracker.finish("FAILED")
            except Exception:
                pass  # it already broke; the summary reports the first failure

    def _start_retrying(self) -> None:
        if self._retry_thread is not None and self._retry_thread.is_alive():
            return
        self._retry_thread = threading.Thread(target=self._retry, name=f"toolkit-retry-{self.name}", daemon=True)
        self._retry_thread.start()

    def _retry(self) -> None:
        delay = FIRST_RETRY_SECONDS
        while not self._stop:
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop:
                return
            with self._lock:
                if self.state != "waiting":
                    return
                try:
                    self._deliver_from_file()
                    self._flush_and_acknowledge()
                except Exception as error:
                    self._failed(error, "retry")
                    if self.state != "waiting":
                        return
                    delay = min(delay * 2, MAX_RETRY_SECONDS)
                    continue
                if self.state == "waiting":
                    self.state = "live"
                    self.waiting_reason = None
                return

    def wait_until_done(self, deadline: float) -> None:
        """Block until the end record is delivered, the tracker broke, or ``deadline`` (monotonic)."""
        while self.state == "waiting" and time.monotonic() < deadline:
            thread = self._retry_thread
            if thread is None or not thread.is_alive():
                self._start_retrying()
                thread = self._retry_thread
            thread.join(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
        if self.state == "live":  # the end was appended while the retry thread handed over
            self.catch_up()

    def stop(self) -> None:
        """Stop retrying (the run gave up waiting); what is left stays in the journal."""
        self._stop = True
        self._wake.set()

    # --- what reached the store -----------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """What the journal holds that this tracker's store has not acknowledged, by kind."""
        counts: dict[str, int] = {}
        for record, _ in read_records(self.journal.path, self._acked_offset):
            kind, count = record_count(record)
            if kind is not None and record["seq"] > self._acked_seq:
                counts[kind] = counts.get(kind, 0) + count
        return counts
