"""``toolkit new-plugin``: the distribution it writes installs with pip, is listed, passes its own tests and the checks."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

from toolkit.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]


def _environment(site: Path) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(site)}
    for variable in ("TOOLKIT_DISABLE_PLUGINS", "TOOLKIT_TRACE_PLUGINS", "PYTEST_ADDOPTS"):
        environment.pop(variable, None)
    return environment


def _run(arguments: list, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, cwd=cwd, env=_environment(site), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("flags, name, tests, metrics, statistics, trackers", [
    ([], "brier", 4, ["brier_error_rate"], [], []),
    (["--statistic", "--tracker"], "toolkit-calib", 8,
     ["calib_error_rate", "calib_mean_true_probability"], ["calib_true_probability"], ["calib"]),
])
def test_the_generated_distribution_installs_is_listed_and_passes_its_tests(
    tmp_path, capsys, flags, name, tests, metrics, statistics, trackers
):
    assert main(["new-plugin", name, "--directory", str(tmp_path), *flags]) == 0
    plugin = name.removeprefix("toolkit-")
    source = tmp_path / f"toolkit-{plugin}"
    assert f"wrote {source}" in capsys.readouterr().out

    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--target", str(site), str(source)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    (dist_info,) = site.glob(f"toolkit_{plugin}-0.1.0.dist-info")
    assert f"{plugin} = toolkit_{plugin}.plugin" in (dist_info / "entry_points.txt").read_text()

    listing = _run([sys.executable, "-m", "toolkit.cli", "plugins", "--json", "--strict"], site, tmp_path)
    assert listing.returncode == 0, listing.stderr
    (entry,) = [entry for entry in json.loads(listing.stdout)["plugins"] if entry["name"] == plugin]
    assert (entry["distribution"], entry["version"]) == (f"toolkit-{plugin}", "0.1.0")
    assert (entry["metrics"], entry["statistics"], entry["trackers"]) == (metrics, statistics, trackers)

    # The generated tests, run as an author would, against the installed distribution only: the
    # tests folder is copied away from the package source.
    project = tmp_path / "author"
    shutil.copytree(source / "tests", project / "tests")
    completed = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], site, project)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip().splitlines()[-1].startswith(f"{tests} passed"), completed.stdout

    checked = _run([sys.executable, "-m", "toolkit.cli", "plugins", "--check", plugin], site, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == (
        f"{plugin} (toolkit-{plugin}): {len(metrics)} metric(s), {len(statistics)} statistic(s): ok")


def test_the_generated_plugin_module_registers_only_what_was_asked_for(tmp_path):
    assert main(["new-plugin", "plain", "--directory", str(tmp_path)]) == 0
    package = tmp_path / "toolkit-plain" / "toolkit_plain"
    assert sorted(path.name for path in package.iterdir()) == ["__init__.py", "metrics.py", "plugin.py"]
    source = (package / "plugin.py").read_text()
    assert "def toolkit_register_metrics" in source and "toolkit_register_statistics" not in source
    assert "from toolkit.plugin import MetricSpec, hookimpl\n" in source
    assert sorted(path.name for path in (tmp_path / "toolkit-plain" / "tests").iterdir()) == [
        "conftest.py", "test_metrics.py"]
    pyproject = (tmp_path / "toolkit-plain" / "pyproject.toml").read_text()
    assert '[project]\nname = "toolkit-plain"\nversion = "0.1.0"\n' in pyproject
    assert '[project.entry-points."toolkit.plugins"]\nplain = "toolkit_plain.plugin"\n' in pyproject
    for path in (tmp_path / "toolkit-plain").rglob("*"):
        if path.is_file():
            assert "$" not in path.read_text(), f"an unfilled placeholder in {path}"


@pytest.mark.parametrize("name, message", [
    ("Bad Name", "NAME 'Bad Name' is not a plugin name"),
    ("9lives", "NAME '9lives' is not a plugin name"),
    ("metrics", "NAME 'metrics' is already an installed plugin's name"),
    ("core", "NAME 'core' is already an installed plugin's name"),
])
def test_a_bad_name_is_refused_before_anything_is_written(tmp_path, capsys, name, message):
    assert main(["new-plugin", name, "--directory", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "toolkit-mine").mkdir()
    (tmp_path / "toolkit-mine" / "keep.txt").write_text("mine")
    assert main(["new-plugin", "mine", "--directory", str(tmp_path)]) == 2
    assert "toolkit-mine already exists" in capsys.readouterr().err
    assert [path.name for path in (tmp_path / "toolkit-mine").iterdir()] == ["keep.txt"]


def test_every_template_is_package_data():
    config = ConfigParser()
    config.read(REPO_ROOT / "setup.cfg")
    patterns = [pattern.strip() for pattern in config["options.package_data"]["toolkit"].split(",")]
    templates = REPO_ROOT / "toolkit" / "templates"
    files = [path.relative_to(REPO_ROOT / "toolkit").as_posix() for path in templates.rglob("*") if path.is_file()]
    assert len(files) >= 10
    assert all(any(fnmatch.fnmatch(file, pattern) and file.count("/") == pattern.count("/") for pattern in patterns)
               for file in files), files
