"""Shared fixtures of the core tests: the example plugin installed for real, hand-made distributions."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = REPO_ROOT / "examples" / "custom_metric_plugin"


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


@pytest.fixture
def write_distribution(tmp_path: Path) -> Callable[..., Path]:
    """``write_distribution(site, name, module_source, entry_point=..., version="1.0")``.

    Writes an installed distribution the way an installer lays it out: a module, and a
    ``<name>-<version>.dist-info`` folder with METADATA, entry_points.txt and RECORD. Used for
    broken plugins, which no one would publish; the working example is installed by pip.
    """

    def write(site: Path, name: str, module_source: str, *, entry_point: str, version: str = "1.0") -> Path:
        module = name.replace("-", "_")
        site.mkdir(parents=True, exist_ok=True)
        (site / f"{module}.py").write_text(textwrap.dedent(module_source))
        dist_info = site / f"{module}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (dist_info / "entry_points.txt").write_text(f"[toolkit.plugins]\n{entry_point} = {module}\n")
        (dist_info / "RECORD").write_text(
            f"{module}.py,,\n{dist_info.name}/METADATA,,\n{dist_info.name}/entry_points.txt,,\n"
            f"{dist_info.name}/RECORD,,\n"
        )
        return site

    return write


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
