"""The run's description in MLflow (``mlflow.note.content``) and its source tags, from what the run recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from toolkit.plugin import COMMAND_TAG, GATE_OUTCOME_TAG, GATE_TAG_PREFIX

NOTE_TAG = "mlflow.note.content"
SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
# The metrics a short description shows, in this order, when the run has them.
HEADLINE_METRICS = ("accuracy", "f1_macro", "f1", "roc_auc", "roc_auc_ovr_macro", "log_loss")
# Params that say what model was trained, in the order they are worth reading.
MODEL_PARAMS = ("estimator", "layers", "parameter_count", "optimizer", "epochs")


def source_tags(command: Optional[str]) -> dict[str, str]:
    """MLflow's own source tags for the command that made the run (already redacted)."""
    if not command:
        return {}
    return {SOURCE_NAME_TAG: command, SOURCE_TYPE_TAG: "LOCAL"}


@dataclass
class RunNote:
    """What the tracker saw of a run, written out as a short Markdown description at the end."""

    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    datasets: list = field(default_factory=list)
    model: Optional[Mapping[str, Any]] = None
    gates: dict = field(default_factory=dict)
    command: Optional[str] = None

    def add_tags(self, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            if key == GATE_OUTCOME_TAG or key.startswith(GATE_TAG_PREFIX):
                self.gates[key] = value
            elif key == COMMAND_TAG:
                self.command = value

    def text(self, status: str) -> str:
        lines = [f"**{status}**: {self._model_line()}"]
        if self.datasets:
            lines.append("Data: " + "; ".join(
                f"{d.context} `{d.name}` ({d.rows:,} rows, digest {d.digest[:8]})" for d in self.datasets))
        shown = [key for key in HEADLINE_METRICS if key in self.metrics]
        if shown:
            lines.append("Final evaluation: " + ", ".join(f"{key} {self.metrics[key]:.4g}" for key in shown))
        if GATE_OUTCOME_TAG in self.gates:
            checks = [value for key, value in self.gates.items() if key != GATE_OUTCOME_TAG]
            lines.append(f"Gates: {self.gates[GATE_OUTCOME_TAG]} ({'; '.join(checks)})")
        if self.model:
            registered = f", registered as version {self.model['version']}" if self.model.get("version") else ""
            lines.append(f"Model: `{self.model['model_uri']}` ({self.model.get('flavor') or 'files'}{registered})")
        if self.command:
            lines.append(f"Command: `{self.command}`")
        return "\n\n".join(lines)

    def _model_line(self) -> str:
        framework = self.params.get("framework")
        details = [f"{key} {self.params[key]}" for key in MODEL_PARAMS if key in self.params]
        what = f"a {framework} model" if framework else "an evaluation"
        return what + (f" ({', '.join(details)})" if details else "")
