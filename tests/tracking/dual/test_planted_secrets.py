"""Secrets planted everywhere a user can put them reach no byte of either store, nor any output.

``toolkit train`` runs for real with MLflow's SQLite store and W&B's offline folder: once in
process (with a plugin that sets tags), once as the installed command whose training fails with
a library's error quoting a secret. Each planted secret is unique to its form and place, so a
leak names what leaked and where it was planted. Values next to the secrets that are not secret
must be found in the same bytes, or the search would prove nothing.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit import cli
from toolkit.plugin import hookimpl

SECRET_KEYS = ("passwd", "pwd", "auth", "Authorization", "cookie", "session", "private_key", "credentials",
               "dsn", "api_key", "token", "client_secret", "password")


class Planted:
    """Hands out unique secrets and remembers where each was planted."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # secret -> where it was planted
        self.controls: list[str] = []

    def secret(self, where: str) -> str:
        value = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        self.secrets[value] = where
        return value

    def basic_credentials(self, where: str) -> str:
        encoded = base64.b64encode(f"bot:{uuid.uuid4().hex}".encode()).decode()
        self.secrets[encoded] = where
        return encoded

    def control(self) -> str:
        value = f"visible{uuid.uuid4().hex[:16]}"
        self.controls.append(value)
        return value

    def values(self, place: str) -> dict[str, Any]:
        """Every form of secret, under keys that do not name a secret, plus every secret key."""
        def s(form: str) -> str:
            return self.secret(f"{form} at {place}")

        return {
            "v_control": self.control(),
            "v_bearer": f"Bearer {s('Bearer token')}",
            "v_header": f"Authorization: Bearer {s('Authorization header')}",
            "v_basic": f"Basic {self.basic_credentials(f'Basic credentials at {place}')}",
            "v_pem": f"-----BEGIN RSA PRIVATE KEY-----\n{s('PEM block')}\n-----END RSA PRIVATE KEY-----",
            "v_libpq": f"host=db.internal user=bob password={s('libpq DSN password=')} dbname=runs",
            "v_query": f"https://store.example/upload?user=me&access_token={s('query token')}&part=1",
            "v_url": f"postgresql://bob:{s('URL user:password')}@db.internal:5432/runs",
            "v_command": f"python train.py --password {s('--password in a string')} --epochs 3",
            "v_argv": ["train.py", "--token", s("--token pair in a list"), "--epochs", "3"],
            "v_json": f'{{"client_secret": "{s("JSON text")}", "lr": 0.1}}',
            "v_cookie": f"Cookie: theme=dark; sessionid={s('cookie header')}",
            **{key: s(f"key {key}") for key in SECRET_KEYS},
        }

    def params(self) -> dict[str, Any]:
        """The forms at depth 0, 1 and 3, inside lists and lists of mappings, and in a long value."""
        return {
            **self.values("depth 0"),
            "level1": self.values("depth 1"),
            "a": {"b": {"c": self.values("depth 3")}},
            "items": [self.values("a mapping in a list"), 7,
                      *[value for key, value in self.values("a list").items() if key.startswith("v_")]],
            "headers": {"Authorization": f"Bearer {self.secret('headers.Authorization')}"},
            "long": "x" * 6000 + "".join(f"\n{key}: {value}" for key, value in self.values("a long value").items()),
        }


def _stored_bytes(root: str) -> dict[str, bytes]:
    contents = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                with open(path, "rb") as handle:
                    contents[path] = handle.read()
    return contents


