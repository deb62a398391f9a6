"""The IDX file format of MNIST and Fashion-MNIST: reading one file, and a folder of the four usual files.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian 32-bit size per dimension, then the values in C order, big-endian
(http://yann.lecun.com/exdb/mnist/ describes it). Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import os
from typing import Optional

import numpy as np

# IDX type code -> big-endian NumPy type.
TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"
# The four files of an MNIST-style folder: (part, kind) -> the file name's stem.
SPLITS = {"train": "train", "test": "t10k"}
KINDS = {"images": 3, "labels": 1}


class IdxFormatError(ValueError):
    """A file that is not a valid IDX file, or a folder whose IDX files do not fit together."""


def read(path: str) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (gzip-compressed or not), in native byte order."""
    if not os.path.isfile(path):
        raise IdxFormatError(f"IDX file {path!r} does not exist")
    with open(path, "rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as handle:
            content = handle.read()
    except (OSError, EOFError) as error:  # a truncated or corrupt gzip stream
        raise IdxFormatError(f"IDX file {path!r}: cannot be decompressed ({error})") from None
    return parse(content, path)


def parse(content: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array in ``content``, the bytes of an (uncompressed) IDX file; ``name`` goes in errors."""
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in TYPES:
        raise IdxFormatError(
            f"IDX file {name!r}: magic number {content[:4].hex() or 'missing'} is not an IDX header "
            "(00 00, a type code 08/09/0b/0c/0d/0e, the number of dimensions)"
        )
    dtype, dimensions = np.dtype(TYPES[content[2]]), content[3]
    if dimensions == 0:
        raise IdxFormatError(f"IDX file {name!r}: the header declares 0 dimensions")
    header = 4 + 4 * dimensions
    if len(content) < header:
        raise IdxFormatError(f"IDX file {name!r}: the header is cut short ({len(content)} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(content, ">u4", count=dimensions, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) - header != expected:
        raise IdxFormatError(
            f"IDX file {name!r}: the header declares shape {shape} of {dtype.name} "
            f"({expected} bytes of data) but the file holds {len(content) - header}"
        )
    values = np.frombuffer(content, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def find(folder: str, split: str, kind: str) -> str:
    """The path of ``split`` ("train" or "test") ``kind`` ("images" or "labels") in an MNIST-style folder.

    Accepts the usual names with or without ``.gz``: ``train-images-idx3-ubyte`` and
    ``train-images.idx3-ubyte`` (the spelling of some copies).
    """
    stem, rank = SPLITS[split], KINDS[kind]
    candidates = [f"{stem}-{kind}{separator}idx{rank}-ubyte{suffix}"
                  for separator in ("-", ".") for suffix in ("", ".gz")]
    for candidate in candidates:
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise IdxFormatError(
        f"IDX folder {folder!r} has no {split} {kind} file; expected {candidates[0]} or {candidates[1]}"
    )


def read_folder(
    folder: str, *, image_shape: Optional[tuple] = None, classes: Optional[int] = None,
    sizes: Optional[dict] = None,
) -> dict[str, np.ndarray]:
    """``x_train``, ``y_train``, ``x_test``, ``y_test`` from the four IDX files in ``folder``.

    Labels must be one integer per image, and non-negative. The optional checks:
    ``image_shape`` each image's shape (28x28 for MNIST), ``classes`` labels in 0..classes-1,
    ``sizes`` the number of examples per split (``{"train": 60000, "test": 10000}``).
    """
    if not os.path.isdir(folder):
        raise IdxFormatError(f"IDX folder {folder!r} does not exist or is not a folder")
    arrays = {}
    for split in SPLITS:
        images_path, labels_path = find(folder, split, "images"), find(folder, split, "labels")
        images, labels = read(images_path), read(labels_path)
        if images.ndim < 2:
            raise IdxFormatError(f"IDX file {images_path!r}: images need 2 or more dimensions, got shape {images.shape}")
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise IdxFormatError(
                f"IDX file {labels_path!r}: labels must be 1-D integers, got {labels.dtype.name} of shape {labels.shape}"
            )
        if len(images) != len(labels):
            raise IdxFormatError(
                f"IDX folder {folder!r}: {os.path.basename(images_path)} holds {len(images)} images "
                f"but {os.path.basename(labels_path)} holds {len(labels)} labels"
            )
        if image_shape is not None and tuple(images.shape[1:]) != tuple(image_shape):
            raise IdxFormatError(
                f"IDX file {images_path!r}: images of shape {images.shape[1:]}, expected {tuple(image_shape)}"
            )
        if sizes is not None and len(images) != sizes[split]:
            raise IdxFormatError(
                f"IDX file {images_path!r}: {len(images)} {split} images, expected {sizes[split]}"
            )
        highest = classes - 1 if classes is not None else None
        outside = labels[(labels < 0) | (labels > highest)] if highest is not None else labels[labels < 0]
        if len(outside):
            allowed = f"0..{highest}" if highest is not None else "non-negative"
            raise IdxFormatError(
                f"IDX file {labels_path!r}: label {int(outside[0])} is outside the allowed range {allowed}"
            )
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, labels.astype(np.int64)
    return arrays
