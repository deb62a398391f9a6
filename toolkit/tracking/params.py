"""Params as every tracker receives them: plain values, secrets redacted, nested keys flattened to dots.

A value whose text is longer than MLflow's limit is not truncated: the caller saves it whole as an
artifact and the param holds a marker pointing there (the same for every tracker).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from toolkit.tracking.redaction import redact

# MLflow's limit on a param value (mlflow.utils.validation.MAX_PARAM_VAL_LENGTH), the stricter store.
MAX_PARAM_LENGTH = 6000
LONG_VALUE_FOLDER = "params"
# A long value's file: up to 200 characters of its key and 12 hex digits (48 bits) of the key's
# SHA-256, well inside the 255 bytes a file name may take.
MAX_READABLE_NAME = 200
KEY_HASH_LENGTH = 12


@dataclass(frozen=True)
class PreparedParams:
    """Flattened, redacted params ready for trackers, and the long values to save as artifacts.

    ``values`` maps each dotted key to a plain value (str, int, float, bool, None or a list of
    those); ``long_values`` maps the keys whose text exceeded :data:`MAX_PARAM_LENGTH` to the
    whole text and ``artifact_names`` to the artifact file that holds it.
    """

    values: dict[str, Any]
    long_values: dict[str, str] = field(default_factory=dict)
    artifact_names: dict[str, str] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """``value`` as JSON-like Python data: numpy scalars and arrays, paths, sets and objects converted."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item) for item in value), key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return plain(item())
    to_list = getattr(value, "tolist", None)  # numpy arrays
    if callable(to_list):
        return plain(to_list())
    return str(value)


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys: ``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``.

    Two spellings that land on one key (``"a.b"`` and ``{"a": {"b": ...}}``) are a ValueError.
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            items = flatten(value, f"{name}.").items()
        else:
            items = [(name, {} if isinstance(value, Mapping) else value)]
        for flat_key, flat_value in items:
            if flat_key in flat:
                raise ValueError(
                    f"params: two entries flatten to the same key {flat_key!r} (a dotted key and a "
                    "nested mapping spell the same name); rename one of them"
                )
            flat[flat_key] = flat_value
    return flat


def param_text(value: Any) -> str:
    """The text a string-only store (MLflow) keeps for a param value."""
    return str(value)


def prepare_params(params: Optional[Mapping[str, Any]]) -> PreparedParams:
    """Check, convert, redact and flatten ``params``; long values are set aside with a marker."""
    if params is None:
        return PreparedParams({})
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        params = dataclasses.asdict(params)
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of names to values, got {type(params).__name__}")
    flat = flatten(redact(plain(params)))
    values: dict[str, Any] = {}
    long_values: dict[str, str] = {}
    artifact_names: dict[str, str] = {}
    for key, value in flat.items():
        if isinstance(value, float) and math.isinf(value):
            value = str(value)  # W&B's config is JSON, which has no infinity
        text = param_text(value)
        if len(text) > MAX_PARAM_LENGTH:
            artifact = f"{LONG_VALUE_FOLDER}/{_file_name(key)}.txt"
            long_values[key] = text
            artifact_names[key] = artifact
            value = f"<{len(text)} characters, saved whole as artifact {artifact}>"
        values[key] = value
    return PreparedParams(values, long_values, artifact_names)


def _file_name(key: str) -> str:
    """A readable, file-system-safe file name for ``key``, unique to it.

    Sanitising and shortening make different keys look alike (``a/b`` and ``a_b``, two keys
    sharing their first 200 characters), so a short hash of the whole key goes in the name.
    """
    readable = re.sub(r"[^A-Za-z0-9_.\-]", "_", key)[:MAX_READABLE_NAME]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:KEY_HASH_LENGTH]
    return f"{readable}-{digest}"
