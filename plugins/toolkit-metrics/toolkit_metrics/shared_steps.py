"""Steps of tasks run by the calling thread and one helper thread, each task taken by whichever is free."""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

Task = Callable[[], None]


def run_steps(steps: Sequence[Sequence[Task]]) -> None:
    """Runs each step's tasks (independent of each other; a step may use the ones before it) on
    this thread and the helper thread. A task is taken by the first free thread, so when the
    helper is not running (another process holds the other CPU) this thread does the work itself
    rather than wait for it; it waits only for a task the helper has started. Raises the first
    task's error."""
    shared = _Steps(steps)
    _helper().submit(shared.work)
    shared.work()
    if shared.error is not None:
        raise shared.error


class _Steps:
    """The steps, how many tasks of each have been taken and finished, and the first error."""

    def __init__(self, steps: Sequence[Sequence[Task]]):
        self.steps = steps
        self.lock = threading.Lock()
        self.taken = [0] * len(steps)
        self.unfinished = [len(tasks) for tasks in steps]
        self.finished = [threading.Event() for _ in steps]
        for step, tasks in enumerate(steps):
            if not tasks:
                self.finished[step].set()
        self.error: BaseException | None = None

    def work(self) -> None:
        for step, tasks in enumerate(self.steps):
            while self.error is None:
                with self.lock:
                    index = self.taken[step]
                    self.taken[step] += 1
                if index >= len(tasks):
                    break
                try:
                    tasks[index]()
                except BaseException as error:  # handed to the calling thread, which raises it
                    self.error = error
                    for event in self.finished:
                        event.set()  # no thread waits for the steps that will not run
                    return
                with self.lock:
                    self.unfinished[step] -= 1
                    if not self.unfinished[step]:
                        self.finished[step].set()
            self.finished[step].wait()
            if self.error is not None:
                return


@functools.lru_cache(maxsize=None)
def _helper() -> ThreadPoolExecutor:
    """The helper thread, started once per process (starting and joining one per call costs
    about a tenth of splitting a column of 1e6 scores). It waits on a queue while idle."""
    return ThreadPoolExecutor(1, thread_name_prefix="toolkit-steps")


if hasattr(os, "register_at_fork"):  # a forked child has no helper thread: it starts its own
    os.register_at_fork(after_in_child=_helper.cache_clear)
