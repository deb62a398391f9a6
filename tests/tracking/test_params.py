"""Params as trackers receive them: plain values, flattened dotted keys, long values set aside."""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.tracking.params import MAX_PARAM_LENGTH, flatten, prepare_params


def test_nested_mappings_become_dotted_keys():
    assert flatten({"model": {"depth": 3, "optimizer": {"name": "adam", "lr": 0.001}}, "seed": 0, "empty": {}}) == {
        "model.depth": 3, "model.optimizer.name": "adam", "model.optimizer.lr": 0.001, "seed": 0, "empty": {}}


def test_two_spellings_of_one_key_are_a_value_error():
    with pytest.raises(ValueError, match="flatten to the same key 'a.b'"):
        flatten({"a.b": 1, "a": {"b": 2}})


def test_values_become_plain_data_and_secrets_are_redacted_before_flattening():
    @dataclasses.dataclass
    class Optimizer:
        name: str
        lr: float

    prepared = prepare_params({
        "optimizer": Optimizer("sgd", 0.1), "epochs": np.int64(5), "shape": np.array([28, 28]),
        "path": pathlib.Path("/data/digits"), "classes": {3, 1, 2},
        "storage": {"uri": "s3://AKIA:wJalr@bucket/x", "aws_secret_access_key": "wJalr"},
    })
    assert prepared.values == {
        "optimizer.name": "sgd", "optimizer.lr": 0.1, "epochs": 5, "shape": [28, 28],
        "path": "/data/digits", "classes": [1, 2, 3], "storage.uri": "s3://bucket/x",
        "storage.aws_secret_access_key": "***"}
    assert type(prepared.values["epochs"]) is int


def test_a_long_value_is_set_aside_whole_with_a_marker_in_the_param():
    text = "x" * (MAX_PARAM_LENGTH + 1)
    prepared = prepare_params({"model": {"summary": text}, "short": "y" * MAX_PARAM_LENGTH})
    artifact = f"params/model.summary-{hashlib.sha256(b'model.summary').hexdigest()[:12]}.txt"
    assert prepared.values["model.summary"] == (
        f"<{MAX_PARAM_LENGTH + 1} characters, saved whole as artifact {artifact}>")
    assert prepared.long_values == {"model.summary": text}
    assert prepared.artifact_names == {"model.summary": artifact}
    assert prepared.values["short"] == "y" * MAX_PARAM_LENGTH  # exactly at the limit: kept as is


def test_params_must_be_a_mapping():
    with pytest.raises(ValueError, match="params must be a mapping of names to values, got list"):
        prepare_params([("lr", 0.1)])


_keys = st.text(alphabet="abcxyz_", min_size=1, max_size=5)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.one_of(st.integers(), st.text(max_size=5)),
                    lambda children: st.dictionaries(_keys, children, min_size=1, max_size=3), max_leaves=20))
def test_flattening_keeps_every_leaf_once_under_its_path(tree):
    if not isinstance(tree, dict):
        tree = {"root": tree}
    flat = flatten(tree)

    def leaves(node, path):
        if isinstance(node, dict):
            for key, child in node.items():
                yield from leaves(child, f"{path}.{key}" if path else key)
        else:
            yield path, node

    assert flat == dict(leaves(tree, ""))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab/_.é", min_size=1, max_size=300).map(lambda key: "k" * 240 + key),
                min_size=2, max_size=6, unique=True))
def test_distinct_long_params_are_saved_under_distinct_file_names(keys):
    # Keys that differ only in characters a file name cannot hold, or only after 240 shared ones.
    prepared = prepare_params({key: "x" * (MAX_PARAM_LENGTH + 1) for key in keys})
    names = list(prepared.artifact_names.values())
    assert len(set(names)) == len(keys)
    assert all(len(name.rpartition("/")[2].encode()) <= 255 for name in names)
