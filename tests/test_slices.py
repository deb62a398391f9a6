"""Sliced metrics: each slice's result equals evaluating its examples alone (scikit-learn as oracle),
whatever the batching and merging, with intervals, warnings, gates and tracker keys."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import toolkit
from toolkit.evaluation import slices as slicing

RNG = np.random.default_rng(5)
N = 600
Y = RNG.integers(0, 3, N)
SCORES = RNG.dirichlet(np.ones(3), N)
REGION = RNG.choice(["north", "south", "east"], N)
DEVICE = RNG.choice([3, 1], N)
WEIGHTS = RNG.random(N) * 3


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[key]) and math.isnan(b[key])) or math.isclose(a[key], b[key], rel_tol=1e-12, abs_tol=1e-12)
        for key in a)


def test_each_slice_equals_its_subset_alone_and_scikit_learn():
    result = toolkit.evaluate(Y, y_score=SCORES, sample_weight=WEIGHTS,
                              slice_by={"region": REGION, "device": DEVICE}, cross_slices=True)
    assert list(result.slices) == [
        "region=east", "region=north", "region=south", "device=1", "device=3",
        *[f"region={region},device={device}" for region in ("east", "north", "south") for device in (1, 3)]]
    for name, sliced in result.slices.items():
        pairs = dict(result.slices.pairs(name))
        rows = np.ones(N, bool)
        if "region" in pairs:
            rows &= REGION == pairs["region"]
        if "device" in pairs:
            rows &= DEVICE == pairs["device"]
        alone = toolkit.evaluate(Y[rows], y_score=SCORES[rows], sample_weight=WEIGHTS[rows], labels=[0, 1, 2])
        assert _same(sliced.metrics, alone.metrics), name
        np.testing.assert_array_equal(sliced.confusion_matrix, alone.confusion_matrix)
        predicted = SCORES[rows].argmax(axis=1)
        assert sliced["accuracy"] == pytest.approx(
            accuracy_score(Y[rows], predicted, sample_weight=WEIGHTS[rows]), abs=1e-12)
        assert sliced["f1_macro"] == pytest.approx(
            f1_score(Y[rows], predicted, average="macro", labels=[0, 1, 2], sample_weight=WEIGHTS[rows],
                     zero_division=0), abs=1e-12)
        assert sliced["roc_auc_ovr_macro"] == pytest.approx(
            roc_auc_score(Y[rows], SCORES[rows], multi_class="ovr", average="macro", labels=[0, 1, 2],
                          sample_weight=WEIGHTS[rows]), abs=1e-12)
    assert result.slices["region=north"]["example_count"] == (REGION == "north").sum()


@st.composite
def sliced_problems(draw):
    k = draw(st.integers(2, 3))
    n = draw(st.integers(4, 60))
    y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.integers(1, 6), min_size=n * k, max_size=n * k)), float).reshape(n, k)
    scores = raw / raw.sum(axis=1, keepdims=True)
    region = np.array(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    weights = np.array(draw(st.lists(st.floats(0.1, 5), min_size=n, max_size=n))) if draw(st.booleans()) else None
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=4))))
    return list(range(k)), y_true, scores, weights, region, group, cuts


def _pieces(array, cuts):
    return [None] * (len(cuts) + 1) if array is None else np.split(array, cuts)


@settings(max_examples=60, deadline=None)
@given(sliced_problems(), st.data())
def test_slices_streamed_and_merged_equal_each_subset_alone(problem, data):
    labels, y_true, scores, weights, region, group, cuts = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [toolkit.Evaluator(labels, slice_by=["region", "group"], cross_slices=[("region", "group")]).update(
                    true, y_score=score, sample_weight=weight, slices={"region": where, "group": which})
                 for true, score, weight, where, which in zip(
                     _pieces(y_true, cuts), _pieces(scores, cuts), _pieces(weights, cuts),
                     _pieces(region, cuts), _pieces(group, cuts))]
        order = data.draw(st.permutations(range(len(parts))))
        merged = parts[order[0]]
        for index in order[1:]:
            merged.merge(parts[index])
        result = merged.compute()
        expected = {}
        for name in result.slices:
            pairs = dict(result.slices.pairs(name))
            rows = np.ones(len(y_true), bool)
            for column, values in (("region", region), ("group", group)):
                if column in pairs:
                    rows &= values == pairs[column]
            alone = toolkit.evaluate(y_true[rows], y_score=scores[rows], labels=labels,
                                     sample_weight=None if weights is None else weights[rows])
            expected[name] = alone.metrics
    present = {f"region={value}" for value in region} | {f"group={value}" for value in group} | {
        f"region={a},group={b}" for a, b in zip(region, group)}
    assert set(result.slices) == present
    for name, metrics in expected.items():
        assert _same(result.slices[name].metrics, metrics), name


def test_intervals_per_slice_equal_the_subset_alone_with_the_same_seed():
    rows = REGION == "south"
    for method in ("multinomial", "poisson"):
        sliced = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION}, ci=0.9, n_bootstrap=200,
                                  seed=7, bootstrap=method)
        alone = toolkit.evaluate(Y[rows], y_score=SCORES[rows], labels=[0, 1, 2], ci=0.9, n_bootstrap=200,
                                 seed=7, bootstrap=method)
        assert sliced.slices["region=south"].intervals.keys() == alone.intervals.keys()
        for key, interval in alone.intervals.items():
            assert sliced.slices["region=south"].intervals[key] == pytest.approx(interval, abs=1e-12), (method, key)
        assert "slice/region/south/accuracy_ci_low" in sliced.logged_metrics()


def test_a_slice_with_one_class_gets_nan_and_a_warning():
    y = np.array([0, 1, 0, 1, 1, 1])
    scores = np.array([0.2, 0.8, 0.4, 0.6, 0.7, 0.9])
    where = np.array(["a", "a", "a", "a", "b", "b"])  # slice b holds only class 1
    result = toolkit.evaluate(y, y_score=scores, slice_by={"where": where})
    assert result.slices["where=a"]["roc_auc"] == pytest.approx(roc_auc_score(y[:4], scores[:4]))
    assert math.isnan(result.slices["where=b"]["roc_auc"])
    assert any(note.startswith("slice where=b:") and "roc_auc" in note for note in result.warnings)
    assert not math.isnan(result["roc_auc"])


def test_tracker_keys_pair_columns_and_values_and_parse_back():
    result = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION, "device": DEVICE}, cross_slices=True)
    logged = result.logged_metrics()
    assert logged["slice/region/north/accuracy"] == result.slices["region=north"]["accuracy"]
    assert logged["slice/region/east/device/3/f1/2"] == result.slices["region=east,device=3"]["f1/2"]
    assert slicing.parse_tracker_key("slice/region/east/device/3/f1/2", list(result.metrics)) == (
        (("region", "east"), ("device", "3")), "f1/2")
    assert slicing.parse_tracker_key("accuracy", list(result.metrics)) is None


def test_values_that_would_share_a_tracker_key_are_refused():
    with pytest.raises(ValueError, match="same tracker keys"):
        toolkit.evaluate([0, 1, 0, 1], y_pred=[0, 1, 1, 1], slice_by={"team": ["a/b", "a/b", "a_b", "a_b"]})


@pytest.mark.parametrize("slice_by, cross, message", [
    (["region"], False, "slice_by must be a mapping"),
    ({"region": "region"}, False, "column names are for evaluate_files"),
    ({"region": REGION[:10]}, False, r"slice_by\['region'\] has 10 values but y_true has 600"),
    ({"region": np.where(REGION == "east", None, REGION).astype(object)}, False, "drop or fill the missing rows"),
    ({"a=b": REGION}, False, "may not hold"),
    ({"region": REGION}, True, "two or more"),
    ({"region": REGION}, [("region", "device")], "distinct slice_by columns"),
    (None, True, "cross_slices needs slice_by"),
])
def test_bad_slice_arguments_are_value_errors(slice_by, cross, message):
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate(Y, y_score=SCORES, slice_by=slice_by, cross_slices=cross)


def test_evaluator_asks_for_slices_with_every_batch():
    evaluator = toolkit.Evaluator([0, 1, 2], slice_by=["region"])
    with pytest.raises(ValueError, match="give slices="):
        evaluator.update(Y, y_score=SCORES)
    with pytest.raises(ValueError, match="without slice_by"):
        toolkit.Evaluator([0, 1, 2]).update(Y, y_score=SCORES, slices={"region": REGION})
    with pytest.raises(ValueError, match="different slice_by"):
        toolkit.Evaluator([0, 1, 2]).merge(evaluator)


def test_gates_on_one_slice_and_on_every_slice():
    result = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION, "device": DEVICE}, cross_slices=True,
                              gates=["accuracy >= 0.99 for every region", "slice/region=north/accuracy >= 0.1",
                                     "accuracy <= 0.99 for every region,device",
                                     "slice/region=west/accuracy >= 0.1"],
                              )
    every, one, crossed, absent = result.gates
    worst = min(result.slices.of(["region"]).items(), key=lambda item: item[1]["accuracy"])
    assert not every.passed and every.value == worst[1]["accuracy"] and f"worst slice {worst[0]}" in every.reason
    assert one.passed and one.value == result.slices["region=north"]["accuracy"]
    assert crossed.passed and crossed.value == max(r["accuracy"] for r in result.slices.of(["region", "device"]).values())
    assert not absent.passed and "no example" in absent.reason
    mapping = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION},
                               gates={"slice/region=east/f1/2": ">= 0.1", "accuracy": ">= 0.1 for every region"})
    assert [gate.gate.key for gate in mapping.gates] == ["slice/region=east/f1/2", "accuracy for every region"]


@pytest.mark.parametrize("gate, message", [
    ("accuracy >= 0.8 for every country", "does not slice by"),
    ("slice/country=fr/accuracy >= 0.8", "does not slice by"),
    ("accuracy >= 0.8 for every region,device", "does not slice by"),
    ("accuracy >= baseline for every region", "compare with a number"),
    ("slice/region=north >= 0.8", "must look like"),
    ("slice/region=north/acuracy >= 0.8", "unknown metric"),
])
def test_gates_naming_unknown_slices_fail_before_anything_is_computed(gate, message):
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION}, gates=[gate], baseline={"accuracy": 0.5})


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 1.0), st.sampled_from([">=", ">", "<=", "<"]))
def test_a_gate_for_every_slice_passes_exactly_when_each_slice_gate_passes(threshold, operator):
    names = [f"region={value}" for value in sorted(set(REGION))]
    result = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION},
                              gates=[f"accuracy {operator} {threshold!r} for every region",
                                     *[f"slice/{name}/accuracy {operator} {threshold!r}" for name in names]])
    every, *each = result.gates
    assert every.passed == all(outcome.passed for outcome in each)
    values = [outcome.value for outcome in each]
    assert every.value == (min(values) if operator in (">=", ">") else max(values))



def _assert_groups_match_masks(values: dict, crossings: list) -> None:
    n = len(next(iter(values.values())))
    made = slicing.check_slice_by(list(values), crossings)
    for columns_of_slicing, order, present in made.groups(values, n):
        seen = set()
        for pairs, start, stop in present:
            rows = np.ones(n, bool)
            for column, value in pairs:
                rows &= values[column] == value
            np.testing.assert_array_equal(order[start:stop], np.flatnonzero(rows))
            assert tuple(column for column, _ in pairs) == columns_of_slicing
            seen.add(pairs)
        combos = set(zip(*(values[column].tolist() for column in columns_of_slicing)))
        assert {tuple(value for _, value in pairs) for pairs in seen} == combos


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(*[
    st.lists(st.integers(0, values), min_size=n, max_size=n) for values in (2, 300, 70_000)])))
def test_groups_hold_each_slices_rows_in_their_order(columns):
    # wide crossings (up to 3 x 301 x 70,001 codes) take the sorting path, narrow ones the counting
    # path; more than 256 slices of one slicing sort 16-bit codes
    values = {name: np.array(column) for name, column in zip("abc", columns)}
    _assert_groups_match_masks(values, [("a", "b"), ("a", "b", "c"), ("a", "c")])


@pytest.mark.parametrize("common, rare", [("north", "zz"), (7, -3), (True, False)])
def test_groups_find_values_only_a_few_rows_hold(common, rare):
    # slice values are first looked for in a sample of rows: rows at odd positions lie outside it
    column = np.array([common] * 10_000)
    column[[1, 4_999, 9_999]] = rare
    other = np.arange(10_000) % 3
    _assert_groups_match_masks({"kind": column, "other": other}, True)
