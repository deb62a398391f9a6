"""Sliced metrics: which examples of a batch belong to which slice, and the names slices go by.

A slice is the examples sharing a value of a slice column (``region=north``), or of several
columns crossed (``region=north,device=ios``). The engine keeps one set of statistics per
slice, fed from each batch after grouping its rows once per slicing (a stable sort on the slice
codes, so each slice's rows keep their order). Names:

* ``result.slices`` keys: ``"region=north"``, crossed ``"region=north,device=ios"`` (columns in
  the order given to ``slice_by``);
* tracker keys: ``slice/<column>/<value>/<metric>`` (crossed: ``slice/region/north/device/ios/
  <metric>``): MLflow refuses ``=`` and ``,`` in metric names, so each ``column=value`` pair is two
  path segments. Characters trackers refuse (anything but letters, digits, ``_ - .`` and space,
  and ``/`` inside a value) become ``_``; two values that would share a key are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import numpy as np

from toolkit.evaluation import inputs

PREFIX = "slice/"
_OUTSIDE_SEGMENT = re.compile(r"[^A-Za-z0-9_\-. ]")

SliceByArgument = Union[None, str, Sequence[str], Mapping[str, Any]]
CrossArgument = Union[bool, Sequence[Sequence[str]]]


def segment(text: str) -> str:
    """``text`` as one tracker key segment: characters trackers refuse (and ``/``) become ``_``."""
    text = _OUTSIDE_SEGMENT.sub("_", text)
    return "_" if text in ("", ".", "..") else text


def argument(column: str) -> str:
    """How errors (and sources' role names) call a slice column: ``slice_by['region']``."""
    return f"slice_by[{column!r}]"


def value_text(value: Any) -> str:
    """A slice value as it appears in slice names: ``north``, ``3``, ``True``."""
    return str(value.item() if isinstance(value, np.generic) else value)


@dataclass(frozen=True)
class Slicing:
    """The slice columns (in the order given) and the slicings made of them: each column alone,
    then each crossing asked for."""

    columns: tuple[str, ...]
    slicings: tuple[tuple[str, ...], ...]

    def groups(self, values: Mapping[str, Any], n: int) -> list[tuple[tuple[str, ...], np.ndarray, list]]:
        """For each slicing: its columns, the row order that groups the batch by slice, and one
        ``(pairs, start, stop)`` per slice present (``pairs``: ``((column, value), ...)``).

        ``values`` maps each slice column to its ``n`` values; everything is checked first.
        """
        arrays = check_values(values, self.columns, n)
        encoded = {column: _encode(arrays[column]) for column in self.columns}
        grouped = []
        for columns in self.slicings:
            codes = [encoded[column][1].reshape(-1) for column in columns]
            dims = [len(encoded[column][0]) for column in columns]
            if len(codes) == 1:  # np.unique's codes: every value present, numbered densely
                present, slice_codes = np.arange(dims[0]), codes[0]
            else:  # the crossings present in this batch, numbered densely
                present, slice_codes = _dense(np.ravel_multi_index(codes, dims), math.prod(dims))
            order = np.argsort(_narrowest(slice_codes, len(present)), kind="stable")
            bounds = np.concatenate(([0], np.cumsum(np.bincount(slice_codes, minlength=len(present)))))
            each = np.unravel_index(present, dims) if len(codes) > 1 else (present,)
            slices = []
            for index in range(len(present)):
                pairs = tuple((column, encoded[column][0][int(each[position][index])].item())
                              for position, column in enumerate(columns))
                slices.append((pairs, int(bounds[index]), int(bounds[index + 1])))
            grouped.append((columns, order, slices))
        return grouped


def _encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``; for integers, booleans and strings, found by
    binary search among the values of a sample of rows (several times faster than sorting them
    all), then checked: when a row holds a value the sample missed, by sorting after all."""
    if values.dtype.kind in "iubUS":
        sample = np.unique(values[:: max(1, values.shape[0] // 2048)])
        positions = np.minimum(np.searchsorted(sample, values), len(sample) - 1)
        if (sample[positions] == values).all():
            return sample, positions
    present, positions = np.unique(values, return_inverse=True)
    return present, positions.reshape(-1)


def _dense(codes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The codes (0 to ``count`` - 1) present, and each code's position among them: what
    ``np.unique(codes, return_inverse=True)`` gives, by counting instead of sorting when the
    codes span no more than a few times the batch."""
    if count > 4 * codes.shape[0] + 1024:
        present, positions = np.unique(codes, return_inverse=True)
        return present, positions.reshape(-1)
    present = np.flatnonzero(np.bincount(codes, minlength=count))
    position = np.zeros(count, dtype=np.intp)
    position[present] = np.arange(len(present))
    return present, position[codes]


def _narrowest(codes: np.ndarray, count: int) -> np.ndarray:
    """``codes`` (0 to ``count`` - 1) in the narrowest unsigned type: numpy sorts 8- and 16-bit
    integers stably by radix, several times faster than 64-bit ones."""
    for dtype in (np.uint8, np.uint16):
        if count <= np.iinfo(dtype).max + 1:
            return codes.astype(dtype)
    return codes


def check_slice_by(slice_by: SliceByArgument, cross_slices: CrossArgument = False) -> Optional[Slicing]:
    """The slicing ``slice_by`` (column names, or a mapping whose keys are the names) and
    ``cross_slices`` ask for; None without slices. ValueError naming the argument otherwise.

    ``cross_slices``: False (each column alone), True (also every column crossed with the others,
    as one slicing) or a list of column tuples to cross (``[("region", "device")]``).
    """
    if slice_by is None or (isinstance(slice_by, (Mapping, list, tuple)) and not slice_by):
        if cross_slices:
            raise ValueError("cross_slices needs slice_by: there are no slice columns to cross")
        return None
    names = [slice_by] if isinstance(slice_by, str) else list(slice_by)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"slice_by: slice names must be non-empty strings, got {name!r}")
        if any(character in name for character in "=,/"):
            raise ValueError(f"slice_by: slice name {name!r} may not hold '=', ',' or '/' (they separate "
                             "slice names, values and metrics)")
    if len(set(names)) != len(names):
        raise ValueError(f"slice_by names a column twice: {names}")
    columns = tuple(names)
    segments = [segment(name) for name in columns]
    if len(set(segments)) != len(segments):
        raise ValueError(f"slice_by: names {list(columns)} would share a tracker key; rename them")
    slicings = [(column,) for column in columns]
    if cross_slices is True:
        if len(columns) < 2:
            raise ValueError(f"cross_slices=True needs two or more slice_by columns, got {list(columns)}")
        slicings.append(columns)
    elif cross_slices not in (False, None):
        if isinstance(cross_slices, str) or not isinstance(cross_slices, Sequence):
            raise ValueError(f"cross_slices must be True, False or a list of column tuples such as "
                             f"[('region', 'device')], got {cross_slices!r}")
        for crossing in cross_slices:
            crossing = (crossing,) if isinstance(crossing, str) else tuple(crossing)
            unknown = [name for name in crossing if name not in columns]
            if unknown or len(crossing) < 2 or len(set(crossing)) != len(crossing):
                raise ValueError(f"cross_slices: {crossing!r} must name two or more distinct slice_by columns "
                                 f"({list(columns)})")
            if crossing not in slicings:
                slicings.append(crossing)
    return Slicing(columns, tuple(slicings))


