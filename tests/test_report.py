"""toolkit report: runs read back from MLflow as one self-contained HTML page (one run, or several
compared), rendered in headless Chromium with every network request it tries recorded."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import toolkit
from toolkit.reporting.html import render
from toolkit.reporting.record import record_from_result

BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
# Chromium's own calls home (component updates, network time, accounts), made whatever the page is.
BROWSER_OWN_HOSTS = ("clients2.google.com", "update.googleapis.com", "accounts.google.com",
                     "optimizationguide-pa.googleapis.com", "redirector.gvt1.com", "edgedl.me.gvt1.com")
# A request the checked copy makes on purpose: proof that the proxy sees what a page fetches.
PROBE = '<img alt="probe" src="http://toolkit-probe.invalid/probe.png">'
# Run in a copy of the page only (the page itself has no script): marks each image decoded or not.
DECODE_CHECK = """<script>
window.addEventListener("load", () => {
  for (const image of document.images) {
    if (image.alt === "probe") continue;
    image.setAttribute("data-decoded", image.complete && image.naturalWidth > 0 ? "yes" : "no");
  }
  document.body.setAttribute("data-checked", String(document.images.length - 1));
});
</script>"""


@dataclass
class Rendered:
    screenshot: np.ndarray  # (H, W, channels)
    dom: str  # the page's DOM after rendering
    requests: list  # the first line of every request the page made (the browser's own calls home aside)
    decoded: list  # per image: "yes" / "no", from a copy of the page with a checking script


class CountingProxy:
    """A proxy on 127.0.0.1 that records the first line of each request and answers nothing."""

    def __init__(self) -> None:
        self.requests: list = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.requests.append(connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                except OSError:
                    self.requests.append("(a connection without a request)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._server.close()


def render_in_chromium(page: Path, scratch: Path, width: int = 1280, height: int = 2600) -> Rendered:
    """``page`` as headless Chromium renders it, with every network request it makes routed to a
    local proxy that records it (loopback included: ``<-loopback>``)."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    proxy = CountingProxy()
    common = [browser, *BROWSER_FLAGS, f"--user-data-dir={scratch / 'profile'}", f"--window-size={width},{height}",
              f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>",
              "--virtual-time-budget=10000"]
    screenshot = scratch / "screenshot.png"
    checked = scratch / f"checked-{page.name}"
    text = page.read_text(encoding="utf-8")
    checked.write_text(text.replace("</body>", PROBE + DECODE_CHECK + "</body>"), encoding="utf-8")
    try:
        subprocess.run([*common, f"--screenshot={screenshot}", page.as_uri()], check=True, capture_output=True,
                       timeout=120)
        dom = subprocess.run([*common, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True,
                             timeout=120).stdout
        requests = [line for line in proxy.requests if not any(host in line for host in BROWSER_OWN_HOSTS)]
        checked_dom = subprocess.run([*common, "--dump-dom", checked.as_uri()], check=True, capture_output=True,
                                     text=True, timeout=120).stdout
    finally:
        proxy.close()
    from matplotlib.image import imread

    assert any("toolkit-probe.invalid" in line for line in proxy.requests), "the proxy saw no page request"
    assert f'data-checked="{checked_dom.count("<img ") - 1}"' in checked_dom, "the decode check did not run"
    decoded = re.findall(r'data-decoded="(\w+)"', checked_dom)
    return Rendered(imread(screenshot), dom, requests, decoded)


def blank_fraction(image: np.ndarray) -> float:
    """The share of (near) pure white pixels in a screenshot."""
    return float((image[..., :3] > 0.98).all(axis=-1).mean())


def binary_result(**options):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 600)
    y_score = np.clip(0.35 * y_true + 0.65 * rng.random(600), 0, 1)
    return toolkit.evaluate(y_true, y_score=y_score, labels=[0, 1], ci=0.95, n_bootstrap=200, seed=1,
                            gates={"accuracy": ">= 0.6", "roc_auc": ">= 0.99"}, **options)


def external_references(page: str) -> list[str]:
    """Every src/href that would fetch something (anything but data: URIs and in-page anchors)."""
    return [ref for ref in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page) if not ref.startswith(("data:", "#"))]


def test_the_page_holds_every_section_and_needs_no_network():
    result = binary_result()
    page = render(record_from_result(result, "in memory", {"model": "logistic", "C": 0.5}))
    assert external_references(page) == [] and "<script" not in page and "@import" not in page
    for heading in ("Quality gates", "Metrics", "Confusion matrix", "ROC and precision-recall curves",
                    "Threshold analysis", "Per-class metrics", "Params"):
        assert f"<h2>{heading}</h2>" in page
    assert f'data-metric="accuracy">{result.metrics["accuracy"]:.4f}<' in page
    low, high = result.intervals["roc_auc"]
    assert f"<td>{low:.4f}</td><td>{high:.4f}</td>" in page
    assert 'data-gate="roc_auc &gt;= 0.99">FAIL' in page and 'data-gate="accuracy &gt;= 0.6">PASS' in page
    assert "Gates failed: roc_auc &gt;= 0.99" in page
    matrix = result.confusion_matrix
    assert all(f">{int(count)}</td>" in page for count in matrix.ravel())
    best = result.artifacts["threshold_analysis"].best_f1
    assert f'data-metric="best_f1">{best.f1:.4f}<' in page
    assert f'data-metric="f1/1">{result.metrics["f1/1"]:.4f}' in page
    assert "<td class=\"name\">logistic</td>" in page
    assert page.count("data:image/svg+xml;base64,") == 4  # confusion, ROC, PR, thresholds
    # a count has no interval (the bootstrap gives example_count one: it means nothing)
    assert "example_count" in result.intervals
    assert f'data-metric="example_count">600</td><td></td><td></td>' in page
    assert "Learning curves" not in page  # one evaluation: no curve to draw
    # thresholds with their significant digits, not rounded to four decimals
    assert f'data-metric="best_f1_threshold">{format(best.threshold, ".6g")}<' in page
    section = page.split("<h2>Threshold analysis</h2>")[1].split("<h2>")[0]
    shown = re.findall(r'<tr(?: class="best")?><td class="name">([^<]+)</td>', section)
    thresholds = {format(row["threshold"], ".6g") for row in result.artifacts["threshold_analysis"].rows()}
    assert len(shown) >= 25 and set(shown) <= thresholds and shown[0] == "0.000123501"  # not 0.0001


