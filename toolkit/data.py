"""Data sets for training: scikit-learn's bundled digits (the default), .npz and CSV files, IDX folders
(MNIST files a user has), Fashion-MNIST from Debian's package, and MNIST from Keras.

``load`` returns a :class:`Dataset` split into training and validation parts. Nothing is
downloaded except MNIST without a ``path`` (Keras' copy, SHA-256 checked; no Keras needed), and
only when its host answers within a few seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

BUILTIN = ("digits", "mnist", "fashion-mnist", "idx")
# Names that read a folder of IDX files given as ``path`` (optional for mnist and fashion-mnist).
FOLDER_NAMES = ("idx", "mnist", "fashion-mnist")
# Where the built-in data sets come from, as a run's dataset source says it.
BUILTIN_SOURCES = {"digits": "sklearn.datasets.load_digits", "mnist": "keras.datasets.mnist"}


@dataclass(frozen=True)
class Dataset:
    """Training and validation examples; ``x`` arrays keep their shape (images stay images)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_slices: Optional[dict] = None  # slice column -> one value per validation example (CSV slice_by)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    @property
    def source(self) -> str:
        """Where the examples came from: the file, or the code that loads a built-in data set."""
        return BUILTIN_SOURCES.get(self.name, self.name)

    @property
    def labels(self) -> list:
        return np.union1d(self.y_train, self.y_val).tolist()


def load(
    source: str,
    *,
    path: Optional[str] = None,
    validation_split: float = 0.2,
    seed: int = 0,
    label_column: str = "label",
    image_shape: Optional[tuple] = None,
    slice_by: Optional[list] = None,
) -> Dataset:
    """Load ``source``: "digits", "mnist", "fashion-mnist", "idx", or a path to a ``.npz`` or ``.csv`` file.

    :param path: for "idx" (required), "mnist" and "fashion-mnist": the folder holding the four
        IDX files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``, ``t10k-...``).
        "mnist" without it downloads through Keras; "fashion-mnist" without it reads Debian's
        ``dataset-fashion-mnist`` package, checked against the published MD5 checksums. These
        sets come split into training and test parts, which become training and validation.
    :param validation_split: the fraction held out for validation (ignored when the file has
        its own split: ``x_train``/``y_train``/``x_test``/``y_test`` in a ``.npz``).
    :param seed: the seed of the shuffle before the split.
    :param label_column: the CSV column holding the labels (every other column is a feature).
    :param image_shape: reshape each example to this shape (for example [28, 28, 1]).
    :param slice_by: CSV columns (kept as text, not features) whose values slice the validation
        metrics: ``Dataset.val_slices`` holds them for the validation examples.
    """
    if not isinstance(source, str) or not source:
        raise ValueError(f"data must be one of {', '.join(BUILTIN)} or a path to a .npz or .csv file, got {source!r}")
    if not isinstance(validation_split, (int, float)) or not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be a fraction between 0 and 1, got {validation_split!r}")
    if slice_by and not (isinstance(source, str) and source.lower().endswith(".csv")):
        raise ValueError(f"slice_by names columns of a CSV file; data {source!r} has no columns to slice by")
    if path is not None and source not in FOLDER_NAMES:
        raise ValueError(f"path is a folder of IDX files, for data {', '.join(FOLDER_NAMES)}; not for {source!r}")
    if source == "digits":
        x, y = _digits()
        return _split(source, x, y, validation_split, seed, image_shape)
    if source in FOLDER_NAMES and (path is not None or source == "fashion-mnist"):
        return _idx_folder(source, path, image_shape)
    if source == "idx":
        raise ValueError("data 'idx' needs path: the folder holding the IDX files")
    if source == "mnist":
        return _mnist(image_shape)
    if not os.path.exists(source):
        hint = f" (the built-in data sets are {', '.join(BUILTIN)})" if os.sep not in source and "." not in source else ""
        raise ValueError(f"data {source!r} is not a file{hint}")
    extension = os.path.splitext(source)[1].lower()
    if extension == ".npz":
        return _npz(source, validation_split, seed, image_shape)
    if extension == ".csv":
        x, y, slices = _csv(source, label_column, list(slice_by or ()))
        return _split(source, x, y, validation_split, seed, image_shape, slices)
    raise ValueError(f"data {source!r}: unsupported file type {extension!r}; use .npz or .csv")


def _digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ValueError("data 'digits' comes with scikit-learn: pip install scikit-learn") from None
    bunch = load_digits()
    # 8x8 grey images with values 0..16, as float images in [0, 1] with one channel.
    return (bunch.images / 16.0).astype("float32")[..., np.newaxis], bunch.target.astype(np.int64)


def _split(
    name: str, x: np.ndarray, y: np.ndarray, fraction: float, seed: int, image_shape: Optional[tuple],
    slices: Optional[dict] = None,
) -> Dataset:
    x = _reshape(x, image_shape)
    order = np.random.default_rng(seed).permutation(len(y))
    held_out = max(1, int(round(len(y) * fraction)))
    if held_out >= len(y):
        raise ValueError(f"data {name!r} has {len(y)} examples: too few to hold out {fraction:.0%} for validation")
    val, train = order[:held_out], order[held_out:]
    val_slices = {column: values[val] for column, values in slices.items()} if slices else None
    return Dataset(name, x[train], y[train], x[val], y[val], val_slices)


