#!/usr/bin/env python3
"""A team MLflow tracking server: PostgreSQL (Debian's, started here) behind MLflow with basic auth.

    python scripts/mlflow_team_server.py [--data .mlflow-team] [--host 127.0.0.1] [--port 5000]

Runs in the foreground until Ctrl-C (or SIGTERM), then stops MLflow and PostgreSQL. The first
run installs PostgreSQL if it is missing (apt-get, as root), creates a database cluster in
DATA/postgres listening on 127.0.0.1 only, a database role and two databases (runs, users), and
random secrets in DATA (mode 0600). Later runs reuse them, so runs and users are kept.

Secrets never appear on a command line or in the output: PostgreSQL's password reaches libpq
through a password file (PGPASSFILE), MLflow's admin password through MLFLOW_AUTH_ADMIN_PASSWORD,
and clients read theirs from DATA/client.env (MLFLOW_TRACKING_URI/USERNAME/PASSWORD). DATA/server.json
tells tools the URI and the process ids.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

DATABASE_ROLE = "mlflow"
RUNS_DATABASE = "mlflow"
USERS_DATABASE = "mlflow_auth"
ADMIN_USERNAME = "admin"
SUPERUSER = "postgres"
START_TIMEOUT = 120.0


class SetupError(Exception):
    """Something the server needs is missing; the message says what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs, installing Debian's package when missing."""
    found = _installed_postgres()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SetupError("PostgreSQL is not installed and this is not root on Debian: "
                         "install the postgresql package, then run again")
    print("installing PostgreSQL (apt-get install postgresql) ...", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=environment, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=environment, stdout=subprocess.DEVNULL, check=False)
        if subprocess.run(install, env=environment, stdout=subprocess.DEVNULL).returncode != 0:
            raise SetupError("apt-get install postgresql failed")
    found = _installed_postgres()
    if not found:
        raise SetupError("the postgresql package installed no server under /usr/lib/postgresql")
    return found


def _installed_postgres() -> Optional[Path]:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                        key=lambda path: int(Path(path).parent.parent.name))
    return Path(candidates[-1]).parent if candidates else None


