"""Shared fixtures of the core tests: distributions installed for real into folders on sys.path,
and the engine's helper thread held busy."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = REPO_ROOT / "examples" / "custom_metric_plugin"


@pytest.fixture
def install_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Install a distribution the way ``pip install --target`` lays it out: its modules plus a
    ``.dist-info`` with METADATA and entry_points.txt, in a folder put on ``sys.path``.

    ``install_distribution("my-dist", {"my_plugin": "<source>"}, {"my": "my_plugin"})``
    """
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(site))

    def install(distribution: str, modules: dict[str, str], entry_points: dict[str, str],
                version: str = "1.0") -> Path:
        for module, source in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[toolkit.plugins]\n{lines}")
        return site

    yield install
    for module in list(sys.modules):
        if (site / f"{module}.py").exists():
            del sys.modules[module]


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where pip installed examples/custom_metric_plugin (the one pip install of the session).

    ``pip install --target`` writes exactly what an install into a venv writes (the package and
    its dist-info with entry_points.txt and RECORD); the folder joins ``sys.path`` only in the
    tests that want the plugin, so the rest of the suite never sees it.
    """
    site = tmp_path_factory.mktemp("example-site")
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(site), str(EXAMPLE_PLUGIN)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return site


def _forget_modules(prefix: str) -> None:
    for name in [name for name in sys.modules if name == prefix or name.startswith(prefix + ".")]:
        del sys.modules[name]


@pytest.fixture
def on_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """``on_sys_path(folder)``: make the distributions in ``folder`` importable and discoverable for one test."""
    added: list[Path] = []

    def add(folder: Path) -> None:
        monkeypatch.syspath_prepend(str(folder))
        importlib.invalidate_caches()
        added.append(folder)

    yield add
    for folder in added:  # modules imported from the folder must not outlive the test
        for module_name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", "") or "").startswith(str(folder)):
                _forget_modules(module_name)
    importlib.invalidate_caches()


def uninstall(site: Path, distribution_prefix: str) -> list[Path]:
    """Delete every file a distribution's RECORD lists, as ``pip uninstall`` does; returns them."""
    (dist_info,) = site.glob(f"{distribution_prefix}-*.dist-info")
    removed = []
    for line in (dist_info / "RECORD").read_text().splitlines():
        path = site / line.split(",")[0]
        if path.is_file():
            path.unlink()
            removed.append(path)
    for folder in sorted({path.parent for path in removed}, key=lambda p: len(p.parts), reverse=True):
        for cache in folder.glob("__pycache__"):
            for compiled in cache.iterdir():
                compiled.unlink()
            cache.rmdir()
        if folder != site and not any(folder.iterdir()):
            folder.rmdir()
    return removed


@pytest.fixture
def uninstall_distribution() -> Callable[[Path, str], list[Path]]:
    """``uninstall_distribution(site, "toolkit_custom_metrics")``: remove it the way pip does."""
    return uninstall


@pytest.fixture
def busy_helper() -> Iterator[None]:
    """The engine's helper thread held by another task (as by another thread's evaluation) until the test ends."""
    from toolkit.evaluation import concurrency

    release = threading.Event()
    holding = concurrency.helper_thread().submit(release.wait, 60)
    yield
    release.set()
    holding.result(timeout=60)
