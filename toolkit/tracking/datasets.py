"""Describing a run's data sets for trackers: a digest of the arrays' bytes (never copying them) and a schema."""

from __future__ import annotations

import hashlib
from typing import Any, Optional

import numpy as np

from toolkit.plugin.types import DatasetDescription

# Non-contiguous arrays are hashed this many bytes at a time, so at most one chunk is ever copied.
_CHUNK_BYTES = 1 << 24
DATASET_CONTEXTS = ("training", "validation", "evaluation")


def digest(*arrays: Any) -> str:
    """A 32-hex-digit BLAKE2b digest of the arrays' dtypes, shapes and bytes, in one pass over each.

    Contiguous arrays are read in place through the buffer protocol; others are hashed a chunk
    of rows at a time. Text and object labels are hashed through their text form.
    """
    hasher = hashlib.blake2b(digest_size=16)
    for array in arrays:
        array = np.asarray(array)
        hasher.update(f"{array.dtype.str}{array.shape};".encode())
        if array.dtype.kind == "O":
            hasher.update("\x1f".join(map(str, array.ravel().tolist())).encode())
        elif array.flags.c_contiguous:
            hasher.update(array.reshape(-1).view(np.uint8))
        else:
            rows = max(1, _CHUNK_BYTES // max(1, array[:1].nbytes))
            for start in range(0, len(array), rows):
                hasher.update(np.ascontiguousarray(array[start:start + rows]).data)
    return hasher.hexdigest()


def describe(name: str, x: Any, y: Any, *, source: Optional[str] = None, context: str = "training") -> DatasetDescription:
    """The :class:`DatasetDescription` of examples ``x`` with labels ``y`` (the arrays are kept by reference)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string naming the data set, got {name!r}")
    if context not in DATASET_CONTEXTS:
        raise ValueError(f"context must be one of {DATASET_CONTEXTS}, got {context!r}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    schema = {"features": {"dtype": x.dtype.name, "shape": [-1, *x.shape[1:]]},
              "targets": {"dtype": y.dtype.name, "shape": [-1, *y.shape[1:]]}}
    return DatasetDescription(name=name, digest=digest(x, y), source=source or name, context=context,
                              rows=int(len(x)), schema=schema, features=x, targets=y)
