"""Choosing W&B's mode without ever prompting: online only when an API key is configured."""

from __future__ import annotations

import netrc
import os
import warnings
from typing import Mapping, Optional
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.wandb.ai"


def has_api_key(environ: Mapping[str, str] = os.environ) -> bool:
    """True when W&B could log in without asking: ``WANDB_API_KEY``, an identity token file, or netrc."""
    if environ.get("WANDB_API_KEY") or environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlsplit(environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL).hostname
    path = environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not host or not os.path.isfile(path):
        return False
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (netrc.NetrcParseError, OSError):
        return False
    return bool(entry and entry[2])


def choose_mode(environ: Mapping[str, str] = os.environ) -> str:
    """"online", "offline" or "disabled": ``WANDB_MODE`` when it asks for offline or disabled,
    online when a key is configured, offline otherwise (W&B would prompt for a key)."""
    requested: Optional[str] = (environ.get("WANDB_MODE") or "").strip().lower() or None
    if requested == "disabled":
        return "disabled"
    if requested in ("offline", "dryrun"):
        return "offline"
    if has_api_key(environ):
        return "online"
    if requested in ("online", "run"):
        warnings.warn("WANDB_MODE asks for online but no W&B API key is configured (WANDB_API_KEY "
                      "or netrc); recording offline instead of prompting for one", stacklevel=3)
    return "offline"
