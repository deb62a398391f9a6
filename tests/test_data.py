"""toolkit.data.load: bundled digits as images, .npz and CSV files, and MNIST's clear refusal offline."""

from __future__ import annotations


import numpy as np
import pytest
from sklearn.datasets import load_digits

from toolkit import data


def test_digits_are_scikit_learns_images_scaled_to_unit_range():
    dataset = data.load("digits")
    assert dataset.input_shape == (8, 8, 1)
    assert dataset.x_train.dtype == np.float32
    assert len(dataset.y_train) + len(dataset.y_val) == 1797
    assert len(dataset.y_val) == round(1797 * 0.2)
    x = np.concatenate([dataset.x_train, dataset.x_val])
    assert 0.0 <= x.min() and x.max() == 1.0
    # The same examples as scikit-learn's, each image with its own label.
    reference = load_digits()
    joined = sorted(zip(x.reshape(len(x), -1).round(6).tolist(), np.concatenate([dataset.y_train, dataset.y_val]).tolist()))
    expected = sorted(zip((reference.data / 16.0).round(6).tolist(), reference.target.tolist()))
    assert joined == expected
    assert dataset.labels == list(range(10))


def test_the_split_follows_the_seed():
    first, again, other = data.load("digits", seed=3), data.load("digits", seed=3), data.load("digits", seed=4)
    np.testing.assert_array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.y_val, other.y_val)
    assert len(data.load("digits", validation_split=0.5).y_val) == 898


def test_npz_with_x_and_y_is_split_and_with_its_own_split_is_kept(tmp_path):
    x = np.arange(40, dtype="float32").reshape(10, 4)
    y = np.arange(10) % 2
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    dataset = data.load(str(tmp_path / "plain.npz"), validation_split=0.3, image_shape=(2, 2, 1))
    assert (len(dataset.y_train), len(dataset.y_val)) == (7, 3)
    assert dataset.input_shape == (2, 2, 1)
    np.savez(tmp_path / "split.npz", x_train=x[:6], y_train=y[:6], x_test=x[6:], y_test=y[6:])
    dataset = data.load(str(tmp_path / "split.npz"))
    np.testing.assert_array_equal(dataset.x_val, x[6:])
    np.testing.assert_array_equal(dataset.y_train, y[:6])


def test_csv_takes_the_label_column_and_keeps_string_labels(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_text("width,species,height\n1.5,iris,0.2\n2.5,rose,1.2\n3.0,iris,0.4\n4.0,rose,2.0\n")
    dataset = data.load(str(path), label_column="species", validation_split=0.5)
    assert dataset.input_shape == (2,)
    assert sorted(np.concatenate([dataset.y_train, dataset.y_val]).tolist()) == ["iris", "iris", "rose", "rose"]
    rows = {tuple(row) for row in np.concatenate([dataset.x_train, dataset.x_val]).astype(float).round(4).tolist()}
    assert rows == {(1.5, 0.2), (2.5, 1.2), (3.0, 0.4), (4.0, 2.0)}


@pytest.mark.parametrize("source, kwargs, message", [
    ("nothing-here", {}, "data 'nothing-here' is not a file .the built-in data sets are digits, mnist, fashion-mnist, idx"),
    ("digits", {"validation_split": 1.5}, "validation_split must be a fraction between 0 and 1"),
    ("digits", {"image_shape": (9, 9)}, r"image_shape \[9, 9\] holds 81 values, but each example has 64"),
    ("", {}, "data must be one of digits, mnist, fashion-mnist, idx or a path"),
])
def test_bad_sources_name_the_problem(source, kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load(source, **kwargs)


def test_bad_files_name_the_problem(tmp_path):
    (tmp_path / "a.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match="unsupported file type '.txt'; use .npz or .csv"):
        data.load(str(tmp_path / "a.txt"))
    (tmp_path / "b.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="has no column 'label'"):
        data.load(str(tmp_path / "b.csv"))
    (tmp_path / "c.csv").write_text("x,label\n1,2\nabc,3\n")
    with pytest.raises(ValueError, match="line 3"):
        data.load(str(tmp_path / "c.csv"))
    np.savez(tmp_path / "d.npz", features=np.zeros(3))
    with pytest.raises(ValueError, match=r"holds arrays \['features'\]; expected x and y"):
        data.load(str(tmp_path / "d.npz"))


def test_mnist_without_a_copy_is_never_downloaded_and_the_error_names_the_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no cached copy
    with pytest.raises(ValueError, match="no data set is downloaded at run time.*path: DIR.*fashion-mnist"):
        data.load("mnist")
    assert list(tmp_path.iterdir()) == []


def test_mnist_keras_already_downloaded_is_read_without_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".keras" / "datasets"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), "y_train": np.arange(6, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), "y_test": np.arange(3, dtype=np.uint8)}
    np.savez(folder / "mnist.npz", **arrays)
    dataset = data.load("mnist")
    assert dataset.input_shape == (28, 28, 1) and dataset.x_train.dtype == np.float32
    np.testing.assert_array_equal(dataset.x_val[..., 0] * 255, arrays["x_test"])
    np.testing.assert_array_equal(dataset.y_train, arrays["y_train"])