def test_bad_report_arguments_exit_non_zero_with_one_line(capsys, tmp_path, monkeypatch):
    from toolkit.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert main(["report"]) == 2
    assert main(["report", "abc", "--latest"]) == 2
    assert main(["report", "--latest", "--output", str(tmp_path / "missing" / "r.html")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[0] == "toolkit report: error: give a RUN_ID (one or more) or --latest (one of them)"
    assert "does not exist" in errors[2]
    assert list(tmp_path.glob("*.html")) == []


from toolkit_mlflow.testing import migrated_sqlite_template, mlflow_store  # noqa: E402,F401  (fixtures)


def test_report_of_a_run_read_back_from_mlflow_renders_in_chromium(mlflow_store, tmp_path):
    from toolkit.cli import main

    result = binary_result(trackers=["mlflow"], run_name="report-test", params={"model": "logistic"},
                           threshold_targets={"precision": 0.8})
    page = tmp_path / "report.html"
    assert main(["report", "--latest", "--output", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert external_references(text) == [] and "<script" not in text

    rendered = render_in_chromium(page, tmp_path)
    image, dom = rendered.screenshot, rendered.dom
    assert rendered.requests == [] and rendered.decoded == ["yes"] * 4
    assert image.shape[0] > 1000 and image.shape[1] > 1000
    assert blank_fraction(image) < 0.95 and image[..., :3].std() > 0.05  # drawn, not a white page
    for key in ("accuracy", "roc_auc", "log_loss", "f1", "precision", "recall", "f1_macro"):
        assert f'data-metric="{key}">{result.metrics[key]:.4f}<' in dom, key
    low, high = result.intervals["accuracy"]
    assert f"<td>{low:.4f}</td><td>{high:.4f}</td>" in dom
    assert 'data-gate="roc_auc &gt;= 0.99">FAIL' in dom and 'data-gate="accuracy &gt;= 0.6">PASS' in dom
    assert all(f">{int(count)}</td>" in dom for count in result.confusion_matrix.ravel())
    analysis = result.artifacts["threshold_analysis"]
    assert f'data-metric="best_f1">{analysis.best_f1.f1:.4f}<' in dom
    assert f"precision &gt;= 0.8: threshold {format(analysis.targets['precision_0.8'].threshold, '.6g')}" in dom
    assert f'data-metric="recall/0">{result.metrics["recall/0"]:.4f}' in dom
    assert ">logistic</td>" in dom and "report-test" in dom
    assert dom.count("data:image/svg+xml;base64,") == 4  # confusion matrix, ROC, PR, thresholds


def test_report_by_run_id_of_a_multiclass_run_has_its_curves_and_classes(mlflow_store, tmp_path):
    from toolkit.cli import main

    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 3, 300)
    y_score = rng.dirichlet([1, 1, 1], 300)
    y_score[np.arange(300), y_true] += 0.5
    y_score /= y_score.sum(axis=1, keepdims=True)
    names = np.array(["cat", "dog", "eel"])
    result = toolkit.evaluate(names[y_true], y_score=y_score, labels=list(names), trackers=["mlflow"],
                              run_name="three")
    toolkit.evaluate([0, 1], y_score=[0.2, 0.9], trackers=["mlflow"], run_name="a later run")
    (run,) = [run for run in mlflow_store.runs() if run.info.run_name == "three"]
    page = tmp_path / "three.html"
    assert main(["report", run.info.run_id, "-o", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "<h1>three</h1>" in text and "<h2>ROC and precision-recall curves</h2>" in text
    assert "Threshold analysis" not in text  # multiclass: none
    for label in ("cat", "dog", "eel"):
        assert f'data-metric="f1/{label}">{result.metrics[f"f1/{label}"]:.4f}' in text
    assert f'data-metric="roc_auc_ovr_macro">{result.metrics["roc_auc_ovr_macro"]:.4f}<' in text
    assert main(["report", "0123456789abcdef", "-o", str(tmp_path / "none.html")]) == 2
    assert not (tmp_path / "none.html").exists()


from toolkit_wandb.testing import wandb_offline  # noqa: E402,F401  (fixture)


def test_report_says_where_the_same_run_is_in_wandb(mlflow_store, wandb_offline, tmp_path):
    from toolkit.cli import main

    toolkit.evaluate([0, 1, 1, 0], y_score=[0.2, 0.7, 0.6, 0.1], trackers=["mlflow", "wandb"], run_name="both")
    (folder,) = wandb_offline.run_folders()
    page = tmp_path / "both.html"
    assert main(["report", "--latest", "-o", str(page)]) == 0
    run_id = folder.rsplit("-", 1)[-1]
    assert f'data-fact="wandb run">{run_id} {folder}<' in page.read_text(encoding="utf-8")
