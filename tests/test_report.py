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
                    data = connection.recv(4096)
                except OSError:
                    self.requests.append("(a connection without a request)")
                    continue
                # Chromium may open a spare socket to its proxy and close it unused as it exits: a
                # connection closed without one byte sent asked for nothing (seen once in CI)
                if data:
                    self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))

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
    assert "Intervals: 95% percentile bootstrap over examples (Multinomial, 200 resamples, seed 1)." in dom
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


def png_bytes(seed: int) -> bytes:
    """A small real PNG (as a trainer's grid of sample images would be)."""
    import io

    from matplotlib.figure import Figure

    figure = Figure(figsize=(1.5, 1), dpi=40)
    figure.add_subplot().imshow(np.random.default_rng(seed).random((6, 9)), cmap="gray")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def recorded_training(name: str, quality: float, tmp_path: Path, seed: int) -> str:
    """A run recorded in MLflow as the trainer records one: train/loss and an evaluation per epoch
    (steps 1-3), a PNG of sample images and a model summary; returns its run id."""
    from toolkit.run import Run

    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, 240)
    noise = rng.dirichlet([1, 1, 1], 240)
    folder = tmp_path / name
    folder.mkdir()
    (folder / "sample_predictions.png").write_bytes(png_bytes(seed))
    (folder / "model_summary.txt").write_text(f"Model: {name}\nDense(3) <softmax>\n", encoding="utf-8")
    with Run(name, {"model": "mlp", "learning_rate": quality / 100, "epochs": 3}, trackers=["mlflow"]) as run:
        for epoch in (1, 2, 3):
            weight = quality * epoch / 3
            scores = (1 - weight) * noise + weight * np.eye(3)[y_true]
            run.log_metrics({"train/loss": 2.0 - quality * epoch / 3}, step=epoch)
            run.log_evaluation(toolkit.evaluate(y_true, y_score=scores, labels=[0, 1, 2]), step=epoch)
        run.log_artifact("sample_predictions", str(folder / "sample_predictions.png"))
        run.log_artifact("model_summary", str(folder / "model_summary.txt"))
        return run.links["mlflow"].run_id


def test_a_comparison_and_a_single_run_page_with_curves_and_images_render_in_chromium(mlflow_store, tmp_path):
    import base64

    from toolkit.cli import main
    from toolkit.reporting import record

    ids = [recorded_training("weak", 0.3, tmp_path, 1), recorded_training("strong", 0.6, tmp_path, 2)]
    reader = record.open_reader("mlflow")
    runs = [reader.read_run(run_id) for run_id in ids]
    page = tmp_path / "compare.html"
    assert main(["report", ids[0][:7], ids[1][:7], "-o", str(page)]) == 0  # unique prefixes
    text = page.read_text(encoding="utf-8")
    assert external_references(text) == [] and "<script" not in text and "@import" not in text

    rendered = render_in_chromium(page, tmp_path, height=4000)
    dom = rendered.dom
    assert rendered.requests == []
    charts = re.findall(r'data-chart="([^"]+)"', dom)
    assert {"train/loss", "accuracy", "log_loss", "f1_macro"} <= set(charts)
    assert len(rendered.decoded) == len(charts) + 2 + 2 and set(rendered.decoded) == {"yes"}  # + matrices, samples
    assert blank_fraction(rendered.screenshot) < 0.95
    # the params that differ, and only those
    assert set(re.findall(r'data-param="([^"]+)"', dom)) == {"learning_rate"}
    for run in runs:
        assert f'data-run="{run.run_id}" data-param="learning_rate">{run.params["learning_rate"]}<' in dom
    # final metrics as the reader has them, the best per metric highlighted by its direction
    weak, strong = runs
    assert strong.metrics["accuracy"] > weak.metrics["accuracy"] and strong.metrics["log_loss"] < weak.metrics["log_loss"]
    for key, best in (("accuracy", strong), ("log_loss", strong), ("train/loss", strong), ("f1_macro", strong)):
        for run in runs:
            css = ' class="best"' if run is best else ""
            assert f'<td{css} data-run="{run.run_id}" data-metric="{key}">{run.metrics[key]:.4f}<' in dom, (key, run.run_name)
    assert 'data-metric="example_count">240<' in dom and "example_count</td>" in dom  # a count: never "best"
    assert dom.count('class="best"') == len(re.findall(r'higher is better|lower is better', dom))
    # each run's confusion matrix and logged images, side by side
    assert len(re.findall(r'alt="confusion matrix of (weak|strong)"', dom)) == 2
    for run in runs:
        assert base64.b64encode(run.images["sample_predictions"]).decode("ascii") in dom
        assert f"Model: {run.run_name}" in dom

    single = tmp_path / "strong.html"
    assert main(["report", ids[1], "-o", str(single)]) == 0
    rendered = render_in_chromium(single, tmp_path, height=4000)
    assert rendered.requests == [] and set(rendered.decoded) == {"yes"}
    dom = rendered.dom
    assert "<h2>Learning curves</h2>" in dom and 'data-chart="accuracy"' in dom and 'data-chart="loss"' in dom
    assert base64.b64encode(strong.images["sample_predictions"]).decode("ascii") in dom
    assert '<pre data-text="model_summary">Model: strong\nDense(3) &lt;softmax&gt;\n</pre>' in dom
    assert f'data-metric="accuracy">{strong.metrics["accuracy"]:.4f}<' in dom


