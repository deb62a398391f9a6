"""Gates, intervals and the threshold analysis in a real offline W&B run, read back from its run file."""

from __future__ import annotations

import csv
import json
import os

import numpy as np

import toolkit


def test_gates_intervals_and_thresholds_reach_wandb(wandb_offline):
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, 300)
    y_score = np.clip(0.3 * y_true + 0.7 * rng.random(300), 0, 1)
    result = toolkit.evaluate(y_true, y_score=y_score, trackers=["wandb"], run_name="gated",
                              gates={"accuracy": ">= 0.99"}, ci=0.9, n_bootstrap=100, seed=0)
    (run,) = wandb_offline.runs()
    assert run.exit_code == 0
    assert run.config["toolkit.gates"] == "failed"
    assert run.config["toolkit.gate.accuracy.ge"].startswith("FAILED: accuracy >= 0.99")
    low, high = result.intervals["accuracy"]
    assert run.summary["accuracy_ci_low"] == low and run.summary["accuracy_ci_high"] == high
    # W&B's own line chart (its spec in the config, its data as a table file), and the full table
    chart = run.config["_wandb/visualize/threshold_analysis"]
    assert chart["panel_config"]["panelDefId"] == "wandb/lineseries/v0"
    folder = wandb_offline.run_folders()[0]
    analysis = result.artifacts["threshold_analysis"]
    (table_file,) = [name for name in run.files if name.startswith("media/table/threshold_table")]
    table = json.load(open(os.path.join(folder, "files", table_file)))
    assert table["columns"][:5] == ["threshold", "precision", "recall", "f1", "fpr"]
    assert [row[0] for row in table["data"]] == analysis.table["threshold"].tolist()
    (series_file,) = [name for name in run.files if name.startswith("media/table/threshold_analysis_table")]
    series = json.load(open(os.path.join(folder, "files", series_file)))
    assert len(series["data"]) == 4 * len(analysis)  # precision, recall, F1 and FPR at every row
    with open(os.path.join(folder, "files", "evaluation", "threshold_analysis.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["threshold"]) for row in rows] == analysis.table["threshold"].tolist()
