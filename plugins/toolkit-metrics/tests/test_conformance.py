"""toolkit-metrics passes the plugin conformance checks (what `toolkit plugins --check metrics` runs)."""

from toolkit.testing import check_plugin


def test_the_plugin_passes_the_conformance_checks():
    report = check_plugin("metrics")  # raises, naming each failing metric, property and input
    assert "accuracy" in report.metrics and report.statistics == ["log_loss_terms"]