SGD_CONFIG = """
run_name: sgd
seed: 0
epochs: 3
batch_size: 64
data: {name: digits, validation_split: 0.25}
model:
  framework: sklearn
  estimator: sklearn.linear_model.SGDClassifier
  options: {loss: log_loss, alpha: 0.0001}
metrics: [accuracy, f1_macro, log_loss]
trackers: [mlflow]
"""
SGD_SWEEP = """
base: sgd.yaml
variants:
  - name: small-alpha
  - name: large-alpha
    set: {model.options.alpha: 0.01}
  - name: longer
    set: {epochs: 4}
"""


def test_sweep_report_writes_the_comparison_page_of_its_runs(mlflow_store, tmp_path, capsys):
    from toolkit.cli import main
    from toolkit.reporting import record

    (tmp_path / "sgd.yaml").write_text(SGD_CONFIG)
    (tmp_path / "sweep.yaml").write_text(SGD_SWEEP)
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--report", str(tmp_path / "no" / "page.html")]) == 2
    assert "--report" in capsys.readouterr().err and mlflow_store.runs() == []  # nothing trained
    page = tmp_path / "sweep.html"
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--report", str(page)]) == 0
    assert f"report of 3 run(s) -> {page}" in capsys.readouterr().out
    reader = record.open_reader("mlflow")
    runs = {run.params["variant"]: reader.read_run(run.run_id) for run in reader.list_runs()}
    assert sorted(runs) == ["large-alpha", "longer", "small-alpha"]
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and external_references(text) == []
    differing = {(run_id, key): value for run_id, key, value in
                 re.findall(r'data-run="(\w+)" data-param="([^"]+)">([^<]*)<', text)}
    expected = {"variant": {name: name for name in runs},
                "estimator.alpha": {"small-alpha": "0.0001", "large-alpha": "0.01", "longer": "0.0001"},
                "epochs": {"small-alpha": "3", "large-alpha": "3", "longer": "4"}}
    assert differing == {(runs[name].run_id, key): values[name] for key, values in expected.items() for name in runs}
    for run in runs.values():
        for key in ("accuracy", "f1_macro", "log_loss"):
            assert re.search(rf'data-run="{run.run_id}" data-metric="{key}">{run.metrics[key]:.4f}<', text), key
    best = max(runs.values(), key=lambda run: run.metrics["accuracy"])
    assert f'<td class="best" data-run="{best.run_id}" data-metric="accuracy">' in text
    assert len(re.findall(r'alt="confusion matrix of ', text)) == 3 and 'data-chart="accuracy"' in text


def test_a_failed_variant_is_on_the_sweep_page_as_failed(mlflow_store, tmp_path, capsys):
    from toolkit.cli import main
    from toolkit.reporting import record

    (tmp_path / "sgd.yaml").write_text(SGD_CONFIG)
    (tmp_path / "sweep.yaml").write_text(
        "base: sgd.yaml\nvariants:\n  - name: fine\n  - name: broken\n    set: {model.options.alpha: -1.0}\n")
    page = tmp_path / "sweep.html"
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--report", str(page)]) == 1  # a variant failed
    out = capsys.readouterr().out
    assert "variant broken failed" in out and f"report of 2 run(s) -> {page}" in out
    reader = record.open_reader("mlflow")
    status = {run.params["variant"]: (run.run_id, run.status) for run in reader.list_runs()}
    assert {name: state for name, (_, state) in status.items()} == {"fine": "FINISHED", "broken": "FAILED"}
    text = page.read_text(encoding="utf-8")
    assert f'<td class="name">{status["broken"][0]}</td>' in text  # the failed run is on the page
    assert ">FAILED</td>" in text and ">FINISHED</td>" in text


def test_the_same_run_twice_is_refused(mlflow_store, tmp_path, capsys):
    from toolkit.cli import main

    run_id = recorded_training("only", 0.5, tmp_path, 3)
    assert main(["report", run_id, run_id[:6], "-o", str(tmp_path / "twice.html")]) == 2
    assert "is named twice" in capsys.readouterr().err and not (tmp_path / "twice.html").exists()


def test_per_class_rows_and_columns_with_nothing_known_are_left_out():
    result = toolkit.evaluate(["a", "b", "b", "a", "c"], ["a", "b", "a", "a", "c"], labels=["a", "b", "c", "d"])
    recorded = record_from_result(result)
    for label in "abcd":
        del recorded.metrics[f"recall/{label}"]  # as a reader gives back a run that logged no recall
    recorded.metrics.update({"precision/d": float("nan"), "f1/d": float("nan")})  # a class nothing is known of
    section = render(recorded).split("<h2>Per-class metrics</h2>")[1].split("<h2>")[0]
    assert re.findall(r'<td class="name">(\w)</td>', section) == ["a", "b", "c"]
    assert re.findall(r"<th[^>]*>(\w+)</th>", section) == ["label", "precision", "f1", "support"]
    assert f'data-metric="f1/b">{result.metrics["f1/b"]:.4f}<' in section and ">n/a<" not in section
    assert 'data-metric="support/c">1<' in section
