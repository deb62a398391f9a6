"""Saved labels and scores (.npy or .csv) read for ``toolkit evaluate``, CSV headers and pandas index columns recognised.

A CSV may come from pandas' ``to_csv``: an index column (header ``""`` or ``"Unnamed: 0"``) is
skipped, and a header row of numbers (pandas names columns 0, 1, 2, ...) is read as a header
when it cannot be data, or when it is the one extra row compared with the other files. Where a
file could be read two ways, the command stops and names the columns it saw.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass, field
from typing import Mapping, Optional, TextIO

import numpy as np

# First header cells that pandas writes for its index column (a Series/DataFrame without index=False).
PANDAS_INDEX_HEADERS = ("", "Unnamed: 0")


@dataclass
class _Csv:
    """One CSV file's rows, with what is known of its first row."""

    argument: str
    path: str
    labels: bool
    rows: list
    header: Optional[list] = None          # a first row known to be column names
    maybe_header: bool = False             # a first row of numbers that might be column names
    notes: list = field(default_factory=list)


def read_prediction_files(paths: Mapping[str, tuple[str, bool]],
                          stream: Optional[TextIO] = None) -> dict[str, np.ndarray]:
    """argument -> array for each ``argument: (path, holds_labels)``; notes on what was skipped go to
    ``stream`` (default: the sys.stderr of the moment, not the one at import)."""
    stream = stream or sys.stderr
    arrays: dict[str, np.ndarray] = {}
    tables: list[_Csv] = []
    for argument, (path, labels) in paths.items():
        loaded = _load(path, argument, labels)
        if isinstance(loaded, np.ndarray):
            arrays[argument] = loaded
        else:
            tables.append(loaded)
    _settle_numeric_headers(tables, [len(array) for array in arrays.values() if np.ndim(array)])
    for table in tables:
        arrays[table.argument] = _to_array(table)
        for note in table.notes:
            print(f"note: {table.argument} {table.path!r}: {note}", file=stream)
    return {argument: arrays[argument] for argument in paths}


def _load(path: str, argument: str, labels: bool):
    if not os.path.isfile(path):
        raise ValueError(f"{argument} {path!r} is not a file")
    extension = os.path.splitext(path)[1].lower()
    if extension == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"{argument} {path!r} is not a plain .npy array: {error}") from None
    if extension != ".csv":
        raise ValueError(f"{argument} {path!r}: use a .npy or .csv file, not {extension or 'no extension'}")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise ValueError(f"{argument} {path!r} has no values")
    table = _Csv(argument, path, labels, rows)
    _read_first_row(table)
    if not table.rows:
        raise ValueError(f"{argument} {path!r} has a header but no values")
    width = len(table.rows[0])
    if any(len(row) != width for row in table.rows):
        raise ValueError(f"{argument} {path!r}: rows have different numbers of values")
    if table.header is None and not table.maybe_header:
        _refuse_unnamed_index(table)
    return table


def _read_first_row(table: _Csv) -> None:
    """Decide what the first row is: a pandas header with an index column, a header, maybe a header, or data."""
    first, rest = table.rows[0], table.rows[1:]
    if len(first) > 1 and first[0] in PANDAS_INDEX_HEADERS:
        table.header, table.rows = first[1:], [row[1:] for row in rest]
        table.notes.append(f"skipped the first column (header {first[0]!r}): an index column written by pandas")
        return
    if not all(_is_number(cell) for cell in first):
        # words over numbers, or words over scores, are a header; words over words (string
        # labels) might be a label like any other: the row counts decide
        if not table.labels or (rest and all(_is_number(cell) for cell in rest[0])):
            table.header, table.rows = first, rest
        else:
            table.maybe_header = True
        return
    if _column_numbers(first):
        # "0,1,2": pandas' names for unnamed columns; as scores it cannot be a row of probabilities
        if not table.labels and len(first) > 2 and not _column_numbers(rest[0] if rest else []):
            table.header, table.rows = first, rest
            table.notes.append(f"read the first row {first} as a header (column names)")
        else:
            table.maybe_header = True


def _column_numbers(row: list) -> bool:
    """True for a row reading 0, 1, ..., K-1 (or 1..K) as whole numbers: how pandas names columns."""
    if not row or not all(cell.strip().lstrip("-").isdigit() for cell in row):
        return False
    numbers = [int(cell) for cell in row]
    return numbers in (list(range(len(row))), list(range(1, len(row) + 1)))


def _settle_numeric_headers(tables: list[_Csv], known_lengths: list[int]) -> None:
    """A first row that might be a header is one when its file has exactly one row more than the
    others. When no other file can tell, a one-column file reads it as data (a first label 0 is
    common) and a file of several columns stops the command: "0,1" may be names or probabilities."""
    settled = [len(table.rows) for table in tables if not table.maybe_header] + known_lengths
    for table in tables:
        if not table.maybe_header:
            continue
        others = set(settled)
        if others == {len(table.rows) - 1}:
            table.header, table.rows = table.rows[0], table.rows[1:]
            table.notes.append(f"read the first row {table.header} as a header (column names): "
                               "the file has one row more than the others")
        elif not others and len(table.rows[0]) > 1:  # (a lone "0" or "1" first is read as a label)
            firsts = {other.argument: other.rows[0] for other in tables}
            raise ValueError(
                f"{table.argument} {table.path!r}: cannot tell whether the first rows {firsts} are headers "
                "or data (every file has one); write the files with named columns (a header of words) "
                "or without a header"
            )
        table.maybe_header = False
        _refuse_unnamed_index(table)


def _refuse_unnamed_index(table: _Csv) -> None:
    """Without a header, a first column 0, 1, ..., N-1 is most likely pandas' index: ask, don't guess."""
    if table.header is not None or len(table.rows[0]) < 2 or len(table.rows) < 3:
        return
    first_column = [row[0] for row in table.rows]
    if _column_numbers(first_column) and first_column[0] == "0":
        raise ValueError(
            f"{table.argument} {table.path!r}: the first of its {len(table.rows[0])} columns holds 0, 1, 2, ... "
            f"{len(table.rows) - 1}, like the row index pandas writes; columns seen: {table.rows[0]} (first row). "
            "Write the file with to_csv(index=False), or with a header row so the index column is recognised"
        )


def _to_array(table: _Csv) -> np.ndarray:
    rows, width = table.rows, len(table.rows[0])
    if all(_is_number(cell) for row in rows for cell in row):
        array = np.asarray([[float(cell) for cell in row] for row in rows])
        if table.labels and np.all(array == np.round(array)):
            array = array.astype(np.int64)
    elif table.labels:
        array = np.asarray(rows)
    else:
        raise ValueError(f"{table.argument} {table.path!r} holds values that are not numbers")
    return array[:, 0] if width == 1 else array


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
