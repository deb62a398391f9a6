"""IDX files (MNIST's format): read back exactly, gzip or not; every malformed file named with its problem."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from toolkit import data, fashion_mnist, idx

# Written here from the format's description, independently of toolkit.idx.
TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    kind = array.dtype.str[1:]
    header = bytes([0, 0, TYPE_CODES[kind], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">" + kind).tobytes()


def write(path, array: np.ndarray, compress: bool = False) -> str:
    content = idx_bytes(array)
    path = str(path) + (".gz" if compress else "")
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as handle:
        handle.write(content)
    return path


def mnist_folder(folder, train=12, test=5, shape=(28, 28), classes=10, compress=True, seed=0):
    """Four small IDX files named as MNIST's, with their arrays."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for split, stem, count in (("train", "train", train), ("test", "t10k", test)):
        images = rng.integers(0, 256, (count, *shape), dtype=np.uint8)
        labels = (np.arange(count) % classes).astype(np.uint8)
        write(os.path.join(folder, f"{stem}-images-idx3-ubyte"), images, compress)
        write(os.path.join(folder, f"{stem}-labels-idx1-ubyte"), labels, compress)
        arrays[split] = (images, labels)
    return arrays


@settings(max_examples=40, deadline=None)
@given(array=hnp.arrays(st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
                        hnp.array_shapes(min_dims=1, max_dims=4, max_side=5)),
       compress=st.booleans())
def test_any_array_is_read_back_exactly(tmp_path_factory, array, compress):
    path = write(tmp_path_factory.mktemp("idx") / "array-idx", array, compress)
    back = idx.read(path)
    assert back.shape == array.shape and back.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00\x08", "magic number 000008 is not an IDX header"),
    (b"\x12\x34\x08\x01" + b"\x00" * 8, "magic number 12340801 is not an IDX header"),
    (b"\x00\x00\x07\x01" + b"\x00" * 8, "magic number 00000701 is not an IDX header"),
    (b"\x00\x00\x08\x00", "declares 0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "the header is cut short"),
    (idx_bytes(np.zeros((3, 4), np.uint8))[:-1], r"shape \(3, 4\) of uint8 \(12 bytes of data\) but the file holds 11"),
    (idx_bytes(np.zeros(3, np.int32)) + b"\x00", r"\(12 bytes of data\) but the file holds 13"),
])
def test_malformed_files_are_named_with_their_problem(tmp_path, content, message):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(idx.IdxFormatError, match=message) as caught:
        idx.read(str(path))
    assert str(path) in str(caught.value) and isinstance(caught.value, ValueError)


