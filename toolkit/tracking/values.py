"""One value policy for every store: keys both MLflow and W&B accept, NaN kept, infinities refused.

MLflow silently turns +-inf into +-1.797e308 and refuses some characters in keys; W&B keeps
infinity as a string. Applying one policy before either store is written keeps them identical.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from typing import Any, Mapping

# Both stores accept letters, digits, _ - . / and space; everything else is replaced by "_".
_OUTSIDE_ALLOWED = re.compile(r"[^A-Za-z0-9_\-./ ]")
# MLflow's limit on a key (mlflow.utils.validation.MAX_ENTITY_KEY_LENGTH).
MAX_KEY_LENGTH = 250


class TrackingWarning(UserWarning):
    """A value or key was changed or refused on its way to the trackers."""


def safe_key(key: str) -> str:
    """``key`` mapped to the set both stores accept; the result is ``key`` itself when already valid.

    MLflow also treats a key as a path, so empty, ``.`` and ``..`` segments and leading or
    trailing slashes are removed; keys longer than 250 characters are cut and given a hash
    suffix so that distinct long keys stay distinct.
    """
    text = _OUTSIDE_ALLOWED.sub("_", key)
    segments = ["_" if segment in (".", "..") else segment for segment in text.split("/") if segment]
    text = "/".join(segments) or "_"
    if text.startswith(".."):  # MLflow refuses a key that starts like a parent path, even "..0"
        text = "_" + text[1:]
    if len(text) > MAX_KEY_LENGTH:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
        text = f"{text[:MAX_KEY_LENGTH - 9]}-{digest}"
    return text


class KeyMap:
    """Maps a run's keys to safe keys, once per key, and reports every renaming.

    ``renamed`` holds original -> recorded key for every key that changed; two different keys
    that map to the same safe key are kept apart with a numeric suffix.
    """

    def __init__(self) -> None:
        self.renamed: dict[str, str] = {}
        self._mapped: dict[str, str] = {}
        self._owner: dict[str, str] = {}

    def __call__(self, key: Any, kind: str = "metric") -> str:
        key = str(key)
        mapped = self._mapped.get(key)
        if mapped is not None:
            return mapped
        mapped = safe_key(key)
        suffix = 2
        base = mapped
        while self._owner.get(mapped, key) != key:
            mapped = f"{base[:MAX_KEY_LENGTH - 6]}_{suffix}"
            suffix += 1
        self._mapped[key] = mapped
        self._owner[mapped] = key
        if mapped != key:
            self.renamed[key] = mapped
            warnings.warn(
                f"{kind} key {key!r} is recorded as {mapped!r}: trackers accept only letters, "
                "digits, _ - . / and space in keys, without empty, '.' or '..' path segments",
                TrackingWarning, stacklevel=5,
            )
        return mapped


def clean_metrics(metrics: Mapping[Any, Any], keys: KeyMap) -> dict[str, float]:
    """``metrics`` with safe keys and float values; NaN is kept, +-inf and non-numbers are refused.

    Every refusal is a :class:`TrackingWarning` naming the key; the other values go on.
    """
    if not isinstance(metrics, Mapping):
        raise ValueError(f"metrics must be a mapping of names to numbers, got {type(metrics).__name__}")
    clean: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, str):
            number = None
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = None
        if number is None:
            warnings.warn(f"metric {key!r} is not a number ({type(value).__name__} {value!r:.40}); "
                          "it is not recorded", TrackingWarning, stacklevel=4)
            continue
        if math.isinf(number):
            warnings.warn(f"metric {key!r} is {number}, which is not recorded: MLflow would store "
                          "it as +-1.797e308 and W&B as text", TrackingWarning, stacklevel=4)
            continue
        clean[keys(key, "metric")] = number
    return clean
