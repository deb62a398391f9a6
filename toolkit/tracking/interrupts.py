"""Runs end as KILLED on SIGTERM/SIGINT and as FAILED on an unhandled exception, never left RUNNING.

While at least one run is active, SIGTERM raises :class:`Terminated` (a ``SystemExit`` with the
shell's code 128 + signal) and SIGINT raises ``KeyboardInterrupt`` in the main thread, so the
run's ``with`` block, or the exit hook below, can close every tracker. A handler the program set
itself is left alone. Without a ``with`` block, an unhandled exception is seen through
``sys.excepthook`` and the run is closed from ``atexit``. Everything is restored when the last
active run ends.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from typing import Any, Callable, Optional, Protocol


class Terminated(SystemExit):
    """Raised in the main thread when SIGTERM arrives during a run; exits with 128 + signal."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(128 + signal_number)
        self.signal_number = signal_number

    def __str__(self) -> str:
        return f"terminated by signal {signal.Signals(self.signal_number).name}"


class GuardedRun(Protocol):
    finishing: bool

    def note_signal(self, signal_number: int) -> None: ...

    def note_unhandled(self, error: BaseException) -> None: ...

    def end_at_exit(self) -> None: ...


_lock = threading.RLock()
_active: list[GuardedRun] = []
_previous_handlers: dict[int, Any] = {}
_previous_excepthook: Optional[Callable[..., Any]] = None
_pending_signal: Optional[int] = None
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _default_handler_of(signal_number: int) -> Any:
    return signal.default_int_handler if signal_number == signal.SIGINT else signal.SIG_DFL


def _on_signal(signal_number: int, frame: Any) -> None:
    global _pending_signal
    runs = list(_active)
    for run in runs:
        run.note_signal(signal_number)
    if any(run.finishing for run in runs):
        _pending_signal = signal_number  # raised once the trackers are closed, see raise_pending()
        return
    raise_for(signal_number)


def raise_for(signal_number: int) -> None:
    """Raise what the signal means: KeyboardInterrupt for SIGINT, :class:`Terminated` otherwise."""
    if signal_number == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signal_number)


def raise_pending() -> None:
    """Re-raise a signal that arrived while trackers were being closed."""
    global _pending_signal
    with _lock:
        pending, _pending_signal = _pending_signal, None
    if pending is not None:
        raise_for(pending)


def _on_unhandled(exc_type: type, error: BaseException, traceback: Any) -> None:
    for run in list(_active):
        run.note_unhandled(error)
    previous = _previous_excepthook or sys.__excepthook__
    previous(exc_type, error, traceback)


def _at_exit() -> None:
    for run in list(_active):
        run.end_at_exit()


def activate(run: GuardedRun) -> None:
    """Guard ``run`` until :func:`deactivate`; the first active run installs the handlers."""
    global _previous_excepthook
    with _lock:
        if run in _active:
            return
        _active.append(run)
        # Re-registering puts this hook last, so it runs before the hooks trackers registered
        # (atexit runs last-in first-out): the run closes its trackers while they still work.
        atexit.unregister(_at_exit)
        atexit.register(_at_exit)
        if len(_active) > 1:
            return
        if threading.current_thread() is threading.main_thread():
            for signal_number in _SIGNALS:
                current = signal.getsignal(signal_number)
                if current is _default_handler_of(signal_number):
                    _previous_handlers[signal_number] = current
                    signal.signal(signal_number, _on_signal)
        _previous_excepthook = sys.excepthook
        sys.excepthook = _on_unhandled


def deactivate(run: GuardedRun) -> None:
    """Stop guarding ``run``; the last one restores the previous handlers."""
    global _previous_excepthook
    with _lock:
        if run in _active:
            _active.remove(run)
        if _active:
            return
        if threading.current_thread() is threading.main_thread():
            for signal_number, previous in list(_previous_handlers.items()):
                if signal.getsignal(signal_number) is _on_signal:
                    signal.signal(signal_number, previous)
                del _previous_handlers[signal_number]
        if sys.excepthook is _on_unhandled:
            sys.excepthook = _previous_excepthook or sys.__excepthook__
        _previous_excepthook = None
