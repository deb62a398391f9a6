"""examples/fashion_mnist_cnn.yaml end to end: 60,000 + 10,000 images, two epochs, a real MLflow store.

The one full-scale training in the tests (about a minute on two cores): two epochs reach a
validation accuracy of 0.85, epoch N is step N in MLflow, the run's files sit beside the
database, and "default" in the example's metrics brings every applicable metric.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytest.importorskip("keras")
mlflow = pytest.importorskip("mlflow")

from toolkit import cli, fashion_mnist  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fashion_mnist_cnn.yaml"


def test_two_epochs_of_the_course_cnn_reach_085_on_fashion_mnist(tmp_path, monkeypatch, capsys):
    if not os.path.isdir(fashion_mnist.FOLDER):
        pytest.fail(f"{fashion_mnist.FOLDER} is missing: `make test` installs it (apt-get install -y dataset-fashion-mnist)")
    database = tmp_path / "store" / "mlflow.db"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    for name in ("MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)

    assert cli.main(["train", str(EXAMPLE), "--set", "trackers=[mlflow]"]) == 0
    assert "epoch 2/2" in capsys.readouterr().out

    client = mlflow.MlflowClient(f"sqlite:///{database}")
    [run] = client.search_runs(["0"])
    assert run.info.status == "FINISHED" and run.data.params["train_examples"] == "60000"
    assert run.data.params["validation_examples"] == "10000" and run.data.params["learning_rate"] == "0.001"
    assert run.data.metrics["accuracy"] >= 0.85
    assert [point.step for point in client.get_metric_history(run.info.run_id, "accuracy")] == [1, 2]
    assert [point.step for point in client.get_metric_history(run.info.run_id, "train/loss")] == [1, 2]
    # "default": every applicable metric, and the opt-in one named after it.
    assert {"precision_weighted", "recall/9", "log_loss", "roc_auc_ovr_weighted",
            "roc_auc_ovr_macro_binned"} <= set(run.data.metrics)
    folder = unquote(urlparse(run.info.artifact_uri).path)
    assert folder.startswith(str(tmp_path / "store" / "mlruns") + os.sep)
    assert os.path.isfile(os.path.join(folder, "evaluation", "step-2", "metrics.json"))
    assert not (elsewhere / "mlruns").exists()