def check_values(values: Any, columns: Sequence[str], n: int) -> dict[str, np.ndarray]:
    """Each slice column's ``n`` values for one batch, as 1-D arrays (missing values refused)."""
    if not isinstance(values, Mapping):
        raise ValueError(f"slices must be a mapping of slice name -> values, one per example; got "
                         f"{type(values).__name__}")
    unknown = sorted(set(values) - set(columns))
    missing = [column for column in columns if column not in values]
    if unknown or missing:
        raise ValueError(f"slices must give exactly the slice columns {list(columns)}; "
                         + (f"unknown: {unknown} " if unknown else "") + (f"missing: {missing}" if missing else ""))
    arrays = {}
    for column in columns:
        array = inputs.as_label_array(values[column], argument(column))
        if array.shape[0] != n:
            raise ValueError(f"{argument(column)} has {array.shape[0]} values but y_true has {n}")
        arrays[column] = array
    return arrays


def slice_name(pairs: Sequence[tuple[str, Any]]) -> str:
    """``"region=north"``, or ``"region=north,device=ios"`` for a crossing."""
    return ",".join(f"{column}={value_text(value)}" for column, value in pairs)


def tracker_prefix(pairs: Sequence[tuple[str, Any]]) -> str:
    """``"slice/region/north/"``: the start of every tracker key of this slice's metrics."""
    return PREFIX + "".join(f"{segment(column)}/{segment(value_text(value))}/" for column, value in pairs)


def sort_key(pairs: Sequence[tuple[str, Any]]) -> tuple:
    """Slices ordered by value within a slicing, numbers before text, whatever order batches came in."""
    return tuple((isinstance(value, str), value) for _, value in pairs)


class SliceResults(Mapping):
    """``result.slices``: slice name (``"region=north"``) -> that slice's EvaluationResult, in
    slicing order (each column, then each crossing), values sorted within each."""

    def __init__(self, slicing: Optional[Slicing] = None, entries: Sequence[tuple[tuple, Any]] = ()) -> None:
        self.slicing = slicing
        self._pairs = {slice_name(pairs): tuple(pairs) for pairs, _ in entries}
        self._results = {slice_name(pairs): result for pairs, result in entries}

    def __getitem__(self, name: str) -> Any:
        return self._results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        return f"SliceResults({list(self._results)})"

    def pairs(self, name: str) -> tuple:
        """``((column, value), ...)`` of the slice called ``name``."""
        return self._pairs[name]

    def of(self, columns: Sequence[str]) -> dict[str, Any]:
        """The slices of one slicing (``("region",)`` or a crossing), name -> result."""
        wanted = tuple(columns)
        return {name: result for name, result in self._results.items()
                if tuple(column for column, _ in self._pairs[name]) == wanted}

    def tracker_metrics(self) -> dict[str, float]:
        """Every slice's logged metrics (intervals included) under ``slice/<column>/<value>/<metric>``."""
        logged: dict[str, float] = {}
        for name, result in self._results.items():
            prefix = tracker_prefix(self._pairs[name])
            logged.update({prefix + key: value for key, value in result.logged_metrics().items()})
        return logged


def parse_tracker_key(key: str, metric_keys: Sequence[str]) -> Optional[tuple[tuple[tuple[str, str], ...], str]]:
    """``(((column, value), ...), metric)`` for a recorded key ``slice/<column>/<value>/.../<metric>``,
    where ``metric`` is the longest of ``metric_keys`` that ends it; None for any other key."""
    if not key.startswith(PREFIX):
        return None
    rest = key[len(PREFIX):]
    for metric in sorted(metric_keys, key=len, reverse=True):
        if rest.endswith("/" + metric):
            parts = rest[: -len(metric) - 1].split("/")
            if len(parts) >= 2 and len(parts) % 2 == 0:
                return tuple(zip(parts[0::2], parts[1::2])), metric
    return None
