"""Finishing the runs of processes that are gone: deliver what their journal holds, then end them.

A run whose process was killed (SIGKILL, the OOM killer, a preempted machine) has no end record;
it ends KILLED at the time of its last heartbeat. A run that ended while a store was out has its
end record and ends with that status. Each tracker reopens its run (``resume``) and receives
what its store did not acknowledge, in order; the journal is deleted once every tracker has it all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from toolkit.tracking.delivery import Courier, describe_error
from toolkit.tracking.journal import Journal, JournalInfo, remove_journal


@dataclass
class TrackerOutcome:
    """What recovery did for one tracker: ``state`` is "done", "waiting", "broken" or "skipped"."""

    tracker: str
    state: str
    delivered: dict[str, int] = field(default_factory=dict)
    reason: Optional[str] = None
    where: str = ""
    stored: Optional[int] = None  # metric values the store holds, when the tracker read it back


@dataclass
class Recovery:
    """One journal's recovery: the status its runs ended with and each tracker's outcome."""

    info: JournalInfo
    status: str
    outcomes: list[TrackerOutcome] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(outcome.state == "done" for outcome in self.outcomes)


def ending_status(info: JournalInfo) -> str:
    """The status a recovered run ends with: its own end record's, else KILLED."""
    return info.end["status"] if info.end is not None else "KILLED"


def recover(info: JournalInfo, manager: Any, timeout: float) -> Optional[Recovery]:
    """Deliver ``info``'s journal to every tracker that lacks part of it, then end the runs.

    Returns None when the journal's process holds it again (it is alive after all). ``timeout``
    bounds the wait for a store that does not answer; what it did not take stays in the journal.
    """
    try:
        journal = Journal.reopen(info.path)
    except BlockingIOError:
        return None
    recovery = Recovery(info, ending_status(info))
    try:
        if info.end is None:  # killed: it ends at its last sign of life
            end, _, _ = journal.append("end", status="KILLED", time=info.last_time, recovered=True)
            journal.sync()
            info.end = end
        specs = manager.get_trackers()
        options = info.header.get("tracker_options") or {}
        deadline = time.monotonic() + timeout
        for name, link in info.links.items():
            if info.acks.get(name, (-1, 0))[0] >= info.end["seq"]:
                continue
            recovery.outcomes.append(_recover_tracker(name, link, specs.get(name), options.get(name, {}),
                                                      info, journal, deadline))
    finally:
        journal.close(remove=False)
    if recovery.complete:
        remove_journal(info.path)
    return recovery


def _recover_tracker(name: str, link: dict, spec: Any, options: dict, info: JournalInfo,
                     journal: Journal, deadline: float) -> TrackerOutcome:
    if spec is None:
        return TrackerOutcome(name, "skipped", reason=f"tracker {name!r} is not installed here")
    try:
        tracker = spec.factory(**options)
        if not callable(getattr(tracker, "resume", None)):
            return TrackerOutcome(name, "skipped", reason=f"tracker {name!r} cannot reopen a run (no resume method)")
        replay_all = tracker.resume(link["run_id"], link["location"])
    except Exception as error:
        return TrackerOutcome(name, "waiting", reason=f"could not reopen run {link['run_id']}: {describe_error(error)}")
    seq, offset = (-1, 0) if replay_all else info.acks.get(name, (-1, 0))
    courier = Courier(name, tracker, journal, offset=offset, seq=seq)
    courier.catch_up()
    courier.wait_until_done(deadline)
    courier.stop()
    try:
        where = tracker.describe()
    except Exception:
        where = link["location"]
    stored = getattr(tracker, "stored_values", None)
    return TrackerOutcome(name, courier.state, dict(courier.acked),
                          None if courier.state == "done" else courier.broken or courier.waiting_reason,
                          where, stored if isinstance(stored, int) else None)
