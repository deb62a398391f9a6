"""PyYAML reading numbers as YAML 1.2 does: ``1e-3`` and ``5E+4`` are floats, not strings.

PyYAML implements YAML 1.1, whose floats need a dot (``1.0e-3``); YAML 1.2 (2009) and most
other tools read ``1e-3`` as a number, and it is the most common way to write a learning rate.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import IO, Any, Union

# YAML 1.2 core schema floats in exponent form without a dot, which YAML 1.1 leaves as strings.
EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+$")


@lru_cache(maxsize=1)
def loader() -> type:
    """A ``yaml.SafeLoader`` subclass that also resolves YAML 1.2 exponent floats."""
    import yaml

    class Yaml12SafeLoader(yaml.SafeLoader):
        """SafeLoader plus YAML 1.2's ``1e-3`` floats."""

    Yaml12SafeLoader.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789"))
    return Yaml12SafeLoader


def safe_load(stream: Union[str, IO[str]]) -> Any:
    """``yaml.safe_load`` with YAML 1.2 numbers."""
    import yaml

    return yaml.load(stream, Loader=loader())  # noqa: S506 - a SafeLoader subclass
