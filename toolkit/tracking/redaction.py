"""Secret redaction: values under secret-looking keys become ``***``, and secrets inside any text are masked.

Two rules, applied together by :func:`redact` at every depth of params (and by :func:`redact_text`
to run names, tags and error messages):

- by key: a mapping value under a key naming a secret (:data:`SECRET_KEY_PARTS`, anywhere in the
  key, any case) becomes ``***`` whatever it is; in a list, the item after a command-line flag
  naming a secret (``["--password", "X"]``) too;
- by value: inside any string, ``user:password@`` in URLs, ``Bearer``/``Basic`` credentials,
  PEM blocks, ``name=value`` and ``"name": value`` where the name names a secret (DSNs, query
  strings, ``--token=X``, JSON or dict text), ``--password X`` pairs, and tokens whose shape
  gives them away (GitHub, AWS, Slack, OpenAI, Hugging Face, JWT).

Erring on the side of masking: a harmless param such as ``author`` (it names ``auth``) is
masked too, since a missed secret cannot be taken back from a tracker.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Mapping

REDACTED = "***"
# A key naming any of these (in any case, anywhere in the key) holds a secret.
SECRET_KEY_PARTS = (
    "key", "token", "secret", "password", "passwd", "pwd", "passphrase", "credential", "auth",
    "authorization", "cookie", "session", "dsn", "connection_string",
)
_PARTS = "|".join(SECRET_KEY_PARTS)
_NAME_CHARS = r"[\w.\-]"
_QUOTED = r"\"[^\"]*\"|'[^']*'"

# scheme://userinfo@host: the whole userinfo goes, since a lone token in the user part is a secret too.
# (The scheme starts where a run of scheme characters starts: matching from inside one would take
# time quadratic in its length.)
_URL_USERINFO = re.compile(r"(?P<keep>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://)(?P<secret>[^\s/?#]*)@")
# A PEM block, or its beginning when the text was cut before its end.
_PEM = re.compile(r"(?P<keep>-----BEGIN (?P<label>[A-Z0-9 ]+)-----)(?P<secret>.*?(?:-----END (?P=label)-----|\Z))",
                  re.DOTALL)
# The scheme as headers write it (in "authorization: bearer x" the header name gives it away).
_BEARER = re.compile(r"(?P<keep>\b(?:Bearer|BEARER)\s+)(?P<secret>[A-Za-z0-9\-._~+/]+=*)")
_BASIC = re.compile(r"(?P<keep>\bBasic\s+)(?P<secret>[A-Za-z0-9+/]+={0,2})(?![\w+/=])", re.IGNORECASE)
# name=value: DSN keywords (password=...), query strings (?access_token=...), --token=X.
_ASSIGNED = re.compile(
    rf"(?P<keep>(?<!{_NAME_CHARS}){_NAME_CHARS}*(?:{_PARTS}){_NAME_CHARS}*[\"']?\s*=\s*)"
    rf"(?P<secret>{_QUOTED}|[^\s&;,#'\")\]}}]*)",
    re.IGNORECASE,
)
# "name": value (JSON, a dict's repr, an HTTP header line). The name must END with a secret word,
# so that "KeyError: 'x'" or "TokenizerError: ..." in an error message stays readable.
_COLON = re.compile(
    rf"(?P<keep>(?<!{_NAME_CHARS})[\"']?{_NAME_CHARS}*?(?:{_PARTS})s?[\"']?\s*:\s*)"
    rf"(?P<secret>{_QUOTED}|(?:Bearer|Basic|Digest|Token|Bot)\s+[^\s,;}}\]\"']+|[^\s,;}}\]\"']+)",
    re.IGNORECASE,
)
# A cookie header holds several name=value pairs, each one a session: everything to the line's end.
_COOKIE = re.compile(rf"(?P<keep>\b(?:set-)?cookies?[\"']?\s*:\s*)(?P<secret>{_QUOTED}|[^\s'\"}}\]][^\r\n'\"}}\]]*)",
                     re.IGNORECASE)
# "--password X" in a command line, or "'--password', 'X'" in a printed list (the value may not be
# the next flag).
_FLAG_PAIR = re.compile(
    rf"(?P<keep>(?<![^\s\"'\[(])--?{_NAME_CHARS}*(?:{_PARTS}){_NAME_CHARS}*(?:\s+|[\"']\s*,\s*(?=[\"'])))"
    rf"(?![\"']?--)(?P<secret>{_QUOTED}|\S+)",
    re.IGNORECASE,
)
_FLAG = re.compile(rf"--?{_NAME_CHARS}*(?:{_PARTS}){_NAME_CHARS}*", re.IGNORECASE)
# Tokens recognisable by their shape alone.
_SHAPED_TOKENS = re.compile(
    r"(?P<keep>)(?P<secret>\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_\w{30,}|\bAKIA[0-9A-Z]{16}\b"
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}|\bsk-[A-Za-z0-9_\-]{20,}|\bhf_[A-Za-z0-9]{30,}"
    r"|\beyJ[\w\-]+\.eyJ[\w\-]+\.[\w\-]+)"
)


def is_secret_key(key: object) -> bool:
    """True when ``key`` names a secret (one of :data:`SECRET_KEY_PARTS`, in any case, anywhere)."""
    lowered = str(key).lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def is_secret_flag(item: object) -> bool:
    """True for a command-line flag naming a secret: ``--password``, ``--api-key``, ``-token``."""
    return isinstance(item, str) and _FLAG.fullmatch(item) is not None


def _mask(match: re.Match) -> str:
    return match.group("keep") + REDACTED


def _mask_pem(match: re.Match) -> str:
    ended = match.group("secret").endswith("-----")
    return match.group("keep") + REDACTED + (f"-----END {match.group('label')}-----" if ended else "")


def _mask_basic(match: re.Match) -> str:
    """Basic credentials are base64 of ``user:password``; other words after "basic" stay."""
    try:
        decoded = base64.b64decode(match.group("secret"), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return _mask(match) if b":" in decoded else match.group(0)


# (what a text must contain, in lower case, for the rule to apply; the rule): the test is cheap,
# the regular expression is not, and most params hold none of these.
_TEXT_RULES = (
    ("-----begin", _PEM, _mask_pem), ("://", _URL_USERINFO, lambda match: match.group("keep")),
    ("bearer", _BEARER, _mask), ("basic", _BASIC, _mask_basic), ("cookie", _COOKIE, _mask),
    ("=", _ASSIGNED, _mask), (":", _COLON, _mask), ("-", _FLAG_PAIR, _mask), ("", _SHAPED_TOKENS, _mask),
)


def redact_text(text: str) -> str:
    """``text`` with every secret the value rules recognise replaced by ``***`` (URLs lose ``user:password@``)."""
    lowered = text.lower()
    for trigger, pattern, replace in _TEXT_RULES:
        if trigger in lowered:
            text = pattern.sub(replace, text)
    return text


def strip_url_credentials(text: str) -> str:
    """The same as :func:`redact_text` (this older name is kept for its callers): URL credentials
    and every other secret in ``text`` are masked."""
    return redact_text(text)


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets removed, at any nesting depth.

    Mappings keep their keys, but the value under a secret-looking key becomes ``***`` whatever
    it is (a string, a number, a whole nested mapping); strings go through :func:`redact_text`;
    lists and tuples are redacted item by item, and the item after a secret flag is masked.
    """
    if isinstance(value, Mapping):
        return {key: REDACTED if is_secret_key(key) else redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [REDACTED if index and is_secret_flag(value[index - 1]) and not _is_flag(item) else redact(item)
                 for index, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, str):
        return redact_text(value)
    return value


def _is_flag(item: object) -> bool:
    return isinstance(item, str) and item.startswith("--")
