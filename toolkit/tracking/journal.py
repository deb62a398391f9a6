"""The run journal: an append-only file per run that every value reaches before any tracker.

A run writes each param, metric, tag, file reference, evaluation and status change here first,
as one JSON line; trackers are fed from it (:mod:`toolkit.tracking.delivery`) and acknowledge
what reached their store in a ``.acks`` file beside it. So a killed process, a store that stops
answering or a full disk never loses a value: whatever a store has not acknowledged waits in
the journal until ``toolkit recover`` delivers it.

Where: ``.toolkit/journal/`` in the working directory, or ``TOOLKIT_JOURNAL_DIR``. Each run has
``<id>.jsonl`` (the records), ``<id>.acks`` (one line per acknowledgement) and, when needed, a
folder ``<id>/`` (long param values, evaluations). A journal whose every tracker acknowledged the
end record is deleted; the others stay until ``toolkit recover`` finishes them.

Durability: every record is written to the operating system at once, so a killed process (even
SIGKILL) loses nothing; the file is fsync'd before the run reports anything (params, an epoch,
an evaluation, the end) and at least every :data:`SYNC_SECONDS` while values stream in, so a
machine that loses power loses at most that last second of unreported values.

Liveness: the running process holds an exclusive ``flock`` on its journal and touches it every
:data:`HEARTBEAT_SECONDS` (its modification time is the last heartbeat). A journal without an end
delivered everywhere whose lock is free belongs to a process that is gone; a journal written on
another host counts as gone once its heartbeat is older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

JOURNAL_DIR_ENV = "TOOLKIT_JOURNAL_DIR"
DEFAULT_JOURNAL_DIR = os.path.join(".toolkit", "journal")
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
SYNC_SECONDS = 1.0
SUFFIX = ".jsonl"
# Record kinds that carry something for a tracker, and what each one counts as in a summary.
COUNTED = {"params": "params", "metrics": "values", "evaluation": "evaluations", "file": "files"}


class JournalError(OSError):
    """The journal could not be written (a full disk, a folder that is not writable)."""


def journal_folder(folder: Optional[str] = None) -> str:
    """The journal folder: ``folder``, else ``TOOLKIT_JOURNAL_DIR``, else ``./.toolkit/journal``."""
    return os.path.abspath(folder or os.environ.get(JOURNAL_DIR_ENV) or DEFAULT_JOURNAL_DIR)


def record_count(record: dict) -> tuple[Optional[str], int]:
    """What ``record`` counts as in a summary: ("values", 10) for ten metric values, (None, 0) for none."""
    kind = COUNTED.get(record.get("op"))
    if kind is None:
        return None, 0
    if kind == "params":
        return kind, len(record["values"])
    if kind == "values":
        return kind, len(record["values"])
    return kind, 1


class Journal:
    """The writing side: one per live run, holding the journal's lock until :meth:`close`."""

    def __init__(self, path: str, descriptor: int) -> None:
        self.path = path
        self._descriptor = descriptor
        self._lock = threading.Lock()
        self._acks_lock = threading.Lock()
        self._acks: Optional[int] = None
        self.seq = 0
        self.offset = 0
        self._synced_at = time.monotonic()
        self._stop = threading.Event()
        self._heartbeat: Optional[threading.Thread] = None

    @classmethod
    def create(cls, folder: Optional[str], header: dict) -> "Journal":
        """A new journal in ``folder`` whose first record (``open``) holds ``header``, the process
        id, host and start time; locked and heart-beating from here on."""
        folder = journal_folder(folder)
        name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]
        path = os.path.join(folder, name + SUFFIX)
        try:
            os.makedirs(folder, exist_ok=True)
            # Created under another name and renamed once locked, so a scanner never sees an
            # unlocked journal of a live run.
            descriptor = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            raise JournalError(f"cannot create the run journal in {folder}: {error.strerror or error}") from error
        journal = cls(path, descriptor)
        journal.append("open", pid=os.getpid(), host=socket.gethostname(), cwd=os.getcwd(), **header)
        journal.sync()
        os.rename(path + ".new", path)
        journal._heartbeat = threading.Thread(target=journal._beat, name="toolkit-journal-heartbeat", daemon=True)
        journal._heartbeat.start()
        return journal

    @classmethod
    def reopen(cls, path: str) -> "Journal":
        """Take over the journal of a process that is gone (for ``toolkit recover``).

        Raises ``BlockingIOError`` while another process holds it. A torn last line is cut off.
        """
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(descriptor)
            raise
        journal = cls(path, descriptor)
        for record, end in read_records(path):
            journal.seq, journal.offset = record["seq"] + 1, end
        os.ftruncate(descriptor, journal.offset)
        return journal

    @property
    def side_folder(self) -> str:
        """A folder for what does not fit a line (long param values, evaluations), made on demand."""
        folder = self.path[: -len(SUFFIX)]
        os.makedirs(folder, exist_ok=True)
        return folder

    def append(self, op: str, **fields: Any) -> tuple[dict, int, int]:
        """Write one record; returns it with its start and end offsets in the file."""
        with self._lock:
            record = {"seq": self.seq, "op": op, "time": time.time(), **fields}
            data = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
            start = self.offset
            try:
                written = os.write(self._descriptor, data)
                while written < len(data):  # a regular file takes it all at once; this is belt and braces
                    written += os.write(self._descriptor, data[written:])
            except OSError as error:
                raise JournalError(f"cannot write the run journal {self.path}: {error.strerror or error}") from error
            self.offset += len(data)
            self.seq += 1
        return record, start, self.offset

    def sync(self) -> None:
        """Make everything appended so far survive a power loss."""
        try:
            os.fsync(self._descriptor)
        except OSError as error:
            raise JournalError(f"cannot write the run journal {self.path}: {error.strerror or error}") from error
        self._synced_at = time.monotonic()

    def sync_if_due(self) -> None:
        if time.monotonic() - self._synced_at >= SYNC_SECONDS:
            self.sync()

    def acknowledge(self, tracker: str, seq: int, offset: int) -> None:
        """Note that ``tracker``'s store holds every record up to ``seq`` (ending at ``offset``).

        Not fsync'd: a lost acknowledgement only means a record is offered again, which the
        trackers take without duplicating (see :mod:`toolkit.tracking.delivery`).
        """
        line = (json.dumps({"tracker": tracker, "seq": seq, "offset": offset}) + "\n").encode("utf-8")
        with self._acks_lock:
            if self._acks is None:  # opened once: a tracker without flush() acknowledges every record
                self._acks = os.open(acks_path(self.path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.write(self._acks, line)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                os.utime(self.path)
            except OSError:
                return

    def close(self, remove: bool) -> None:
        """Stop the heartbeat and release the lock; ``remove`` deletes the journal (all delivered)."""
        self._stop.set()
        if remove:
            remove_journal(self.path)
        for descriptor in (self._acks, self._descriptor):
            try:
                if descriptor is not None:
                    os.close(descriptor)
            except OSError:
                pass
        self._acks = None


def acks_path(path: str) -> str:
    return path[: -len(SUFFIX)] + ".acks"


def remove_journal(path: str) -> None:
    for file in (path, acks_path(path)):
        try:
            os.remove(file)
        except FileNotFoundError:
            pass
    shutil.rmtree(path[: -len(SUFFIX)], ignore_errors=True)


def read_records(path: str, offset: int = 0) -> Iterator[tuple[dict, int]]:
    """Each record from byte ``offset`` on, with the offset where it ends; a torn last line (a
    process killed mid-write) is left out. Reads line by line: memory stays bounded."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        for line in handle:
            if not line.endswith(b"\n"):
                return
            offset += len(line)
            yield json.loads(line), offset


def read_acks(path: str) -> dict[str, tuple[int, int]]:
    """tracker -> (seq, offset) of the last record its store acknowledged."""
    acks: dict[str, tuple[int, int]] = {}
    try:
        with open(acks_path(path), encoding="utf-8") as handle:
            for line in handle:
                if line.endswith("\n"):
                    entry = json.loads(line)
                    acks[entry["tracker"]] = (entry["seq"], entry["offset"])
    except FileNotFoundError:
        pass
    return acks


@dataclass
class JournalInfo:
    """What one journal says about its run, read back from disk."""

    path: str
    header: dict
    links: dict[str, dict] = field(default_factory=dict)  # tracker -> its "link" record
    end: Optional[dict] = None  # the "end" record, None while the run has not ended
    last_seq: int = -1
    last_time: float = 0.0  # the last heartbeat or record, whichever is later
    acks: dict[str, tuple[int, int]] = field(default_factory=dict)
    pending: dict[str, dict[str, int]] = field(default_factory=dict)  # tracker -> kind -> count

    @property
    def name(self) -> str:
        return self.header.get("name") or "(unnamed)"

    def run_ids(self) -> dict[str, str]:
        return {tracker: link["run_id"] for tracker, link in self.links.items()}

    def complete(self) -> bool:
        """The run ended and every tracker acknowledged the end record."""
        return self.end is not None and all(
            self.acks.get(tracker, (-1, 0))[0] >= self.end["seq"] for tracker in self.links)

    def pending_total(self, tracker: str) -> int:
        return sum(self.pending.get(tracker, {}).values())


def read_info(path: str) -> JournalInfo:
    """Read a journal whole: its header, links, end, acknowledgements and what each tracker lacks."""
    records = read_records(path)
    try:
        header, _ = next(records)
    except StopIteration:
        raise ValueError(f"{path} is empty: not a run journal") from None
    info = JournalInfo(path, header, acks=read_acks(path), last_time=header["time"])
    for record, _ in records:
        info.last_seq, info.last_time = record["seq"], record["time"]
        if record["op"] == "link":
            info.links[record["tracker"]] = record
            info.pending[record["tracker"]] = {}
        elif record["op"] == "end":
            info.end = record
        kind, count = record_count(record)
        if kind is not None:
            for tracker, link in info.links.items():
                if record["seq"] > info.acks.get(tracker, (-1, 0))[0]:
                    info.pending[tracker][kind] = info.pending[tracker].get(kind, 0) + count
    try:
        info.last_time = max(info.last_time, os.path.getmtime(path))
    except OSError:
        pass
    return info


def is_locked(path: str) -> bool:
    """True while a live process holds the journal's lock."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def is_alive(info: JournalInfo) -> bool:
    """The journal's process still runs (its lock is held; on another host: a fresh heartbeat)."""
    if info.header.get("host") != socket.gethostname():
        return time.time() - info.last_time < STALE_SECONDS
    return is_locked(info.path)


def find_journals(folder: Optional[str] = None) -> list[str]:
    """Every journal in ``folder`` (default: :func:`journal_folder`), oldest first."""
    return sorted(glob.glob(os.path.join(journal_folder(folder), "*" + SUFFIX)))


def dead_runs(folder: Optional[str] = None) -> list[JournalInfo]:
    """The journals whose process is gone and whose trackers still lack something (or the end)."""
    found = []
    for path in find_journals(folder):
        try:
            info = read_info(path)
        except (ValueError, OSError):
            continue  # deleted meanwhile, or not a journal
        if not info.complete() and not is_alive(info):
            found.append(info)
    return found


# What compare and report show instead of RUNNING for a run of a dead process.
DEAD_STATUS = "dead, run `toolkit recover`"


def dead_run_ids(folder: Optional[str] = None) -> set[str]:
    """Every tracker run id (MLflow's, W&B's, ...) of :func:`dead_runs`."""
    return {run_id for info in dead_runs(folder) for run_id in info.run_ids().values()}


def is_dead(run_id: str, folder: Optional[str] = None) -> bool:
    """True when a tracker's run ``run_id`` belongs to a process that is gone without ending it
    everywhere: ``toolkit recover`` will deliver what it holds and end it."""
    return run_id in dead_run_ids(folder)
