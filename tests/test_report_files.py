"""Images and texts a run logged (log_artifact) read back by every tracker's reader, for the report."""

from __future__ import annotations

import io

import numpy as np
import pytest

from toolkit.run import Run

READERS = ("mlflow", "wandb", "tensorboard")


def png_bytes(seed: int) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1), dpi=20)
    figure.add_subplot().imshow(np.random.default_rng(seed).random((4, 4)))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@pytest.mark.parametrize("tracker", READERS)
def test_every_reader_gives_back_the_logged_images_and_texts(toolkit_tracking, tmp_path, tracker):
    if tracker not in toolkit_tracking.trackers:
        pytest.fail(f"tracker {tracker} is not installed with a sandbox")
    grid, other = png_bytes(0), png_bytes(1)
    files = tmp_path / "files"
    (files / "grids").mkdir(parents=True)
    (files / "sample_predictions.png").write_bytes(grid)
    (files / "grids" / "a.png").write_bytes(grid)
    (files / "grids" / "b.png").write_bytes(other)
    (files / "weights.npz").write_bytes(b"not shown")  # neither an image nor a text
    (files / "model_summary.txt").write_text("Model: sequential\nTotal params: 1,234\n", encoding="utf-8")
    with Run("with-files", {"model": "m"}, trackers=[tracker]) as run:
        run.log_metrics({"accuracy": 0.5}, step=1)
        run.log_artifact("sample_predictions", str(files / "sample_predictions.png"))
        run.log_artifact("model_summary", str(files / "model_summary.txt"))
        run.log_artifact("grids", str(files / "grids" / "a.png"))  # two files under one name
        run.log_artifact("grids", str(files / "grids" / "b.png"))
        run.log_artifact("weights", str(files / "weights.npz"))
        run.log_artifact("folder", str(files / "grids"))  # a whole folder is not shown
    (record,) = toolkit_tracking.runs(tracker)
    assert record.texts == {"model_summary": "Model: sequential\nTotal params: 1,234\n"}
    assert record.images == {"sample_predictions": grid, "grids/a.png": grid, "grids/b.png": other}
