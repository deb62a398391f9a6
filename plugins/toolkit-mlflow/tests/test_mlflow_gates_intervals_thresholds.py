"""Gates as tags, intervals as <name>_ci_low/_ci_high metrics, the threshold analysis as CSV + PNG, in MLflow."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
from sklearn import metrics as sk

import toolkit


def _binary(seed: int = 3, n: int = 400):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    return y_true, np.clip(0.3 * y_true + 0.7 * rng.random(n), 0, 1)


def test_gates_intervals_and_thresholds_reach_mlflow(mlflow_store):
    y_true, y_score = _binary()
    result = toolkit.evaluate(y_true, y_score=y_score, trackers=["mlflow"], run_name="gated",
                              gates=["accuracy>=0.6", "roc_auc>=0.99"], ci=0.9, n_bootstrap=100, seed=0,
                              threshold_targets={"precision": 0.8})
    (run,) = mlflow_store.runs()
    assert run.info.status == "FINISHED"  # failed gates are a verdict on the model, not a failed run
    tags = run.data.tags
    assert tags["toolkit.gates"] == "failed"
    assert tags["toolkit.gate.accuracy.ge"].startswith("passed: accuracy >= 0.6")
    assert tags["toolkit.gate.roc_auc.ge"].startswith("FAILED: roc_auc >= 0.99")
    for key, (low, high) in result.intervals.items():
        assert run.data.metrics[f"{key}_ci_low"] == low and run.data.metrics[f"{key}_ci_high"] == high

    client = mlflow_store.client()
    folder = client.download_artifacts(run.info.run_id, "evaluation", os.path.join(mlflow_store.folder, "got"))
    with open(os.path.join(folder, "threshold_analysis.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(folder, "threshold_analysis.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    precision, recall, thresholds = sk.precision_recall_curve(y_true, y_score)
    assert len(rows) == len(thresholds)  # 400 distinct scores: all kept
    np.testing.assert_allclose([float(row["precision"]) for row in rows], precision[:-1])
    np.testing.assert_allclose([float(row["recall"]) for row in rows], recall[:-1])
    summary = json.load(open(os.path.join(folder, "threshold_analysis.json")))
    analysis = result.artifacts["threshold_analysis"]
    assert summary["best_f1"]["threshold"] == analysis.best_f1.threshold
    assert summary["targets"]["precision_0.8"]["threshold"] == analysis.targets["precision_0.8"].threshold
    document = json.load(open(os.path.join(folder, "metrics.json")))
    assert [gate["passed"] for gate in document["gates"]] == [True, False]
    assert document["intervals"]["roc_auc"] == list(result.intervals["roc_auc"])
