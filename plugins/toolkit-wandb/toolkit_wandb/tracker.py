"""The W&B tracker: one W&B run per toolkit run, offline unless a key is set, never prompting.

W&B stores the command line (``sys.argv``, passwords included), the git state, the program's
code and its console output by default; all of that is switched off here, so a run folder holds
only what the toolkit run sends. Charts are W&B's own: the confusion matrix and the ROC/PR
curves are built from the precomputed values, so the predictions are never handed over twice.
"""

from __future__ import annotations

import os
import shutil
import warnings
from typing import Any, Mapping, Optional

from toolkit.plugin import (
    MAX_CURVE_POINTS, RUN_STATUSES, EvaluationReport, TrackerLink, TrackingWarning, downsample,
    evaluation_folder_name, json_ready,
    strip_url_credentials,
)

from toolkit_wandb.mode import choose_mode

# Nothing from the process itself: no argv/host metadata, code, git state, pip freeze, console
# capture or system-metrics sampler. ``silent`` keeps W&B from printing; the run's summary says
# where the data went.
PRIVATE_SETTINGS = {
    "silent": True,
    "console": "off",
    "x_disable_meta": True,
    "save_code": False,
    "disable_code": True,
    "disable_git": True,
    "x_save_requirements": False,
    "x_disable_stats": True,
}
DEFAULT_INIT_TIMEOUT_SECONDS = 20.0
FINISH_WAIT_SECONDS = 30.0  # how long finish() waits for W&B's writer to put the exit record on disk
DEFAULT_PROJECT = "toolkit"
EXIT_CODES = {"FINISHED": 0, "FAILED": 1, "KILLED": 130}  # 130: the shell's code for an interrupt
CONFUSION_CHART = "wandb/confusion_matrix/v1"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CURVE_CHART = "wandb/area-under-curve/v0"
_CURVE_TITLES = {"roc": ("ROC curve", "False positive rate", "True positive rate"),
                 "pr": ("Precision-recall curve", "Recall", "Precision")}


