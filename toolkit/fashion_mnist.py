"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, checked against Zalando's published MD5s.

Debian ships Zalando's four ``.gz`` files re-packed: the same compressed data, but a gzip header
without the original file name and with another time stamp, so their MD5s differ from the
published ones (https://github.com/zalandoresearch/fashion-mnist#get-the-data). The check puts
Zalando's original header back in front of the compressed data and compares that byte stream's
MD5 with the published one: a single changed byte of data fails it, a re-packed header does not.
"""

from __future__ import annotations

import hashlib
import os
import struct
from typing import Optional

import numpy as np

from toolkit import idx

FOLDER = "/usr/share/datasets/fashion-mnist"
PACKAGE = "dataset-fashion-mnist"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SIZES = {"train": 60000, "test": 10000}
# File -> (published MD5 of Zalando's .gz file, the modification time in that file's gzip header).
PUBLISHED = {
    "train-images-idx3-ubyte.gz": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", 1504176606),
    "train-labels-idx1-ubyte.gz": ("25c81989df183df01b3e8a0aad5dffbe", 1504176606),
    "t10k-images-idx3-ubyte.gz": ("bef4ecab320f06d8554ea6380940ec79", 1504176627),
    "t10k-labels-idx1-ubyte.gz": ("bb300cfdad3c16e7a12a480ee83cd310", 1504176627),
}
# gzip header flags (RFC 1952) that are followed by optional fields.
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 0x02, 0x04, 0x08, 0x10


def load(folder: Optional[str] = None) -> dict[str, np.ndarray]:
    """``x_train``, ``y_train``, ``x_test``, ``y_test`` (uint8 images of 28x28, labels 0..9), verified."""
    folder = folder or FOLDER
    if not os.path.isdir(folder):
        hint = f"apt-get install {PACKAGE}" if folder == FOLDER else "point data.path at the four .gz files"
        raise ValueError(f"data 'fashion-mnist': {folder} is missing; {hint}")
    verify(folder)
    return idx.read_folder(folder, image_shape=(28, 28), classes=len(CLASSES), sizes=SIZES)


def verify(folder: str) -> None:
    """Raise ValueError unless each of the four files is Zalando's published one (see the module's note)."""
    for name, (published, mtime) in PUBLISHED.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise ValueError(f"data 'fashion-mnist': {path} is missing; reinstall {PACKAGE}")
        with open(path, "rb") as handle:
            content = handle.read()
        if hashlib.md5(content).hexdigest() == published:  # Zalando's file itself
            continue
        original = hashlib.md5(_original_header(name, mtime))
        original.update(memoryview(content)[_header_length(content, path):])
        if original.hexdigest() != published:
            raise ValueError(
                f"data 'fashion-mnist': {path} does not match the published MD5 {published}; the file is "
                f"damaged or not Fashion-MNIST: reinstall {PACKAGE}"
            )


def _original_header(name: str, mtime: int) -> bytes:
    """Zalando's gzip header: deflate, the FNAME flag, ``mtime``, no extra flags, OS Unix, the name."""
    return b"\x1f\x8b\x08" + bytes([_FNAME]) + struct.pack("<I", mtime) + b"\x00\x03" + name[:-3].encode() + b"\x00"


def _header_length(content: bytes, path: str) -> int:
    """The length of the gzip member header at the start of ``content`` (RFC 1952, section 2.3)."""
    if content[:3] != b"\x1f\x8b\x08":
        raise ValueError(f"data 'fashion-mnist': {path} is not a gzip file")
    flags, position = content[3], 10
    if flags & _FEXTRA:
        position += 2 + int.from_bytes(content[position:position + 2], "little")
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            position = content.index(b"\x00", position) + 1
    if flags & _FHCRC:
        position += 2
    return position