class TeamServer:
    """PostgreSQL and MLflow for one data folder; ``start`` then ``stop`` (always, by pid)."""

    def __init__(self, data: Path, host: str, port: int) -> None:
        self.data = data.resolve()
        self.host = host
        self.port = port or free_port(host)
        self.cluster = self.data / "postgres"
        self.secrets_file = self.data / "secrets.json"
        self.postgres: Optional[subprocess.Popen] = None
        self.mlflow: Optional[subprocess.Popen] = None
        # As root, PostgreSQL refuses to run: it runs as Debian's "postgres" user instead.
        self.run_as = SUPERUSER if os.geteuid() == 0 else None

    @property
    def tracking_uri(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- setup ---------------------------------------------------------------------------------

    def _secrets(self) -> dict:
        if self.secrets_file.exists():
            return json.loads(self.secrets_file.read_text())
        values = {name: secrets.token_urlsafe(24) for name in
                  ("superuser_password", "database_password", "admin_password", "flask_secret_key")}
        _write_private(self.secrets_file, json.dumps(values, indent=2))
        return values

    def _prepare_folder(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            self.data.chmod(0o711)  # the postgres user must reach DATA/postgres, and nothing else
            reachable = subprocess.run(["runuser", "-u", self.run_as, "--", "test", "-x", str(self.data)])
            if reachable.returncode != 0:
                raise SetupError(f"user {self.run_as!r} cannot reach {self.data}: choose a --data "
                                 "folder whose parent folders it may enter (e.g. under /tmp or /srv)")

    def _init_cluster(self, bin_folder: Path, values: dict) -> bool:
        """initdb on the first run; True when the cluster is new."""
        if (self.cluster / "PG_VERSION").exists():
            return False
        self.cluster.mkdir(mode=0o700)
        password_file = self.data / "superuser.pw"
        _write_private(password_file, values["superuser_password"] + "\n")
        if self.run_as:
            shutil.chown(self.cluster, self.run_as, self.run_as)
            shutil.chown(password_file, self.run_as, self.run_as)
        try:
            _run_checked([str(bin_folder / "initdb"), "-D", str(self.cluster), "-U", SUPERUSER,
                          "--auth=scram-sha-256", f"--pwfile={password_file}", "--no-locale",
                          "-E", "UTF8"], user=self.run_as, what="initdb")
        finally:
            password_file.unlink()
        return True

    def _password_file(self, values: dict, postgres_port: int) -> Path:
        """A libpq password file, so no password is ever part of a URI or a command line."""
        path = self.data / "pgpass"
        lines = [f"127.0.0.1:{postgres_port}:*:{DATABASE_ROLE}:{values['database_password']}",
                 f"127.0.0.1:{postgres_port}:*:{SUPERUSER}:{values['superuser_password']}"]
        _write_private(path, "\n".join(lines) + "\n")
        return path

    def _create_databases(self, postgres_port: int) -> None:
        import psycopg2
        from psycopg2 import sql

        values = self._secrets()
        connection = psycopg2.connect(host="127.0.0.1", port=postgres_port, user=SUPERUSER, dbname="postgres")
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(DATABASE_ROLE)),
                           [values["database_password"]])
            for database in (RUNS_DATABASE, USERS_DATABASE):
                cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(DATABASE_ROLE)))
        connection.close()

    # --- processes -----------------------------------------------------------------------------

    def start(self) -> None:
        bin_folder = postgres_bin()
        self._prepare_folder()
        values = self._secrets()
        new_cluster = self._init_cluster(bin_folder, values)
        postgres_port = free_port()
        os.environ["PGPASSFILE"] = str(self._password_file(values, postgres_port))
        socket_folder = self.cluster  # the cluster folder is private to the postgres user
        self.postgres = subprocess.Popen(
            [str(bin_folder / "postgres"), "-D", str(self.cluster), "-p", str(postgres_port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={socket_folder}"],
            user=self.run_as, group=self.run_as, stdout=self._log("postgres.log"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._write_state(postgres_port)
        _wait_for(lambda: _port_open("127.0.0.1", postgres_port), self.postgres, "PostgreSQL", self.data / "postgres.log")
        if new_cluster:
            self._create_databases(postgres_port)
        self._start_mlflow(values, postgres_port)
        self._write_state(postgres_port)
        _wait_for(lambda: _healthy(self.tracking_uri), self.mlflow, "MLflow", self.data / "mlflow.log")
        _write_private(self.data / "client.env", "".join(
            f"{name}={value}\n" for name, value in (
                ("MLFLOW_TRACKING_URI", self.tracking_uri),
                ("MLFLOW_TRACKING_USERNAME", ADMIN_USERNAME),
                ("MLFLOW_TRACKING_PASSWORD", values["admin_password"]))))

    def _start_mlflow(self, values: dict, postgres_port: int) -> None:
        auth_config = self.data / "basic_auth.ini"
        _write_private(auth_config, "\n".join([
            "[mlflow]",
            "default_permission = READ",
            f"database_uri = postgresql+psycopg2://{DATABASE_ROLE}@127.0.0.1:{postgres_port}/{USERS_DATABASE}",
            f"admin_username = {ADMIN_USERNAME}",
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth",
            # Without a cache every request pays a PBKDF2 password check (tenths of a second);
            # a changed password may then still work for up to this long on the other worker.
            "auth_cache_ttl_seconds = 60",
            "",
        ]))
        environment = {
            **os.environ,
            "MLFLOW_AUTH_CONFIG_PATH": str(auth_config),
            "MLFLOW_AUTH_ADMIN_PASSWORD": values["admin_password"],
            "MLFLOW_FLASK_SERVER_SECRET_KEY": values["flask_secret_key"],
            "PGPASSFILE": os.environ["PGPASSFILE"],
        }
        artifacts = self.data / "artifacts"
        artifacts.mkdir(exist_ok=True)
        self.mlflow = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth",
             "--backend-store-uri", f"postgresql+psycopg2://{DATABASE_ROLE}@127.0.0.1:{postgres_port}/{RUNS_DATABASE}",
             "--artifacts-destination", str(artifacts), "--host", self.host, "--port", str(self.port),
             "--workers", "2"],
            env=environment, stdout=self._log("mlflow.log"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share its process group, stopped together
        )

    def _log(self, name: str):
        return open(self.data / name, "ab")

    def _write_state(self, postgres_port: int) -> None:
        state = {"tracking_uri": self.tracking_uri, "postgres_port": postgres_port,
                 "postgres_pid": self.postgres.pid if self.postgres else None,
                 "mlflow_pid": self.mlflow.pid if self.mlflow else None,
                 "supervisor_pid": os.getpid(), "client_env": str(self.data / "client.env")}
        (self.data / "server.json").write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        """MLflow first (its process group), then PostgreSQL (fast shutdown); by pid, waited for."""
        if self.mlflow is not None:
            _stop_group(self.mlflow, signal.SIGTERM)
        if self.postgres is not None:
            _stop_group(self.postgres, signal.SIGINT)  # SIGINT = PostgreSQL's fast shutdown

    def wait(self) -> int:
        """Until either server exits by itself (an error: 1); a signal ends it sooner."""
        while True:
            for process, name in ((self.postgres, "PostgreSQL"), (self.mlflow, "MLflow")):
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; see {self.data}/*.log", file=sys.stderr)
                    return 1
            time.sleep(0.5)


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _run_checked(command: list[str], user: Optional[str], what: str) -> None:
    completed = subprocess.run(command, user=user, group=user, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SetupError(f"{what} failed: {completed.stderr.strip() or completed.stdout.strip()}")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _healthy(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _wait_for(ready, process: subprocess.Popen, name: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            raise SetupError(f"{name} exited with code {process.returncode}: " + " | ".join(tail))
        if time.monotonic() > deadline:
            raise SetupError(f"{name} did not answer within {START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.3)


def _stop_group(process: subprocess.Popen, first_signal: int, grace: float = 20.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, first_signal)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _interrupt(signal_number: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".mlflow-team", type=Path,
                        help="folder for the database, artifacts, secrets and logs (default: .mlflow-team)")
    parser.add_argument("--host", default="127.0.0.1", help="address MLflow listens on (default: 127.0.0.1)")
    parser.add_argument("--port", default=5000, type=int, help="MLflow's port; 0 picks a free one (default: 5000)")
    args = parser.parse_args(argv)
    server = TeamServer(args.data, args.host, args.port)
    signal.signal(signal.SIGTERM, _interrupt)  # so that SIGTERM, like Ctrl-C, stops both servers
    try:
        server.start()
        print(f"MLflow team server ready at {server.tracking_uri} (PostgreSQL on 127.0.0.1, basic auth).\n"
              f"Clients: set -a; . {server.data / 'client.env'}; set +a   (admin credentials; "
              "create a user per person with mlflow.server.get_app_client)\nCtrl-C stops it.", flush=True)
        return server.wait()
    except SetupError as error:
        print(f"mlflow-team-server: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopping MLflow and PostgreSQL ...", flush=True)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
