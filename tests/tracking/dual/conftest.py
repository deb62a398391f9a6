"""Fixtures for runs recorded in both real stores: a fresh MLflow SQLite store and a W&B offline folder."""

from toolkit_mlflow.testing import migrated_sqlite_template, mlflow_store  # noqa: F401
from toolkit_wandb.testing import wandb_offline  # noqa: F401
