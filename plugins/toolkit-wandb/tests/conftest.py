"""Fixtures: W&B offline runs in the test's folder."""

from toolkit_wandb.testing import wandb_offline  # noqa: F401
