"""The shared value policy: keys both stores accept, NaN kept, infinities and non-numbers refused."""

from __future__ import annotations

import math
import posixpath
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.tracking.values import MAX_KEY_LENGTH, KeyMap, TrackingWarning, clean_metrics, safe_key

_ALLOWED = re.compile(r"^[A-Za-z0-9_\-./ ]+$")


def test_valid_keys_are_kept_and_others_mapped():
    assert safe_key("val/accuracy") == "val/accuracy"
    assert safe_key("f1 score.macro-avg") == "f1 score.macro-avg"
    assert safe_key("precision/cat:dog") == "precision/cat_dog"
    assert safe_key("läbel→x") == "l_bel_x"
    assert safe_key("/a//b/./c/../") == "a/b/_/c/_"
    assert safe_key("") == "_"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_every_mapped_key_is_one_both_stores_accept(key):
    mapped = safe_key(key)
    assert _ALLOWED.match(mapped)
    assert len(mapped) <= MAX_KEY_LENGTH
    # MLflow treats a key as a path: it must normalise to itself and not climb or start at root.
    assert posixpath.normpath(mapped) == mapped and not mapped.startswith(("/", "..")) and mapped != "."
    assert safe_key(mapped) == mapped  # mapping a mapped key changes nothing


def test_distinct_keys_that_map_alike_stay_distinct_and_renames_are_reported():
    keys = KeyMap()
    with pytest.warns(TrackingWarning, match=r"metric key 'a:b' is recorded as 'a_b'"):
        assert keys("a:b") == "a_b"
    with pytest.warns(TrackingWarning, match=r"'a@b' is recorded as 'a_b_2'"):
        assert keys("a@b") == "a_b_2"
    assert keys("a:b") == "a_b"  # the same key keeps its name, without a second warning
    assert keys.renamed == {"a:b": "a_b", "a@b": "a_b_2"}


def test_long_keys_are_cut_with_a_hash_so_they_stay_distinct():
    first, second = "m" * 300 + "1", "m" * 300 + "2"
    assert safe_key(first) != safe_key(second)
    assert len(safe_key(first)) == MAX_KEY_LENGTH


def test_nan_is_kept_infinity_and_non_numbers_are_refused_naming_the_key():
    keys = KeyMap()
    with pytest.warns(TrackingWarning) as caught:
        clean = clean_metrics({"loss": float("nan"), "up": float("inf"), "down": -np.inf, "acc": np.float32(0.5),
                               "epochs": 3, "name": "adam", "flag": True}, keys)
    assert set(clean) == {"loss", "acc", "epochs", "flag"}
    assert math.isnan(clean["loss"]) and clean["acc"] == 0.5 and clean["epochs"] == 3.0 and clean["flag"] == 1.0
    messages = [str(warning.message) for warning in caught]
    assert any(message.startswith("metric 'up' is inf") for message in messages)
    assert any(message.startswith("metric 'down' is -inf") for message in messages)
    assert any(message.startswith("metric 'name' is not a number") for message in messages)


def test_metrics_must_be_a_mapping():
    with pytest.raises(ValueError, match="metrics must be a mapping"):
        clean_metrics([0.5], KeyMap())


@pytest.mark.parametrize("key", ["k" * 300, "é" * 260 + "/x", "..0", "../up", "/root/key"])
def test_long_and_path_like_keys_map_into_the_accepted_set(key):
    mapped = safe_key(key)
    assert _ALLOWED.match(mapped) and len(mapped) <= MAX_KEY_LENGTH
    assert posixpath.normpath(mapped) == mapped and not mapped.startswith(("/", ".."))
