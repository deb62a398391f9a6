"""Secret redaction: values under secret-looking keys become ``***`` and URLs lose their credentials."""

from __future__ import annotations

import re
from typing import Any, Mapping

REDACTED = "***"
# A key naming any of these (in any case, anywhere in the key) holds a secret.
SECRET_KEY_PARTS = ("key", "token", "secret", "password", "credential")

# scheme://userinfo@host: the whole userinfo goes, since a lone token in the user part is a secret too.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s/?#]*)@")
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;][^=&;\s#]*(?:" + "|".join(SECRET_KEY_PARTS) + r")[^=&;\s#]*=)(?P<value>[^&;\s#]*)",
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """True when ``key`` contains key, token, secret, password or credential, in any case."""
    lowered = str(key).lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def strip_url_credentials(text: str) -> str:
    """``text`` with ``user:password@`` removed from every URL and secret query values masked."""
    if "://" not in text and "=" not in text:
        return text
    without_userinfo = _URL_USERINFO.sub(lambda match: match.group("scheme"), text)
    return _QUERY_SECRET.sub(lambda match: match.group("name") + REDACTED, without_userinfo)


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets removed, at any nesting depth.

    Mappings keep their keys, but the value under a secret-looking key becomes ``***`` whatever
    it is (a string, a number, a whole nested mapping); strings lose URL credentials; lists and
    tuples are redacted item by item.
    """
    if isinstance(value, Mapping):
        return {key: REDACTED if is_secret_key(key) else redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact(item) for item in value)
    if isinstance(value, str):
        return strip_url_credentials(value)
    return value
