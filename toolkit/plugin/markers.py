"""The pluggy markers of the project ``toolkit``: every hook and implementation uses these."""

import pluggy

PROJECT_NAME = "toolkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
