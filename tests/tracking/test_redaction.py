"""Secrets never survive redaction: secret-looking keys at any depth, URL credentials, secret query values."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.tracking.redaction import REDACTED, is_secret_key, redact, strip_url_credentials

SECRET = "s3cr3t-VALUE-9f2c"


def test_secret_keys_are_recognised_in_any_case_and_position():
    for key in ("api_key", "API_KEY", "hf_token", "client_secret", "DB_PASSWORD", "gcp_credentials",
                "Keyring", "passwordHash"):
        assert is_secret_key(key), key
    for key in ("lr", "batch_size", "optimizer", "url", "pass_rate"):
        assert not is_secret_key(key), key


def test_values_under_secret_keys_become_stars_at_any_depth():
    params = {"lr": 0.1, "db": {"host": "h", "password": SECRET, "options": {"token": 123}},
              "credentials": {"user": "u", "pw": SECRET}, "layers": [{"units": 3, "api_key": SECRET}]}
    assert redact(params) == {
        "lr": 0.1, "db": {"host": "h", "password": REDACTED, "options": {"token": REDACTED}},
        "credentials": REDACTED, "layers": [{"units": 3, "api_key": REDACTED}]}


def test_url_credentials_are_stripped_and_secret_query_values_masked():
    assert strip_url_credentials("postgresql://bob:pa55@db.example:5432/runs") == "postgresql://db.example:5432/runs"
    assert strip_url_credentials("https://ghp_abc123@github.com/x.git") == "https://github.com/x.git"
    assert strip_url_credentials("see http://u:p@a/b and s3://k:s@bucket/p") == "see http://a/b and s3://bucket/p"
    assert strip_url_credentials("http://h/path?user=me&access_token=abc&x=1") == "http://h/path?user=me&access_token=***&x=1"
    assert strip_url_credentials("just text, no url") == "just text, no url"
    assert redact({"uri": "mysql://root:pa55@h/db"}) == {"uri": "mysql://h/db"}


_plain_keys = st.text(alphabet="abcdefghijlmnoqruvwxyz_", min_size=1, max_size=8).filter(
    lambda key: not is_secret_key(key))
_secret_keys = st.tuples(_plain_keys, st.sampled_from(["key", "Token", "SECRET", "password", "credential"]),
                         _plain_keys).map(lambda parts: "_".join(parts))
_plain_leaves = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(), _plain_keys)
_secret_values = st.one_of(st.just(SECRET), st.dictionaries(_plain_keys, st.just(SECRET), min_size=1),
                           st.lists(st.just(SECRET), min_size=1))


def _planted(children):
    entry = st.one_of(st.tuples(_plain_keys, children), st.tuples(_secret_keys, _secret_values))
    return st.one_of(st.lists(entry, max_size=4).map(dict), st.lists(children, max_size=3))


def _plain(children):
    return st.one_of(st.dictionaries(_plain_keys, children, max_size=4), st.lists(children, max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.recursive(_plain_leaves, _planted, max_leaves=30))
def test_no_secret_planted_under_a_secret_key_survives_at_any_depth(tree):
    assert SECRET not in json.dumps(redact({"params": tree}))


@settings(max_examples=100, deadline=None)
@given(st.recursive(_plain_leaves, _plain, max_leaves=30))
def test_params_without_secrets_are_left_exactly_as_they_were(tree):
    assert redact(tree) == tree


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["http", "https", "postgresql+psycopg2", "s3"]),
       st.text(alphabet="abcXYZ019._-", min_size=1, max_size=10),
       st.text(alphabet="abcXYZ019._-:!$", min_size=0, max_size=10),
       st.text(alphabet="abc.-", min_size=1, max_size=12))
def test_url_passwords_never_survive(scheme, user, password, host):
    url = f"{scheme}://{user}:{password}{SECRET}@{host}/path"
    assert strip_url_credentials(url) == f"{scheme}://{host}/path"
