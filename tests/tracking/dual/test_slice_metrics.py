"""Slice metrics reach MLflow (a real SQLite store) and W&B (a real offline run) under the same keys,
read back through each tracker's reader, and the report's slice tables are drawn from them."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import toolkit
from toolkit.reporting import html as report_html, record
from toolkit.reporting.slice_table import render_slice_tables, slice_rows
from toolkit.tracking import TrackingWarning

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(23)
N = 500
Y = RNG.integers(0, 3, N)
SCORES = RNG.dirichlet(np.ones(3), N)
REGION = RNG.choice(["north", "south", "east west"], N)  # a space: kept, trackers accept it
DEVICE = RNG.choice(["ios", "android"], N)


def test_slice_metrics_are_read_back_from_both_trackers_and_tabled_with_the_worst_marked(mlflow_store, wandb_offline):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrackingWarning)  # no slice key is renamed on its way to a tracker
        result = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION, "device": DEVICE},
                                  cross_slices=True, ci=0.9, n_bootstrap=50, seed=1, trackers=["mlflow", "wandb"],
                                  run_name="sliced", gates=["accuracy >= 0.2 for every region"])
    logged = result.logged_metrics()
    sliced = {key: value for key, value in logged.items() if key.startswith("slice/")}
    assert "slice/region/east west/device/ios/accuracy_ci_low" in sliced
    assert len(sliced) == sum(len(each.logged_metrics()) for each in result.slices.values())
    for tracker in ("mlflow", "wandb"):
        reader = record.open_reader(tracker)
        (summary,) = reader.list_runs()
        recorded = reader.read_run(summary.run_id)
        for key, value in sliced.items():
            stored = recorded.metrics[key]
            assert stored == pytest.approx(value, abs=1e-12) or (math.isnan(value) and math.isnan(stored)), (tracker, key)
        tables = slice_rows(recorded)
        assert list(tables) == [("region",), ("device",), ("region", "device")]
        assert tables[("region", "device")][("east west", "ios")]["accuracy"] == pytest.approx(
            result.slices["region=east west,device=ios"]["accuracy"], abs=1e-12)

        fragment = render_slice_tables(recorded)
        worst_region = min(result.slices.of(["region"]).items(), key=lambda item: item[1]["accuracy"])[0]
        worst_loss = max(result.slices.of(["device"]).items(), key=lambda item: item[1]["log_loss"])[0]
        region_table = fragment[fragment.index("by region<"):fragment.index("by device<")]
        device_table = fragment[fragment.index("by device<"):fragment.index("by region x device")]
        row = re.search(rf"<tr><td class=\"name\">{worst_region}</td>.*?</tr>", region_table).group(0)
        assert '<td class="worst" data-slice-metric="accuracy">' in row
        assert region_table.count('class="worst" data-slice-metric="accuracy"') == 1
        row = re.search(rf"<tr><td class=\"name\">{worst_loss}</td>.*?</tr>", device_table).group(0)
        assert '<td class="worst" data-slice-metric="log_loss">' in row  # lower is better: the highest is worst
        assert fragment in report_html.render(recorded)
        assert "accuracy &gt;= 0.2 for every region" in report_html.render(recorded)


def test_a_run_without_slices_has_no_slice_section():
    result = toolkit.evaluate(Y, y_score=SCORES)
    assert render_slice_tables(record.record_from_result(result)) == ""
