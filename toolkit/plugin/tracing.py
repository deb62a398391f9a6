"""Hook-call tracing for plugin authors: every hook call, each plugin that answered, and its time.

Turned on by ``TOOLKIT_TRACE_PLUGINS=1`` (or ``toolkit --trace-plugins``); written to stderr.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Optional, TextIO

TRACE_ENVIRONMENT_VARIABLE = "TOOLKIT_TRACE_PLUGINS"
PREFIX = "[toolkit trace]"
_OFF = {"", "0", "false", "no", "off"}


def tracing_requested(environ: Optional[dict] = None) -> bool:
    """True when ``TOOLKIT_TRACE_PLUGINS`` is set to anything but 0/false/no/off."""
    value = (environ if environ is not None else os.environ).get(TRACE_ENVIRONMENT_VARIABLE, "")
    return value.strip().lower() not in _OFF


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    if text.startswith("<") and " object at 0x" in text:  # the default repr: its address says nothing
        text = f"<{type(value).__qualname__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


class HookTracer:
    """Writes one block per hook call: the call, its total time, then each implementation called.

    pluggy's hook-call monitoring sees a call as a whole; to time each plugin and see what it
    returned, every implementation's function is wrapped once, the first time its hook is traced.
    """

    def __init__(self, manager: Any, stream: Optional[TextIO] = None) -> None:
        self.manager = manager
        self.stream = stream
        self._calls: list[list] = []  # a stack: a hook implementation may call another hook

    def write(self, line: str) -> None:
        print(f"{PREFIX} {line}", file=self.stream or sys.stderr, flush=True)

    def describe_plugins(self) -> None:
        for name, plugin in self.manager.list_name_plugin():
            if plugin is not None:
                hooks = sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or ())
                self.write(f"plugin {name} ({self.manager.distribution_of(name)}) implements: "
                           f"{', '.join(hooks) or 'no hook'}")
        blocked = [name for name, plugin in self.manager.list_name_plugin() if plugin is None]
        if blocked:
            self.write(f"plugins blocked: {', '.join(sorted(blocked))}")
        for broken in self.manager.broken:
            self.write(f"plugin left out: {broken}")

    def _wrap(self, implementation: Any) -> None:
        if getattr(implementation.function, "_toolkit_traced", False) or implementation.hookwrapper \
                or implementation.wrapper:
            return
        original: Callable[..., Any] = implementation.function
        calls = self._calls
        plugin_name = implementation.plugin_name

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            except BaseException as error:
                if calls:
                    calls[-1].append((plugin_name, time.perf_counter() - started, f"raised {error!r}"))
                raise
            if calls:
                calls[-1].append((plugin_name, time.perf_counter() - started, result))
            return result

        timed._toolkit_traced = True  # type: ignore[attr-defined]
        implementation.function = timed  # HookImpl.function is what pluggy calls

    def before(self, hook_name: str, implementations: list, kwargs: dict) -> None:
        for implementation in implementations:
            self._wrap(implementation)
        self._calls.append([time.perf_counter()])

    def after(self, outcome: Any, hook_name: str, implementations: list, kwargs: dict) -> None:
        started, *answers = self._calls.pop()
        elapsed = (time.perf_counter() - started) * 1000
        arguments = ", ".join(f"{key}={_short(value, 40)}" for key, value in kwargs.items())
        if not implementations:
            self.write(f"{hook_name}({arguments}): {elapsed:.2f} ms, no plugin implements it")
            return
        failed = outcome.exception is not None
        status = f"raised {outcome.exception!r}" if failed else f"-> {_short(outcome.get_result())}"
        self.write(f"{hook_name}({arguments}): {elapsed:.2f} ms, {len(implementations)} "
                   f"implementation(s), {status}")
        called = {name for name, _, _ in answers}
        for plugin_name, seconds, result in answers:
            distribution = self.manager.distribution_of(plugin_name)
            shown = result if isinstance(result, str) and result.startswith("raised ") else f"-> {_short(result)}"
            self.write(f"  {plugin_name} ({distribution}): {seconds * 1000:.2f} ms {shown}")
        skipped = [implementation.plugin_name for implementation in implementations
                   if implementation.plugin_name not in called and not (implementation.hookwrapper
                                                                          or implementation.wrapper)]
        if skipped:
            self.write(f"  not called (a result came first, or a plugin raised): {', '.join(skipped)}")


def trace_hook_calls(manager: Any, stream: Optional[TextIO] = None) -> Callable[[], None]:
    """Trace every hook call of ``manager`` to ``stream`` (stderr); returns the undo function."""
    tracer = HookTracer(manager, stream)
    tracer.describe_plugins()
    return manager.add_hookcall_monitoring(tracer.before, tracer.after)


def trace_if_requested(manager: Any) -> None:
    """Install the tracer when ``TOOLKIT_TRACE_PLUGINS`` asks for it."""
    if tracing_requested():
        trace_hook_calls(manager)