class WandbTracker:
    """Records one run in W&B.

    :param project: default ``WANDB_PROJECT``, else "toolkit"; the entity is W&B's (``WANDB_ENTITY``).
    :param init_timeout: seconds an online start may take before falling back to offline;
        default ``WANDB_INIT_TIMEOUT``, else 20.
    """

    def __init__(self, project: Optional[str] = None, init_timeout: Optional[float] = None) -> None:
        self._project = project
        self._init_timeout = init_timeout
        self._run: Any = None
        self._step: Optional[int] = None
        self.mode: Optional[str] = None
        self.fallback_reason: Optional[str] = None

    # --- opening --------------------------------------------------------------------------------

    def start(self, run_name: Optional[str]) -> TrackerLink:
        import wandb

        mode = choose_mode()
        if mode == "online":
            try:
                self._run = self._init(wandb, "online", run_name)
            except Exception as error:  # no network, a bad key, a server down: record offline
                self.fallback_reason = _first_line(error)
                warnings.warn(f"W&B online start failed ({self.fallback_reason}); recording offline "
                              "instead: upload later with `wandb sync`", TrackingWarning, stacklevel=2)
                mode = "offline"
        if self._run is None:
            self._run = self._init(wandb, mode, run_name)
        self.mode = mode
        return TrackerLink("wandb", self._run.id, self.location, self.url)

    def _init(self, wandb: Any, mode: str, run_name: Optional[str]) -> Any:
        settings = dict(PRIVATE_SETTINGS)
        if mode == "online":
            settings["init_timeout"] = self._online_timeout()
        # W&B reads its environment once per process; these are read again for every run, so
        # that a long-lived program (or a test suite) that changes them is obeyed.
        if os.environ.get("WANDB_BASE_URL"):
            settings["base_url"] = os.environ["WANDB_BASE_URL"]
        return wandb.init(
            project=self._project or os.environ.get("WANDB_PROJECT") or DEFAULT_PROJECT,
            dir=os.environ.get("WANDB_DIR") or None,
            name=run_name, mode=mode, reinit="create_new", settings=wandb.Settings(**settings),
        )

    def _online_timeout(self) -> float:
        if self._init_timeout is not None:
            return float(self._init_timeout)
        text = os.environ.get("WANDB_INIT_TIMEOUT")
        if not text:
            return DEFAULT_INIT_TIMEOUT_SECONDS
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"WANDB_INIT_TIMEOUT must be a number of seconds, got {text!r}") from None

    @property
    def run_folder(self) -> Optional[str]:
        """The local run folder (what ``wandb sync`` uploads), or None when W&B is disabled."""
        if self._run is None or self.mode == "disabled":
            return None
        return self._run.settings.sync_dir

    @property
    def location(self) -> str:
        if self.mode == "disabled":
            return "disabled (WANDB_MODE=disabled)"
        if self.mode == "online":
            return self._run.path
        return self.run_folder or ""

    @property
    def url(self) -> Optional[str]:
        return self._run.url if self.mode == "online" else None

    # --- recording ------------------------------------------------------------------------------

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._run.config.update(dict(params))

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self._run.config.update(dict(tags), allow_val_change=True)

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        self._run.log(dict(metrics), step=step)
        self._step = step

    def log_evaluation(self, report: EvaluationReport, step: Optional[int]) -> None:
        import wandb

        charts = {"confusion_matrix": self._confusion_chart(wandb, report)}
        for name, curves in report.curves.items():
            if curves:
                charts[name] = self._curve_chart(wandb, curves)
        if report.thresholds is not None:
            charts.update(self._threshold_charts(wandb, report.thresholds))
        self._run.log(charts, step=step if step is not None else (self._step or 0))
        self._run.summary.update(dict(report.metrics))
        self._save_evaluation_files(report, evaluation_folder_name(step))

    @staticmethod
    def _confusion_chart(wandb: Any, report: EvaluationReport) -> Any:
        matrix = report.confusion_matrix
        rows = [[actual, predicted, json_ready(matrix[i, j])]
                for i, actual in enumerate(report.labels) for j, predicted in enumerate(report.labels)]
        table = wandb.Table(columns=["Actual", "Predicted", "nPredictions"], data=rows)
        return wandb.plot_table(CONFUSION_CHART, table,
                                {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
                                {"title": "Confusion matrix"})

    @staticmethod
    def _curve_chart(wandb: Any, curves: Any) -> Any:
        # A W&B table holds at most Table.MAX_ROWS rows, shared by every class's curve.
        per_curve = max(2, min(MAX_CURVE_POINTS, wandb.Table.MAX_ROWS // len(curves)))
        x_name, y_name = curves[0].x_name, curves[0].y_name
        rows = []
        for curve in curves:
            small = downsample(curve, per_curve)
            rows += [[str(curve.label), json_ready(x), json_ready(y)]
                     for x, y in zip(small.x.tolist(), small.y.tolist())]
        title, x_title, y_title = _CURVE_TITLES[curves[0].kind]
        table = wandb.Table(columns=["class", x_name, y_name], data=rows)
        return wandb.plot_table(CURVE_CHART, table, {"x": x_name, "y": y_name, "class": "class"},
                                {"title": title, "x-axis-title": x_title, "y-axis-title": y_title})

    @staticmethod
    def _threshold_charts(wandb: Any, analysis: Any) -> dict[str, Any]:
        """W&B's own line chart of precision, recall, F1 and FPR against the threshold, and the table."""
        table = analysis.table
        thresholds = table["threshold"].tolist()
        columns = ("precision", "recall", "f1", "fpr")
        chart = wandb.plot.line_series(
            xs=thresholds, ys=[table[column].tolist() for column in columns], keys=list(columns),
            title="Threshold analysis", xname="threshold")
        rows = [[json_ready(value) for value in row.values()] for row in analysis.rows()]
        # "threshold_analysis_table" is taken by the chart's own data, so the full rows are "threshold_table"
        return {"threshold_analysis": chart,
                "threshold_table": wandb.Table(columns=list(analysis.rows()[0]), data=rows)}

    def _save_evaluation_files(self, report: EvaluationReport, folder: str) -> None:
        """The evaluation's files (the same in every tracker) saved with the run, for reading back."""
        if self.mode == "disabled":
            return
        target = os.path.join(self._run.dir, folder)
        os.makedirs(target, exist_ok=True)
        for name in report.write_files(target):
            self._run.save(os.path.join(target, name), base_path=self._run.dir, policy="now")

    def log_file(self, name: str, path: str) -> None:
        if self.mode == "disabled":
            return
        target = os.path.join(self._run.dir, name, os.path.basename(os.path.normpath(path)))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(path):
            shutil.copytree(path, target, dirs_exist_ok=True)
            files = [os.path.join(folder, file) for folder, _, names in os.walk(target) for file in names]
        else:
            shutil.copyfile(path, target)
            files = [target]
        for file in files:
            self._run.save(file, base_path=self._run.dir, policy="now")
        if len(files) == 1 and files[0].lower().endswith(IMAGE_SUFFIXES):
            # A picture (a trainer's grid of sample predictions) also goes to W&B's media panel.
            import wandb

            self._run.log({name: wandb.Image(files[0], caption=name)}, step=self._step or 0)

    # --- closing --------------------------------------------------------------------------------

    def finish(self, status: str) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, got {status!r}")
        if self._run is None:
            return
        try:
            self._run.summary["toolkit_status"] = status
        finally:
            self._run.finish(exit_code=EXIT_CODES[status])
        if self.mode == "offline":
            # W&B's writer process may still be writing: the run is finished once its file says so.
            from toolkit_wandb.offline_run import read_offline_run

            read_offline_run(self.run_folder, wait_seconds=FINISH_WAIT_SECONDS)

    def describe(self) -> str:
        if self.mode == "disabled":
            return "nothing recorded (WANDB_MODE=disabled)"
        if self.mode == "online":
            return f"run {self._run.path} ({self.url})"
        fallback = f"; online start failed: {self.fallback_reason}" if self.fallback_reason else ""
        return f"offline run {self._run.id} in {self.run_folder} (upload: wandb sync {self.run_folder}){fallback}"


def _first_line(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return strip_url_credentials(f"{type(error).__name__}: {text[:240]}")
