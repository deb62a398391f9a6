"""The input checks' shortcuts (fewer passes over large arrays) decide exactly as the plain checks do:
labels inferred and encoded, NaN/inf found, rows that do not sum to 1 found, binary counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.evaluation import inputs
from toolkit.evaluation.statistics import _binary_counts

SETTINGS = settings(max_examples=150, deadline=None)
INTEGER_DTYPES = ["int8", "int32", "int64", ">i8", "uint8", "uint16", "uint64"]


@st.composite
def integer_labels(draw):
    """A 1-D integer array of one dtype: class indices, 0/1 values, negatives or a wide range."""
    dtype = np.dtype(draw(st.sampled_from(INTEGER_DTYPES)))
    info = np.iinfo(dtype)
    low = draw(st.sampled_from([0, 1, -3, info.min, info.max - 3]))
    low = min(max(low, int(info.min)), int(info.max))
    span = draw(st.sampled_from([0, 1, 2, 9, 3 * 10 ** 6]))
    high = min(low + span, int(info.max))
    values = draw(st.lists(st.integers(low, high), min_size=1, max_size=40))
    return np.array(values, dtype=dtype)


def reference_union(arrays) -> tuple:
    return tuple(sorted(set().union(*(array.tolist() for array in arrays))))


@SETTINGS
@given(integer_labels(), st.one_of(st.none(), integer_labels()))
def test_inferred_integer_labels_are_the_sorted_union(y_true, y_pred):
    arrays = [y_true] if y_pred is None else [y_true, y_pred]
    assume(np.result_type(*arrays).kind in "iu")  # (uint64 with int64: numpy itself gives floats)
    assert inputs.infer_labels(y_true, y_pred, None) == reference_union(arrays)


@SETTINGS
@given(integer_labels(), st.integers(1, 12))
def test_encoding_against_class_indices_matches_a_lookup_or_refuses(values, n_labels):
    labels = tuple(range(n_labels))
    if all(0 <= value < n_labels for value in values.tolist()):
        codes = inputs.encode(values, labels, "y_true")
        assert codes.dtype == np.intp and codes.tolist() == values.tolist()
    else:
        with pytest.raises(ValueError, match="y_true contains"):
            inputs.encode(values, labels, "y_true")


@SETTINGS
@given(st.sampled_from(["float16", "float32", "float64"]), st.sampled_from([(60,), (30, 2), (12, 5)]),
       st.sampled_from([np.nan, np.inf, -np.inf]), st.data())
def test_nan_and_inf_anywhere_are_found_by_row(dtype, shape, bad, data):
    labels = tuple(range(2 if len(shape) == 1 else shape[1]))
    scores = np.full(shape, 1.0 / len(labels), dtype=dtype)
    row = data.draw(st.integers(0, shape[0] - 1))
    scores[(row,) if len(shape) == 1 else (row, data.draw(st.integers(0, shape[1] - 1)))] = bad
    order = data.draw(st.sampled_from(["C", "F"]))
    for score_type in inputs.SCORE_TYPES:
        with pytest.raises(ValueError, match=f"y_score contains NaN or inf \\(first at row {row}\\)"):
            inputs.check_scores(np.asarray(scores, order=order), shape[0], labels, score_type)


@st.composite
def rows_near_the_tolerance(draw):
    """Probability rows in [0, 1], some summing to 1 within a few ulps of 1 +- the tolerance."""
    dtype = np.dtype(draw(st.sampled_from(["float32", "float64"])))
    k = draw(st.integers(2, 30))
    n = draw(st.integers(1, 20))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    tolerance = inputs.row_sum_tolerance(dtype)
    targets = 1 + rng.choice([-1, 1, 0], n) * tolerance * (1 + rng.integers(-8, 9, n) * float(np.finfo(dtype).eps))
    scores = rng.dirichlet(np.ones(k), n) * targets[:, None]
    scores = np.clip(scores, 0, 1).astype(dtype)
    return np.asarray(scores, order=draw(st.sampled_from(["C", "F"]))), tolerance


@SETTINGS
@given(rows_near_the_tolerance())
def test_row_sum_screen_decides_as_the_float64_sums(case):
    scores, tolerance = case
    # (rows added as contiguous rows are: numpy's order, and so the last bit, depends on the layout)
    sums = np.add.reduce(np.ascontiguousarray(scores), axis=1, dtype=np.float64)
    expected = bool(np.abs(sums - 1).max() > tolerance)
    assert inputs._rows_off_by_more(scores, tolerance) == expected


def test_row_sum_screen_refuses_rows_far_off():
    scores = np.full((1000, 10), 0.1, dtype=np.float32)
    scores[617, 3] = 0.2
    with pytest.raises(ValueError, match="row 617 sums to 1.1"):
        inputs.check_scores(scores, 1000, tuple(range(10)))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=50))
def test_binary_counts_equal_counted_cells(pairs):
    y_true, y_pred = (np.array(column, dtype=np.intp) for column in zip(*pairs))
    expected = np.bincount(y_true * 2 + y_pred, minlength=4).reshape(2, 2)
    assert np.array_equal(_binary_counts(y_true, y_pred), expected)


def test_binary_scores_are_widened_into_their_two_columns():
    positive = np.array([0.0, 0.25, 1.0], dtype=np.float32)
    widened = inputs.check_scores(positive, 3, (0, 1))
    assert widened.dtype == np.float32 and np.array_equal(widened, [[1.0, 0.0], [0.75, 0.25], [0.0, 1.0]])
    margins = inputs.check_scores(np.array([-2.0, 3.0]), 2, ("a", "b"), "decision")
    assert np.array_equal(margins, [[2.0, -2.0], [-3.0, 3.0]])


def test_class_index_labels_in_one_pass_still_refuse_negatives_in_an_evaluation():
    with pytest.raises(ValueError, match="y_pred contains \\[-1\\]"):
        toolkit.evaluate([0, 1, 1], [0, -1, 1], labels=[0, 1])



def test_evaluate_reads_each_label_array_bound_once_and_only_within_the_call(monkeypatch):
    reads = []
    read_largest = inputs._read_largest
    monkeypatch.setattr(inputs, "_read_largest", lambda values: reads.append(values) or read_largest(values))
    y_true = np.array([0, 1, 1, 0, 2, 1], dtype=np.int64)
    y_pred = np.array([0, 1, 2, 0, 2, 2], dtype=np.int64)
    result = toolkit.evaluate(y_true, y_pred, metrics=["accuracy"])
    assert result.metrics["accuracy"] == pytest.approx(4 / 6)
    # inferring the labels read each array's bound once; encoding the same arrays reused it
    assert [id(values) for values in reads] == [id(y_true), id(y_pred)]
    # outside an evaluation nothing is remembered: a changed array is read again
    assert inputs._largest_if_non_negative(y_true) == 2
    y_true[0] = 7
    assert inputs._largest_if_non_negative(y_true) == 7
    with pytest.raises(ValueError, match="y_true contains"):
        toolkit.evaluate(y_true, y_pred, labels=[0, 1, 2], metrics=["accuracy"])


@SETTINGS
@given(st.sampled_from(["float16", "float32", "float64", ">f4", ">f8"]), st.sampled_from([(7,), (5, 3)]),
       st.lists(st.sampled_from([0.0, -0.0, 1e-30, 0.5, 1.0, np.nextafter(1.0, 2.0), -1e-30, 2.0,
                                 np.inf, -np.inf, np.nan]), min_size=1, max_size=3), st.data())
def test_the_unit_interval_screen_decides_as_min_and_max(dtype, shape, specials, data):
    scores = np.full(shape, 0.25).astype(dtype)
    for value in specials:
        scores[tuple(data.draw(st.integers(0, size - 1)) for size in shape)] = value
    scores = np.asarray(scores, order=data.draw(st.sampled_from(["C", "F"])))
    with np.errstate(invalid="ignore"):
        expected = bool(np.isfinite(scores).all() and scores.min() >= 0 and scores.max() <= 1
                        and not np.signbit(scores).any())  # (-0.0 takes the slower road, which accepts it)
    assert inputs._in_unit_interval(scores) == expected


def test_negative_zero_probabilities_are_accepted():
    widened = inputs.check_scores(np.array([-0.0, 0.5, 1.0]), 3, (0, 1))
    assert np.array_equal(widened[:, 1], [0.0, 0.5, 1.0])
