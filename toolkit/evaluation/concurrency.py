"""How many CPUs are idle this moment, and one helper thread for work that may run beside the caller's when one is."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, Callable, Optional

# From this many rows in a batch on, work is handed to the helper thread (a concurrent
# statistic's update, the checks of the scores): below it the hand-off (about 0.1 ms) costs more
# than running beside the caller saves.
CONCURRENT_MIN_ROWS = 200_000


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's or ``taskset``'s share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def running_threads() -> Optional[int]:
    """Threads running or ready to run on the machine this moment, the asking one included
    (Linux's /proc/loadavg); None where there is no such count."""
    try:
        with open("/proc/loadavg") as stats:
            return int(stats.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def idle_cpus() -> Optional[int]:
    """How many of the CPUs this process may use are idle at this moment besides the asking
    thread's: those CPUs less the ``running_threads``. The load average would take a minute to
    see a process that has just started, or stopped. None where there is no such count."""
    running = running_threads()
    return None if running is None else max(0, usable_cpus() - running)


def cpu_idle_now() -> bool:
    """Whether a CPU this process may use is idle at this moment besides the asking thread's
    (``idle_cpus``): a helper thread sharing a CPU with another process would hold the caller
    up. False where there is no such count (work then stays on the calling thread)."""
    return bool(idle_cpus())


def worth_handing_over(rows: int) -> bool:
    """Whether work on ``rows`` rows goes to the helper thread: enough rows to repay the
    hand-off, and a CPU idle this moment (measured with one CPU-bound process beside it on 2
    CPUs, handing work over anyway made ``evaluate`` at 1e6 rows 5-15% slower)."""
    return rows >= CONCURRENT_MIN_ROWS and cpu_idle_now()


@functools.lru_cache(maxsize=None)
def helper_thread() -> ThreadPoolExecutor:
    """The helper thread, started on first use, once per process; it waits on a queue while idle."""
    return ThreadPoolExecutor(1, thread_name_prefix="toolkit-statistics")


if hasattr(os, "register_at_fork"):  # a forked child has no helper thread: it starts its own
    os.register_at_fork(after_in_child=helper_thread.cache_clear)


class HelperTask:
    """``function(*args)`` handed to the helper thread at once, to run while the caller does
    other work (when ``worth_handing_over``); ``outcome`` takes it back to run on the calling
    thread when the helper has not begun it (busy with another task, or called from the helper
    itself), so the caller never waits for a task that is not running."""

    def __init__(self, function: Callable[..., Any], *args: Any):
        self._call = functools.partial(function, *args)
        self._future = helper_thread().submit(self._call)

    def outcome(self) -> Any:
        """The task's result (or its error), from the helper or, if it had not begun, from here."""
        if self._future.cancel():
            return self._call()
        return self._future.result()

    def drop(self) -> None:
        """Cancels the task if it has not begun, else waits for it to end: nothing runs on."""
        if not self._future.cancel():
            wait([self._future])
