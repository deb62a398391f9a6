"""``toolkit plugins``: the listing, and broken plugins reported by distribution while the rest work."""

from __future__ import annotations

import json

import pytest

import toolkit
from toolkit.cli import main
from toolkit.plugin import PluginError, create_plugin_manager

IMPORT_ERROR = """
import toolkit_missing_dependency  # not installed: the plugin cannot import
"""
MISSPELLED_HOOK = """
from toolkit.plugin import MetricSpec, hookimpl

@hookimpl
def toolkit_register_metric():  # the hook is toolkit_register_metrics
    return []
"""
DUPLICATE_METRIC = """
from toolkit.plugin import MetricSpec, hookimpl

@hookimpl
def toolkit_register_metrics():
    return [MetricSpec("balanced_accuracy", lambda confusion: 0.0, ("confusion",), True)]
"""


@pytest.fixture
def broken_site(install_distribution, example_site, on_sys_path):
    """The example (installed by pip) plus three broken distributions, all discoverable for the test."""
    on_sys_path(example_site)
    install_distribution("toolkit-needs-missing", {"toolkit_needs_missing": IMPORT_ERROR},
                         {"needs_missing": "toolkit_needs_missing"})
    install_distribution("toolkit-misspelled", {"toolkit_misspelled": MISSPELLED_HOOK},
                         {"misspelled": "toolkit_misspelled"})
    return install_distribution("toolkit-rival-metrics", {"toolkit_rival_metrics": DUPLICATE_METRIC},
                                {"rival_metrics": "toolkit_rival_metrics"})


def test_broken_plugins_are_reported_with_distribution_and_reason(broken_site):
    manager = create_plugin_manager()
    broken = {plugin.name: plugin for plugin in manager.broken}
    assert set(broken) == {"needs_missing", "misspelled", "rival_metrics"}
    assert broken["needs_missing"].distribution == "toolkit-needs-missing"
    assert broken["needs_missing"].reason == (
        "failed to import: ModuleNotFoundError: No module named 'toolkit_missing_dependency'")
    assert broken["misspelled"].distribution == "toolkit-misspelled"
    assert broken["misspelled"].reason == (
        "implements toolkit_register_metric, which is not a toolkit hook "
        "(did you mean toolkit_register_metrics?)")
    assert broken["rival_metrics"].distribution == "toolkit-rival-metrics"
    assert broken["rival_metrics"].reason == (
        "metric 'balanced_accuracy' is registered by both toolkit-custom-metrics (plugin 'custom_metrics') "
        "and toolkit-rival-metrics (plugin 'rival_metrics')")


def test_the_rest_keep_working_beside_broken_plugins(broken_site):
    manager = create_plugin_manager()
    result = toolkit.evaluate([0, 1, 1, 0], [0, 1, 0, 0], plugin_manager=manager)
    assert result.metrics["accuracy"] == 0.75
    assert result.metrics["balanced_accuracy"] == 0.75  # the example's, not the rival's 0.0
    assert not {"needs_missing", "misspelled", "rival_metrics"} & {name for name, _ in manager.list_name_plugin()}


def test_strict_manager_raises_for_the_first_broken_plugin(broken_site):
    with pytest.raises(PluginError, match="plugin 'misspelled' from toolkit-misspelled"):
        create_plugin_manager(strict=True)


def test_plugins_command_lists_everything_and_reports_broken_ones(broken_site, capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["plugin", "distribution", "provides"]
    example_line = next(line for line in lines if line.startswith("custom_metrics "))
    assert "toolkit-custom-metrics 0.1.0" in example_line
    assert "metrics: balanced_accuracy, matthews_corrcoef, top_k_accuracy" in example_line
    assert "statistics: calibration_histogram" in example_line
    assert ("BROKEN needs_missing (toolkit-needs-missing): failed to import: ModuleNotFoundError: "
            "No module named 'toolkit_missing_dependency'") in lines
    assert any(line.startswith("BROKEN misspelled (toolkit-misspelled): implements toolkit_register_metric")
               for line in lines)
    assert any(line.startswith("BROKEN rival_metrics (toolkit-rival-metrics): metric 'balanced_accuracy'")
               for line in lines)


def test_strict_turns_broken_plugins_into_a_nonzero_exit_with_one_line(broken_site, capsys):
    assert main(["plugins", "--strict"]) == 1
    captured = capsys.readouterr()
    error_lines = captured.err.strip().splitlines()
    assert len(error_lines) == 1
    assert error_lines[0].startswith("toolkit plugins: error: 3 broken plugin(s): ")
    assert "custom_metrics" in captured.out  # the listing still shows what works


def test_json_listing(broken_site, capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    by_name = {plugin["name"]: plugin for plugin in listing["plugins"]}
    assert {"confusion", "scores", "count"} <= set(by_name["core"]["statistics"])
    assert by_name["custom_metrics"]["version"] == "0.1.0"
    assert {broken["distribution"] for broken in listing["broken"]} == {
        "toolkit-needs-missing", "toolkit-misspelled", "toolkit-rival-metrics"}


def test_without_broken_plugins_strict_exits_zero(capsys):
    assert main(["plugins", "--strict"]) == 0
    assert "metrics" in capsys.readouterr().out


def test_disabled_plugins_are_shown_as_blocked(broken_site, monkeypatch, capsys):
    monkeypatch.setenv("TOOLKIT_DISABLE_PLUGINS", "needs_missing,misspelled,rival_metrics")
    assert main(["plugins", "--strict"]) == 0
    out = capsys.readouterr().out
    assert "blocked (TOOLKIT_DISABLE_PLUGINS): misspelled, needs_missing, rival_metrics" in out
    assert "BROKEN" not in out
