"""Secrets never survive redaction: secret-looking keys at any depth, and secrets inside text
(tokens, PEM blocks, passwords in URLs, DSNs, query strings and command lines)."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.tracking.redaction import REDACTED, is_secret_key, redact, redact_text, strip_url_credentials

SECRET = "s3cr3t-VALUE-9f2c"


def test_secret_keys_are_recognised_in_any_case_and_position():
    for key in ("api_key", "API_KEY", "hf_token", "client_secret", "DB_PASSWORD", "gcp_credentials",
                "Keyring", "passwordHash", "passwd", "PWD", "auth", "Authorization", "cookie", "session_id",
                "private_key", "credentials", "dsn", "SENTRY_DSN", "passphrase", "connection_string"):
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


_plain_keys = st.text(alphabet="abcdefghijlmnoqrvwxyz_", min_size=1, max_size=8).filter(
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


# Secrets planted in text: each form holds the secret where a real one would be.
TEXT_FORMS = {
    "bearer": "Bearer {}",
    "header": "Authorization: Bearer {}",
    "header list item": "X-Api-Key: {}",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIE{}\n{}==\n-----END RSA PRIVATE KEY-----",
    "pem cut short": "key: -----BEGIN OPENSSH PRIVATE KEY-----\\nb3Bl{}",
    "dsn": "host=db.internal port=5432 user=bob password={} dbname=runs",
    "quoted dsn": "host=db password='{} x' dbname=runs",
    "query": "https://store.example/upload?user=me&password={}&part=1",
    "url": "postgresql+psycopg2://bob:{}@db.internal:5432/runs",
    "flag pair": "python train.py --password {} --epochs 3",
    "flag assignment": "python train.py --token={} --epochs 3",
    "json": '{{"api_key": "{}", "lr": 0.1}}',
    "dict repr": "{{'client_secret': '{}', 'lr': 0.1}}",
    "cookie": "Cookie: theme=dark; sessionid={}",
}
_secret_texts = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789_.~", min_size=12, max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(TEXT_FORMS)), _secret_texts)
def test_secrets_inside_text_are_masked_and_masking_twice_changes_nothing(form, secret):
    text = TEXT_FORMS[form].format(secret, secret)
    redacted = redact_text(text)
    assert secret not in redacted and redacted != text
    assert redact_text(redacted) == redacted


def test_masking_keeps_what_is_not_secret():
    assert redact_text(TEXT_FORMS["dsn"].format("pw")) == "host=db.internal port=5432 user=bob password=*** dbname=runs"
    assert redact_text(TEXT_FORMS["flag pair"].format("pw")) == "python train.py --password *** --epochs 3"
    assert redact_text(TEXT_FORMS["json"].format("pw")) == '{"api_key": ***, "lr": 0.1}'
    assert redact_text(TEXT_FORMS["pem"].format("a", "b")) == (
        "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----")
    assert redact_text("Cookie: theme=dark; lang=en") == "Cookie: ***"
    credentials = base64.b64encode(b"bot:pa55word").decode()
    assert redact_text(f"Authorization: Basic {credentials}") == "Authorization: ***"
    assert redact_text(f"curl -H 'Authorization: Basic {credentials}' x") == "curl -H 'Authorization: ***' x"
    assert redact_text(f"basic {credentials} in a sentence") == "basic *** in a sentence"
    shaped = ["ghp_" + "a1" * 18, "AKIAIOSFODNN7EXAMPLE", "xoxb-1234567890-abcdef", "sk-" + "Ab1" * 10,
              "hf_" + "x" * 34, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature"]
    assert redact_text(" ".join(shaped)) == " ".join([REDACTED] * len(shaped))


def test_ordinary_text_is_left_as_it_was():
    for text in ("KeyError: 'lr'", "TokenizerError: unknown word", "Basic CNN with 3 layers",
                 "ValueError: y_true and y_pred differ in length: 3 != 4", "sk-learn", "keyboard layout",
                 "training diverged at epoch 3: train.loss is nan; lower the learning rate",
                 "config run.yaml: key 'epoch' is not known; did you mean epochs?",
                 "https://mlflow.example.org/#/experiments/1/runs/0a1b", "python train.py --epochs 3 --lr 0.1",
                 "-----BEGIN CERTIFICATE", "the bearer of the news"):
        assert redact_text(text) == text


def test_the_item_after_a_secret_flag_in_a_list_is_masked():
    command = ["train.py", "--password", "pw1", "--epochs", "3", "--api-key", 42, "--no-auth", "--lr", "0.1"]
    assert redact({"argv": command, "tuple": ("--token", "pw2")}) == {
        "argv": ["train.py", "--password", REDACTED, "--epochs", "3", "--api-key", REDACTED, "--no-auth",
                 "--lr", "0.1"],
        "tuple": ("--token", REDACTED)}


def test_the_older_name_masks_every_secret_too():
    assert strip_url_credentials(TEXT_FORMS["header"].format("pw")) == "Authorization: ***"


def _plant(secret):
    """A strategy for one leaf holding ``secret`` in any of the forms redaction must catch."""
    in_text = st.sampled_from(sorted(TEXT_FORMS)).map(lambda form: TEXT_FORMS[form].format(secret, secret))
    under_key = st.tuples(st.sampled_from(["passwd", "pwd", "auth", "Authorization", "Cookie", "session",
                                           "private_key", "credentials", "dsn", "token"]), st.just(secret))
    return st.one_of(in_text.map(lambda text: {"note": text}), in_text.map(lambda text: [text]),
                     under_key.map(lambda pair: dict([pair])), st.just(["--token", secret]))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_secret_planted_in_any_form_survives_at_any_depth(data):
    # (with a letter: digits alone, such as 000000000000, can be part of a plain integer leaf's
    # text, which holds no secret; found by this test in CI)
    secret = data.draw(_secret_texts.filter(lambda text: any(character.isalpha() for character in text)))
    leaves = st.one_of(_plain_leaves, _plant(secret))
    tree = data.draw(st.recursive(leaves, _plain, max_leaves=20))
    assert secret not in json.dumps(redact({"params": tree}))
