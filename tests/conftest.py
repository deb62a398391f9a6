"""Shared fixtures for the core's tests: distributions installed for real into a folder on sys.path."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest


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
