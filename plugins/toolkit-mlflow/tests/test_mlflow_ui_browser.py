"""A toolkit training run opened in MLflow's own UI, in a real headless Chromium, read from the rendered DOM.

``chromium --dump-dom`` after a virtual-time budget: the budget lets the UI's JavaScript run and
its requests to the server finish before the DOM is written out (virtual time does not advance
while requests are pending), so no fixed sleep is needed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from html.parser import HTMLParser

import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit.plugin import COMMAND_TAG
from toolkit.tracking.datasets import digest as dataset_digest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")
VIRTUAL_TIME_MS = 30000
CHROMIUM_TIMEOUT_SECONDS = 180


class _Page(HTMLParser):
    """The visible text lines of a DOM and its images (alt -> src)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.images: dict[str, str] = {}
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            values = dict(attrs)
            self.images[values.get("alt") or ""] = values.get("src") or ""

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.lines.append(data.strip())


def rendered(url: str, profile: str) -> _Page:
    """The DOM of ``url`` once the UI has rendered it, parsed."""
    process = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
         "--dump-dom", url],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        dom, _ = process.communicate(timeout=CHROMIUM_TIMEOUT_SECONDS)
    finally:
        if process.poll() is None:  # its own process group: the browser and every helper it started
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    page = _Page()
    page.feed(dom)
    return page


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (make test installs it)")
def test_the_run_page_shows_a_training_run_with_datasets_model_and_confusion_matrix(mlflow_server, monkeypatch,
                                                                                    tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "in-the-browser")
    x, y = load_digits(return_X_y=True)
    trainer = toolkit.Trainer(LogisticRegression(max_iter=300), trackers=["mlflow"], progress=False,
                              run_name="browser-check", tags={COMMAND_TAG: "toolkit train digits.yaml"})
    history = trainer.fit(x[:500], y[:500], validation_data=(x[500:700], y[500:700]), data_name="digits",
                          data_source="sklearn.datasets.load_digits")
    link = history.run.links["mlflow"]
    assert link.url.endswith(f"/runs/{link.run_id}?workflowType=machine_learning")

    page = rendered(link.url, str(tmp_path / "profile-run"))
    text = page.lines
    assert "browser-check" in text
    # The model-training view: its navigation (Runs, Models, Model registry), not the GenAI one.
    assert {"Runs", "Models", "Model registry"} <= set(text) and "Evaluation runs" not in text
    assert "Logged models (1)" in text and "Ready" in text
    digest = dataset_digest(x[:500], y[:500])
    assert f"digits ({digest})" in text and "training" in text
    assert text[text.index("Source") + 1] == "toolkit train digits.yaml"
    assert any(line.startswith("Final evaluation: accuracy") for line in text)  # the run's description

    artifact = "evaluation/step-1/confusion_matrix.png"  # epoch 1 is step 1
    run_page = link.url.split("?")[0]
    page = rendered(f"{run_page}/artifacts/{artifact}", str(tmp_path / "profile-artifact"))
    assert page.images.get(artifact, "").startswith(f"{mlflow_server.uri.replace('http://', 'blob:http://')}/")
