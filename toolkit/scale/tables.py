"""Prediction files read as tables of named columns, a bounded batch of rows at a time.

Parquet and CSV are read with pyarrow's streaming readers (only the columns asked for); a
``.npy`` file holding a structured array has its fields as columns; a folder of ``.npy`` files
is one table whose columns are the files (``y_true.npy``, ``y_score.npy``, ...), memory-mapped.
A column may be 2-D (a fixed-size list in Parquet, a 2-D ``.npy``): one score column per label.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, Iterator, Sequence, Union

import numpy as np

PathsArgument = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]
TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".csv.bz2", ".npy")
# CSV is read in blocks of this many bytes: its batches are sized by bytes, not rows.
CSV_BLOCK_BYTES = 8 << 20


def resolve_paths(paths: PathsArgument) -> list[Path]:
    """Files and ``.npy`` folders named by ``paths`` (paths or glob patterns), in sorted order per pattern."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    try:
        patterns = [os.fspath(path) for path in paths]
    except TypeError:
        raise ValueError(f"paths must be a path, a glob pattern or a list of them, got {paths!r}") from None
    if not patterns:
        raise ValueError("paths is empty: name at least one file")
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        matches = [Path(match) for match in matches if Path(match).exists()]
        if not matches:
            raise ValueError(f"paths: nothing matches {pattern!r}")
        found += matches
    for path in found:
        if path.is_dir():
            if not any(path.glob("*.npy")):
                raise ValueError(
                    f"paths: folder {str(path)!r} holds no .npy column files; for Parquet or CSV "
                    f"parts give a glob such as {str(path / '*.parquet')!r}"
                )
        elif not str(path).lower().endswith(TABLE_SUFFIXES):
            raise ValueError(f"paths: {str(path)!r} is not a {', '.join(TABLE_SUFFIXES)} file or a folder of .npy files")
    return found


def open_table(path: Path) -> "Table":
    name = str(path).lower()
    if path.is_dir():
        return NpyFolderTable(path)
    if name.endswith((".parquet", ".pq")):
        return ParquetTable(path)
    if name.endswith(".npy"):
        return NpyRecordTable(path)
    return CsvTable(path)


class Table:
    """A file of named columns, read ``rows`` at a time."""

    path: Path
    columns: list[str]

    def batches(self, names: Sequence[str], rows: int) -> Iterator[dict[str, np.ndarray]]:
        raise NotImplementedError


class ParquetTable(Table):
    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.columns = list(pq.read_schema(path).names)

    def batches(self, names: Sequence[str], rows: int) -> Iterator[dict[str, np.ndarray]]:
        import pyarrow.parquet as pq

        # Opened per pass and closed after it: an open reader keeps the file's bytes it has read.
        # pre_buffer=False: pyarrow would otherwise buffer whole row groups, growing with the file.
        with pq.ParquetFile(self.path, pre_buffer=False) as parquet_file:
            for batch in parquet_file.iter_batches(batch_size=rows, columns=list(names)):
                yield {name: _arrow_to_numpy(batch.column(name), name, self.path) for name in names}


class CsvTable(Table):
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._reader(None) as reader:
            self.columns = list(reader.schema.names)
        if len(self.columns) > 1 and self.columns[0] in ("", "Unnamed: 0"):
            self.columns = self.columns[1:]  # the index column pandas' to_csv writes: never a role's column

    def _reader(self, names: Any) -> Any:
        from pyarrow import csv

        return csv.open_csv(
            self.path, read_options=csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            convert_options=csv.ConvertOptions(include_columns=names),
        )

    def batches(self, names: Sequence[str], rows: int) -> Iterator[dict[str, np.ndarray]]:
        import pyarrow as pa

        with self._reader(list(names)) as reader:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except pa.ArrowInvalid as error:  # a value that does not fit the column's type
                    raise ValueError(f"{self.path}: {error}") from None
                yield {name: _arrow_to_numpy(batch.column(name), name, self.path) for name in names}


class NpyRecordTable(Table):
    """A ``.npy`` file holding a structured array: its fields are the columns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._array = np.load(path, mmap_mode="r")
        if self._array.dtype.names is None or self._array.ndim != 1:
            raise ValueError(
                f"paths: {str(path)!r} holds a plain array of shape {self._array.shape}; a .npy "
                "file in paths must hold a 1-D structured array (fields = columns), or put one "
                ".npy file per column in a folder and name the folder"
            )
        self.columns = list(self._array.dtype.names)

    def batches(self, names: Sequence[str], rows: int) -> Iterator[dict[str, np.ndarray]]:
        for start in range(0, self._array.shape[0], rows):
            chunk = self._array[start:start + rows]
            yield {name: np.array(chunk[name]) for name in names}


class NpyFolderTable(Table):
    """A folder of ``.npy`` files, one per column, all with the same number of rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._arrays = {file.stem: np.load(file, mmap_mode="r") for file in sorted(path.glob("*.npy"))}
        lengths = {name: array.shape[0] if array.ndim else 0 for name, array in self._arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"paths: the .npy files in {str(path)!r} differ in length: {lengths}")
        self.columns = list(self._arrays)

    def batches(self, names: Sequence[str], rows: int) -> Iterator[dict[str, np.ndarray]]:
        total = self._arrays[names[0]].shape[0]
        for start in range(0, total, rows):
            yield {name: np.array(self._arrays[name][start:start + rows]) for name in names}


def _arrow_to_numpy(column: Any, name: str, path: Path) -> np.ndarray:
    """A pyarrow column as numpy: labels as values, list columns as a 2-D array."""
    import pyarrow as pa

    if column.null_count:
        raise ValueError(f"{path}: column {name!r} has {column.null_count} missing values")
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.dictionary_decode()
    elif pa.types.is_fixed_size_list(kind):
        return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), kind.list_size)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        widths = np.unique(np.diff(column.offsets.to_numpy()))
        if widths.size > 1:
            raise ValueError(f"{path}: list column {name!r} holds lists of different lengths {widths.tolist()}")
        width = int(widths[0]) if widths.size else 0
        return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), width)
    return column.to_numpy(zero_copy_only=False)