def _reshape(x: np.ndarray, image_shape: Optional[tuple]) -> np.ndarray:
    if image_shape is None:
        return x
    shape = tuple(int(size) for size in image_shape)
    if int(np.prod(shape)) != int(np.prod(x.shape[1:])):
        raise ValueError(
            f"image_shape {list(shape)} holds {int(np.prod(shape))} values, but each example "
            f"has {int(np.prod(x.shape[1:]))}"
        )
    return x.reshape((len(x), *shape))


def _npz(path: str, fraction: float, seed: int, image_shape: Optional[tuple]) -> Dataset:
    with np.load(path, allow_pickle=False) as arrays:
        keys = set(arrays.files)
        if {"x_train", "y_train", "x_test", "y_test"} <= keys:
            return Dataset(
                path, _reshape(arrays["x_train"], image_shape), arrays["y_train"],
                _reshape(arrays["x_test"], image_shape), arrays["y_test"],
            )
        if {"x", "y"} <= keys:
            x, y = arrays["x"], arrays["y"]
        else:
            raise ValueError(
                f"data {path!r} holds arrays {sorted(keys)}; expected x and y, "
                "or x_train, y_train, x_test and y_test"
            )
    if len(x) != len(y):
        raise ValueError(f"data {path!r}: x has {len(x)} examples but y has {len(y)}")
    return _split(path, x, y, fraction, seed, image_shape)


def _csv(path: str, label_column: str, slice_columns: list) -> tuple[np.ndarray, np.ndarray, dict]:
    """Features, labels, and the text of each slice column (not a feature)."""
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise ValueError(f"data {path!r} is empty")
        if label_column not in header:
            raise ValueError(f"data {path!r} has no column {label_column!r} (columns: {header[:8]}); set label_column")
        label_index = header.index(label_column)
        missing = [name for name in slice_columns if name not in header or name == label_column]
        if missing:
            raise ValueError(f"data {path!r} has no column {missing[0]!r} to slice by (columns: {header[:8]})")
        slice_indexes = {name: header.index(name) for name in slice_columns}
        kept = set(slice_indexes.values()) | {label_index}
        slices: dict = {name: [] for name in slice_columns}
        labels, rows = [], []
        for line_number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"data {path!r} line {line_number}: {len(row)} values, the header has {len(header)}")
            labels.append(row[label_index])
            for name, index in slice_indexes.items():
                slices[name].append(row[index])
            try:
                rows.append([float(value) for index, value in enumerate(row) if index not in kept])
            except ValueError as error:
                raise ValueError(f"data {path!r} line {line_number}: {error}") from None
    if not rows:
        raise ValueError(f"data {path!r} has a header but no examples")
    y = np.asarray(labels)
    try:
        y = y.astype(np.int64)
    except ValueError:
        pass  # string class names stay strings
    return np.asarray(rows, dtype="float32"), y, {name: np.asarray(values) for name, values in slices.items()}


def _idx_folder(source: str, folder: Optional[str], image_shape: Optional[tuple]) -> Dataset:
    from toolkit import fashion_mnist, idx

    if source == "fashion-mnist":
        arrays = fashion_mnist.load(folder)
    elif source == "mnist":
        arrays = idx.read_folder(folder, image_shape=(28, 28), classes=10)
    else:
        arrays = idx.read_folder(folder)
    return Dataset(
        source if folder is None else folder,
        _reshape(_as_images(arrays["x_train"]), image_shape), arrays["y_train"],
        _reshape(_as_images(arrays["x_test"]), image_shape), arrays["y_test"],
    )


def _as_images(x: np.ndarray) -> np.ndarray:
    """float32 images: bytes scaled to [0, 1], and a channel axis for (N, height, width) grey images."""
    images = (x / np.float32(255)).astype("float32") if x.dtype == np.uint8 else x.astype("float32")
    return images[..., np.newaxis] if images.ndim == 3 else images


def _mnist(image_shape: Optional[tuple]) -> Dataset:
    """MNIST as Keras keeps it (one .npz in ~/.keras/datasets), when a copy is there: nothing is
    downloaded at run time, so without one the error names the ways that need no download."""
    cached = os.path.join(os.path.expanduser("~"), ".keras", "datasets", "mnist.npz")
    if not os.path.exists(cached):
        raise ValueError(
            f"data 'mnist' without a path reads {cached}, which is not there, and no data set is "
            "downloaded at run time: give {name: mnist, path: DIR} with MNIST's IDX files, or use "
            "'fashion-mnist' (apt-get install dataset-fashion-mnist) or 'digits' (bundled with scikit-learn)"
        )
    with np.load(cached, allow_pickle=False) as arrays:
        x_train, y_train, x_test, y_test = (arrays[key] for key in ("x_train", "y_train", "x_test", "y_test"))
    return Dataset(
        "mnist", _reshape(_as_images(x_train), image_shape), y_train.astype(np.int64),
        _reshape(_as_images(x_test), image_shape), y_test.astype(np.int64),
    )
