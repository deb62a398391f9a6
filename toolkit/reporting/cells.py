"""How a report's table cell shows a value: escaped text, numbers to four decimals, counts whole."""

from __future__ import annotations

import html
import math
from typing import Any, Optional


def text(value: Any) -> str:
    return html.escape(str(value), quote=True)


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Optional[float], digits: int = 4, count: bool = False) -> str:
    """Four decimals; ``count`` values (examples, support, cells) as integers when they are whole."""
    if missing(value):
        return "n/a"
    if count and float(value).is_integer():
        return f"{int(value):d}"
    return f"{value:.{digits}f}"
