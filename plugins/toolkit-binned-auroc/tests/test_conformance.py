"""toolkit-binned-auroc passes the plugin conformance checks (what `toolkit plugins --check binned_auroc` runs)."""

from toolkit.testing import check_plugin


def test_the_plugin_passes_the_conformance_checks():
    report = check_plugin("binned_auroc")  # raises, naming each failing metric, property and input
    assert report.statistics == ["binned_scores"] and "roc_auc_binned" in report.metrics
