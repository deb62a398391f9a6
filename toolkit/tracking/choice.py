"""Which trackers a run records to when nobody names any: configuration, never code.

In order: the ``TOOLKIT_TRACKERS`` environment variable (comma-separated names, empty for none),
else every installed tracker whose plugin declares ``TrackerSpec(default=True)``. A config file's
``trackers:`` key and a ``trackers=`` argument always win over both.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

TRACKERS_ENVIRONMENT_VARIABLE = "TOOLKIT_TRACKERS"


def default_tracker_names(manager: Any, environ: Optional[Mapping[str, str]] = None) -> list[str]:
    """The trackers to record to when none are named (see the module's docstring)."""
    environ = os.environ if environ is None else environ
    installed = manager.get_trackers()
    if TRACKERS_ENVIRONMENT_VARIABLE in environ:
        names = [name.strip() for name in environ[TRACKERS_ENVIRONMENT_VARIABLE].split(",") if name.strip()]
        unknown = [name for name in names if name not in installed]
        if unknown:
            raise ValueError(f"{TRACKERS_ENVIRONMENT_VARIABLE} names unknown tracker(s) {unknown}; "
                             f"installed: {sorted(installed) or 'none'}")
        return names
    return [name for name, spec in installed.items() if spec.default]