def _leaks(planted: Planted, contents: dict[str, bytes]) -> list[tuple[str, str]]:
    """(where planted, file) for every secret, or half of one, found in ``contents``."""
    found = []
    for secret, where in planted.secrets.items():
        pieces = (secret, secret[: len(secret) // 2], secret[len(secret) // 2:])
        found += [(where, path) for path, content in contents.items()
                  if any(piece.encode() in content for piece in pieces)]
    return found


class TaggingPlugin:
    """Sets tags when a run starts, as a notifier or CI plugin would."""

    def __init__(self, planted: Planted) -> None:
        self.planted = planted

    @hookimpl
    def toolkit_run_started(self, run):
        run.set_tags({
            "ci.job": f"https://ci:{self.planted.secret('tag value URL')}@ci.example/job/7",
            "ci.note": f"called with Authorization: Bearer {self.planted.secret('tag value header')}",
            "ci.deploy_token": self.planted.secret("tag under a secret key"),
            "ci.control": self.planted.control(),
        })


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture
def toolkit_plugins(planted):
    return [TaggingPlugin(planted)]


def _config(folder, name: str, options: dict, run_name: str, params: dict) -> str:
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w") as handle:
        yaml.safe_dump({
            "run_name": run_name, "epochs": 1, "batch_size": 64, "data": {"name": "digits"},
            "model": {"framework": "sklearn", "estimator": "sklearn.linear_model.LogisticRegression",
                      "options": options},
            "metrics": ["accuracy"], "trackers": ["mlflow", "wandb"], "params": params,
        }, handle)
    return path


@pytest.mark.slow
def test_secrets_planted_in_params_run_names_tags_and_errors_reach_no_store_and_no_output(
        planted, mlflow_store, wandb_offline, toolkit_plugin_manager, tmp_path_factory, capfd):
    configs = tmp_path_factory.mktemp("configs")  # outside the stores: the config holds the secrets in clear
    run_name = (f"nightly https://bot:{planted.secret('URL in a run name')}@ci.example/7 "
                f"Bearer {planted.secret('Bearer in a run name')}")
    finished = _config(configs, "finished", {"max_iter": 200}, run_name, planted.params())
    # scikit-learn refuses this solver inside fit, quoting it: the error message holds a secret.
    failing = _config(configs, "failing", {"solver": f"Bearer {planted.secret('error message')}"},
                      f"failing {planted.control()}", {"note": planted.control()})

    assert cli.main(["train", finished]) == 0
    out, err = capfd.readouterr()
    # The environment (stores, W&B offline) is the fixtures'; the traceback of this bug goes to stderr.
    command = subprocess.run([str(Path(sys.executable).with_name("toolkit")), "train", failing],
                             capture_output=True, text=True, timeout=600)
    assert command.returncode == 1 and "InvalidParameterError" in command.stderr

    mlflow_runs = mlflow_store.runs()
    wandb_runs = wandb_offline.runs()  # waits until W&B's writer has written everything
    assert [run.info.status for run in mlflow_runs] == ["FINISHED", "FAILED"]
    assert [run.exit_code for run in wandb_runs] == [0, 1]
    assert "Bearer ***" in mlflow_runs[1].data.tags["toolkit.error"]
    assert mlflow_runs[0].data.tags["ci.deploy_token"] == "***"
    assert mlflow_runs[0].data.params["level1.passwd"] == "***"
    assert wandb_runs[0].config["a.b.c.v_libpq"] == "host=db.internal user=bob password=*** dbname=runs"
    assert "Got 'Bearer ***' instead" in command.stderr

    contents = _stored_bytes(mlflow_store.folder)  # mlflow.db, mlruns/ (artifacts) and W&B's folder
    assert os.path.join(mlflow_store.folder, "mlflow.db") in contents
    assert any(path.endswith(".wandb") for path in contents)
    assert any("/params/long-" in path for path in contents)  # the long value's artifact, in both stores
    contents.update({"<stdout>": out.encode(), "<stderr>": err.encode(),
                     "<the command's stdout>": command.stdout.encode(), "<the command's stderr>": command.stderr.encode()})
    leaks = _leaks(planted, contents)
    assert leaks == [], "\n".join(f"{where}: {path}" for where, path in leaks)
    # The search reads the bytes the values went to: what is not secret is found in each store.
    wandb_root = os.path.join(wandb_offline.root, "wandb")
    in_wandb = b"".join(content for path, content in contents.items() if path.startswith(wandb_root))
    in_mlflow = b"".join(content for path, content in contents.items()
                         if path == mlflow_store.database or "/mlruns/" in path)
    for control in planted.controls:
        assert control.encode() in in_mlflow and control.encode() in in_wandb, control
