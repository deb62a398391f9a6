"""Fixtures: a fresh SQLite store per test and one real mlflow server per module."""

from toolkit_mlflow.testing import mlflow_server, mlflow_store, migrated_sqlite_template  # noqa: F401
