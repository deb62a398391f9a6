"""The plugin manager: discovery through entry points, blocking, broken plugins, strict mode."""

from __future__ import annotations

import pytest

import toolkit
from toolkit.plugin import PluginError, create_plugin_manager
from toolkit.plugin.manager import ToolkitPluginManager

GOOD_PLUGIN = """
import toolkit

@toolkit.plugin.hookimpl
def toolkit_register_metrics():
    return [toolkit.plugin.MetricSpec("error_rate", lambda confusion: 1 - confusion.trace() / confusion.sum(),
                               ("confusion",), False)]
"""


def test_first_party_metrics_are_found_through_their_entry_point():
    manager = create_plugin_manager()
    infos = {info.name: info for info in manager.plugin_infos()}
    assert infos["metrics"].distribution == "toolkit-metrics"
    assert infos["metrics"].version == "0.1.0"
    assert "accuracy" in infos["metrics"].metrics
    assert infos["core"].statistics == ("confusion", "scores", "count", "weighted_cells")
    assert not manager.broken


def test_an_installed_plugin_adds_its_metric_to_evaluate(install_distribution):
    install_distribution("errors-plugin", {"errors_plugin": GOOD_PLUGIN}, {"errors": "errors_plugin"})
    manager = create_plugin_manager()
    result = toolkit.evaluate([0, 1, 1, 0], [0, 1, 0, 0], plugin_manager=manager)
    assert result.metrics["error_rate"] == pytest.approx(0.25)
    assert result.metrics["accuracy"] == pytest.approx(0.75)


def test_disabled_plugins_are_not_loaded(monkeypatch, install_distribution):
    install_distribution("errors-plugin", {"errors_plugin": GOOD_PLUGIN}, {"errors": "errors_plugin"})
    everything = create_plugin_manager()
    monkeypatch.setenv("TOOLKIT_DISABLE_PLUGINS", "errors, metrics")
    manager = create_plugin_manager()
    # Other installed plugins keep their metrics; none of the two disabled ones' is left.
    disabled = {info.name: set(info.metrics) for info in everything.plugin_infos()}
    assert disabled["errors"] == {"error_rate"} and "accuracy" in disabled["metrics"]
    assert not set(manager.get_metrics()) & (disabled["errors"] | disabled["metrics"])
    assert manager.is_blocked("errors") and manager.is_blocked("metrics")


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_load(install_distribution):
    install_distribution("broken-dist", {"broken_plugin": "import not_a_module_anywhere\n"},
                         {"broken": "broken_plugin"})
    manager = create_plugin_manager()
    [broken] = manager.broken
    assert (broken.name, broken.distribution) == ("broken", "broken-dist")
    assert "not_a_module_anywhere" in broken.reason
    assert "accuracy" in manager.get_metrics()


def test_strict_mode_raises_for_a_plugin_that_fails_to_import(install_distribution):
    install_distribution("broken-dist", {"broken_plugin": "raise RuntimeError('boom')\n"},
                         {"broken": "broken_plugin"})
    with pytest.raises(PluginError, match="broken-dist.*RuntimeError: boom"):
        create_plugin_manager(strict=True)


def test_a_duplicate_metric_name_names_both_distributions(install_distribution):
    duplicate = GOOD_PLUGIN.replace('"error_rate"', '"accuracy"')
    install_distribution("copycat-dist", {"copycat": duplicate}, {"copycat": "copycat"})
    manager = create_plugin_manager()
    [broken] = manager.broken
    assert "toolkit-metrics" in broken.reason and "copycat-dist" in broken.reason
    assert "'accuracy'" in broken.reason
    # the first registration keeps the name, the copy is left out as a whole
    assert manager.get_metrics()["accuracy"].description.startswith("fraction")
    with pytest.raises(PluginError, match="accuracy"):
        create_plugin_manager(strict=True)


def test_an_unknown_hook_name_is_reported_with_a_suggestion(install_distribution):
    typo = GOOD_PLUGIN.replace("toolkit_register_metrics", "toolkit_register_metric")
    install_distribution("typo-dist", {"typo_plugin": typo}, {"typo": "typo_plugin"})
    manager = create_plugin_manager()
    [broken] = manager.broken
    assert broken.distribution == "typo-dist"
    assert "did you mean toolkit_register_metrics?" in broken.reason
    manager.check_pending()  # the broken plugin was unregistered, nothing pending remains


def test_registration_hooks_must_return_spec_dataclasses():
    class WrongType:
        @toolkit.plugin.hookimpl
        def toolkit_register_metrics(self):
            return [{"name": "accuracy"}]

    manager = create_plugin_manager(load_entry_points=False)
    with pytest.raises(PluginError, match="not a MetricSpec"):
        manager.register(WrongType(), "wrong")
    assert not manager.has_plugin("wrong")


def test_programmatic_registration_is_seen_and_can_be_removed():
    class ErrorRate:
        @toolkit.plugin.hookimpl
        def toolkit_register_metrics(self):
            return [toolkit.plugin.MetricSpec("error_rate", lambda confusion: 0.0, ("confusion",), False)]

    manager = create_plugin_manager()
    plugin = ErrorRate()
    manager.register(plugin, "local")
    assert "error_rate" in manager.get_metrics()
    assert manager.distribution_of("local") == "<local>"
    manager.unregister(plugin)
    assert "error_rate" not in manager.get_metrics()


def test_spec_dataclasses_validate_their_fields():
    with pytest.raises(ValueError, match="metric name 'bad\\|name'"):
        toolkit.plugin.MetricSpec("bad|name", lambda confusion: 0.0, ("confusion",), True)
    with pytest.raises(ValueError, match="kind 'table'"):
        toolkit.plugin.MetricSpec("ok", lambda confusion: 0.0, ("confusion",), True, kind="table")
    with pytest.raises(ValueError, match="tasks"):
        toolkit.plugin.MetricSpec("ok", lambda confusion: 0.0, ("confusion",), True, tasks=("regression",))
    with pytest.raises(ValueError, match="requires"):
        toolkit.plugin.StatisticSpec("s", init=list, update=list, merge=list, requires=("logits",))
    spec = toolkit.plugin.MetricSpec("ok", lambda confusion: 0.0, "confusion", True)
    assert spec.needs == ("confusion",)
    with pytest.raises(AttributeError):
        spec.name = "changed"  # frozen


def test_no_plugin_manager_is_built_at_import_time():
    import toolkit.plugin.manager as manager_module

    manager_module.reset_plugin_manager()
    import importlib

    importlib.reload(toolkit)
    assert manager_module._default_manager is None
    assert isinstance(toolkit.plugin.get_plugin_manager(), ToolkitPluginManager)


def test_a_stranger_named_like_the_project_cannot_take_a_builtin_name(install_distribution):
    duplicate = GOOD_PLUGIN.replace('"error_rate"', '"accuracy"')
    install_distribution("toolkit-aaa-lookalike", {"lookalike": duplicate}, {"aaa": "lookalike"})
    manager = create_plugin_manager()
    [broken] = manager.broken
    assert broken.distribution == "toolkit-aaa-lookalike"
    assert manager.get_metrics()["accuracy"].description.startswith("fraction")
