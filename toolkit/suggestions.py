"""The "did you mean ...?" hint for a mistyped name, shared by every error that lists known names."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean 'accuracy'? "`` for the closest of ``known`` to ``name``, or ``""`` if none is close."""
    close = difflib.get_close_matches(str(name), [str(item) for item in known], n=1)
    return f"did you mean {close[0]!r}? " if close else ""
