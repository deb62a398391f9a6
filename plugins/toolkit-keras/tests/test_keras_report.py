"""A Keras sweep's report: each run's grid of sample images and model summary, as the trainer
logged them, reach the comparison page and the single-run page (two 2-epoch runs of the digits CNN)."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from toolkit_mlflow.testing import mlflow_store, migrated_sqlite_template  # noqa: F401

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "digits_cnn.yaml"


def test_a_keras_sweep_report_shows_each_runs_samples_summary_and_learning_curves(mlflow_store, tmp_path):  # noqa: F811
    from matplotlib.image import imread

    from toolkit.cli import main
    from toolkit.reporting import record

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {EXAMPLE}\nvariants:\n  - name: adam\n  - name: nadam\n"
                     "    set: {model.optimizer.name: nadam}\n")
    page = tmp_path / "sweep.html"
    assert main(["sweep", str(sweep), "--set", "epochs=2", "--set", "trackers=[mlflow]", "--set", "log_model=false",
                 "--report", str(page)]) == 0
    reader = record.open_reader("mlflow")
    runs = [reader.read_run(summary.run_id) for summary in reader.list_runs()]
    assert sorted(run.params["variant"] for run in runs) == ["adam", "nadam"]
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text
    assert set(re.findall(r'data-param="([^"]+)"', text)) == {"optimizer", "variant"}
    for run in runs:
        png = run.images["sample_predictions"]
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and imread(png_file(tmp_path, png)).shape[:2] == (256, 768)
        assert base64.b64encode(png).decode("ascii") in text
        assert "Trainable params: 19,466" in run.texts["model_summary"]
        assert html.escape(run.texts["model_summary"]) in text
        assert [step for step, _ in run.history["train/loss"]] == [1, 2]  # epoch N is step N
        assert f'data-run="{run.run_id}" data-metric="accuracy">{run.metrics["accuracy"]:.4f}<' in text
    assert 'data-chart="train/loss"' in text and 'data-chart="accuracy"' in text

    single = tmp_path / "one.html"
    assert main(["report", runs[0].run_id[:8], "-o", str(single)]) == 0
    text = single.read_text(encoding="utf-8")
    assert base64.b64encode(runs[0].images["sample_predictions"]).decode("ascii") in text
    assert html.escape(runs[0].texts["model_summary"]) in text
    assert 'data-chart="accuracy"' in text and 'data-chart="loss"' in text


def png_file(folder: Path, content: bytes) -> Path:
    path = folder / "decoded.png"
    path.write_bytes(content)
    return path
