"""SIGTERM ends a command the way Ctrl-C does: the open run is marked KILLED, not left RUNNING."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator


class Terminated(SystemExit):
    """Raised in the main thread when the process receives SIGTERM; exits with 128 + 15."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(128 + signal_number)
        self.signal_number = signal_number

    def __str__(self) -> str:
        return f"terminated by signal {signal.Signals(self.signal_number).name}"


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Inside the block, SIGTERM raises :class:`Terminated` so every ``with Run`` unwinds.

    A handler someone else installed (a tracker's own) is left alone, and the previous
    handler comes back afterwards.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        yield
        return

    def handle(signal_number: int, frame: Any) -> None:
        raise Terminated(signal_number)

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