def test_a_truncated_gzip_file_is_named(tmp_path):
    path = write(tmp_path / "labels-idx1-ubyte", np.arange(500, dtype=np.uint8), compress=True)
    with open(path, "rb") as handle:
        content = handle.read()
    with open(path, "wb") as handle:
        handle.write(content[: len(content) // 2])
    with pytest.raises(idx.IdxFormatError, match="cannot be decompressed"):
        idx.read(path)


@pytest.mark.parametrize("compress", [True, False])
def test_an_idx_folder_is_a_dataset_of_float_images_with_its_own_split(tmp_path, compress):
    arrays = mnist_folder(tmp_path, shape=(6, 5), classes=3, compress=compress)
    dataset = data.load("idx", path=str(tmp_path))
    assert dataset.input_shape == (6, 5, 1) and dataset.x_train.dtype == np.float32
    np.testing.assert_array_equal(dataset.x_train[..., 0], arrays["train"][0] / np.float32(255))
    np.testing.assert_array_equal(dataset.y_train, arrays["train"][1])
    np.testing.assert_array_equal(dataset.x_val[..., 0] * 255, arrays["test"][0])
    np.testing.assert_array_equal(dataset.y_val, arrays["test"][1])
    assert dataset.labels == [0, 1, 2]


def test_the_dotted_file_names_of_some_mnist_copies_are_found(tmp_path):
    mnist_folder(tmp_path, compress=False)
    for name in os.listdir(tmp_path):
        os.rename(tmp_path / name, tmp_path / name.replace("s-idx", "s.idx"))
    assert data.load("mnist", path=str(tmp_path)).input_shape == (28, 28, 1)


def test_mnist_files_must_be_28x28_with_labels_0_to_9(tmp_path):
    mnist_folder(tmp_path / "small", shape=(8, 8))
    with pytest.raises(idx.IdxFormatError, match=r"images of shape \(8, 8\), expected \(28, 28\)"):
        data.load("mnist", path=str(tmp_path / "small"))
    assert data.load("idx", path=str(tmp_path / "small")).input_shape == (8, 8, 1)  # any shape for idx
    mnist_folder(tmp_path / "eleven", classes=11, train=12)
    with pytest.raises(idx.IdxFormatError, match=r"t.*labels-idx1-ubyte.gz': label 10 is outside the allowed range 0..9"):
        data.load("mnist", path=str(tmp_path / "eleven"))


def test_folders_that_do_not_fit_together_are_named(tmp_path):
    mnist_folder(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8), compress=True)
    with pytest.raises(idx.IdxFormatError, match="t10k-images-idx3-ubyte.gz holds 5 images but t10k-labels-idx1-ubyte.gz holds 4"):
        data.load("idx", path=str(tmp_path))
    write(tmp_path / "t10k-labels-idx1-ubyte", np.zeros((5, 2), np.uint8), compress=True)
    with pytest.raises(idx.IdxFormatError, match=r"labels must be 1-D integers, got uint8 of shape \(5, 2\)"):
        data.load("idx", path=str(tmp_path))
    write(tmp_path / "t10k-labels-idx1-ubyte", np.full(5, -1, np.int8), compress=True)
    with pytest.raises(idx.IdxFormatError, match="label -1 is outside the allowed range non-negative"):
        data.load("idx", path=str(tmp_path))
    os.remove(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(idx.IdxFormatError, match="has no test labels file; expected t10k-labels-idx1-ubyte"):
        data.load("idx", path=str(tmp_path))
    with pytest.raises(ValueError, match="data 'idx' needs path"):
        data.load("idx")
    with pytest.raises(idx.IdxFormatError, match="does not exist or is not a folder"):
        data.load("idx", path=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="path is a folder of IDX files.*not for 'digits'"):
        data.load("digits", path=str(tmp_path))


# --- Fashion-MNIST from Debian's package ------------------------------------------------------------


def installed_fashion_mnist() -> str:
    if not os.path.isdir(fashion_mnist.FOLDER):
        pytest.fail(f"{fashion_mnist.FOLDER} is missing: `make test` installs it (apt-get install -y dataset-fashion-mnist)")
    return fashion_mnist.FOLDER


def test_fashion_mnist_is_the_published_data_set():
    installed_fashion_mnist()
    dataset = data.load("fashion-mnist")
    assert dataset.x_train.shape == (60000, 28, 28, 1) and dataset.x_val.shape == (10000, 28, 28, 1)
    assert dataset.x_train.dtype == np.float32 and dataset.x_train.min() == 0 and dataset.x_train.max() == 1
    # 6,000 training and 1,000 test images of each of the ten classes, as Zalando describes it.
    assert np.bincount(dataset.y_train).tolist() == [6000] * 10
    assert np.bincount(dataset.y_val).tolist() == [1000] * 10


def test_fashion_mnist_accepts_zalandos_own_files_and_refuses_one_changed_byte(tmp_path):
    folder = installed_fashion_mnist()
    shutil.copytree(folder, tmp_path / "debian")
    # Zalando's original files: the package's compressed data behind the original gzip header.
    original = tmp_path / "zalando"
    original.mkdir()
    for name, (published, mtime) in fashion_mnist.PUBLISHED.items():
        content = (tmp_path / "debian" / name).read_bytes()
        assert content[3] == 0  # Debian's header: no file name, so 10 bytes
        rebuilt = b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + b"\x00\x03" + name[:-3].encode() + b"\x00" + content[10:]
        assert hashlib.md5(rebuilt).hexdigest() == published
        (original / name).write_bytes(rebuilt)
    fashion_mnist.verify(str(original))
    assert data.load("fashion-mnist", path=str(original)).x_train.shape == (60000, 28, 28, 1)

    damaged = tmp_path / "debian" / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0x01
    damaged.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz does not match the published MD5 bb300cfd"):
        data.load("fashion-mnist", path=str(tmp_path / "debian"))


def test_fashion_mnist_missing_says_which_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(fashion_mnist, "FOLDER", str(tmp_path / "not-installed"))
    with pytest.raises(ValueError) as caught:
        data.load("fashion-mnist")
    message = str(caught.value)
    assert "\n" not in message and message.endswith("is missing; apt-get install dataset-fashion-mnist")
