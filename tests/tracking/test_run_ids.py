"""Run ids given as a unique prefix: one match resolves, none or several are named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.tracking.run_ids import resolve_run_id

IDS = ["4f2a9c01aa", "4f2a9c02bb", "77e0d3c4cc", "abc"]


@pytest.mark.parametrize("prefix, expected", [("77", "77e0d3c4cc"), ("4f2a9c01", "4f2a9c01aa"),
                                              ("abc", "abc"), (" 77e0 ", "77e0d3c4cc")])
def test_a_unique_prefix_or_a_whole_id_resolves(prefix, expected):
    assert resolve_run_id(prefix, IDS) == expected


def test_an_ambiguous_prefix_names_the_runs_it_matches():
    with pytest.raises(ValueError, match=r"RUN_ID '4f2a9c' is ambiguous: 2 runs in sqlite:///x.db start with it "
                                         r"\(4f2a9c01aa, 4f2a9c02bb\); give more characters"):
        resolve_run_id("4f2a9c", IDS, where="sqlite:///x.db")


def test_an_unknown_or_empty_prefix_names_the_argument():
    with pytest.raises(ValueError, match="--baseline 'ff': no run has an id starting with it"):
        resolve_run_id("ff", IDS, "--baseline")
    with pytest.raises(ValueError, match="RUN_ID must be a run id or a prefix of one, got ''"):
        resolve_run_id("", IDS)


def test_a_whole_id_that_prefixes_another_is_itself():
    assert resolve_run_id("abc", ["abc", "abcd"]) == "abc"


@given(ids=st.lists(st.text("0123456789abcdef", min_size=1, max_size=6), min_size=1, max_size=12, unique=True),
       data=st.data())
def test_the_result_is_the_only_id_with_that_prefix(ids, data):
    prefix = data.draw(st.sampled_from(ids)).__getitem__(slice(0, data.draw(st.integers(1, 6))))
    matches = [run_id for run_id in ids if run_id.startswith(prefix)]
    if prefix in ids or len(matches) == 1:
        assert resolve_run_id(prefix, ids) == (prefix if prefix in ids else matches[0])
    else:
        with pytest.raises(ValueError, match="is ambiguous"):
            resolve_run_id(prefix, ids)
