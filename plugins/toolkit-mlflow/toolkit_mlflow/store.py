"""Opening an MLflow store safely: one creator per new SQLite file, bounded waits for servers.

A new SQLite store keeps its artifacts beside the database (``artifact_root``), not in the
current folder.

MLflow alone breaks a new SQLite store when several processes create it at once (each runs the
schema migrations), and retries an unreachable server for minutes. Here the first creation is
serialised with a file lock beside the database, and HTTP retries are bounded while a run is open.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator, Optional
from urllib.parse import unquote, urlsplit

# While a run talks to a server: one retry, 3 s per attempt, so a dead server is an error in < 10 s.
# Values the user already set in the environment win.
BOUNDED_HTTP_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
}
# How long a process waits for another one that is creating the same store.
STORE_LOCK_TIMEOUT_SECONDS = 300


def sqlite_path(tracking_uri: str) -> Optional[str]:
    """The database file of a ``sqlite:///`` URI (absolute), or None for other stores and ``:memory:``."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    path = unquote(urlsplit(tracking_uri).path)
    if tracking_uri.startswith("sqlite:////"):
        path = "/" + path.lstrip("/")
    elif tracking_uri.startswith("sqlite:///"):
        path = path[1:]  # sqlite:///relative.db: the path after the third slash is relative
    else:
        return None
    if not path or path == ":memory:":
        return None
    return os.path.abspath(path)


def artifact_root(tracking_uri: str) -> Optional[str]:
    """Where a SQLite store's runs keep their files: ``mlruns`` beside the database file.

    MLflow's own default is ``./mlruns`` of whatever folder the first command ran in, so the same
    store scatters its artifacts over every folder it was used from.
    """
    path = sqlite_path(tracking_uri)
    return None if path is None else os.path.join(os.path.dirname(path), "mlruns")


def sqlite_store(tracking_uri: str) -> object:
    """MLflow's store for a SQLite URI, creating new experiments (Default too) under ``artifact_root``."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return SqlAlchemyStore(tracking_uri, artifact_root(tracking_uri))


def is_http(tracking_uri: str) -> bool:
    return urlsplit(tracking_uri).scheme in ("http", "https")


@contextlib.contextmanager
def store_creation_lock(tracking_uri: str) -> Iterator[None]:
    """Hold a lock beside a SQLite store while it is opened (and created, for a new file)."""
    path = sqlite_path(tracking_uri)
    if path is None:
        yield
        return
    from filelock import FileLock

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    with FileLock(path + ".lock", timeout=STORE_LOCK_TIMEOUT_SECONDS):
        yield


class BoundedHttp:
    """Sets MLflow's HTTP retry settings for the time a run is open, then puts them back.

    MLflow reads these environment variables on every request, and offers no per-client
    setting; only variables the user did not set are touched.
    """

    _lock = threading.Lock()
    _users = 0
    _applied: dict[str, str] = {}

    def __enter__(self) -> "BoundedHttp":
        with BoundedHttp._lock:
            if BoundedHttp._users == 0:
                BoundedHttp._applied = {
                    name: value for name, value in BOUNDED_HTTP_SETTINGS.items() if name not in os.environ
                }
                os.environ.update(BoundedHttp._applied)
            BoundedHttp._users += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        with BoundedHttp._lock:
            BoundedHttp._users -= 1
            if BoundedHttp._users == 0:
                for name, value in BoundedHttp._applied.items():
                    if os.environ.get(name) == value:
                        del os.environ[name]
                BoundedHttp._applied = {}
