"""Trainer: fits any model a plugin adapts, evaluates it every epoch and records one run per fit.

Nothing here names a framework, a tracker or a metric: the model adapter comes from the
``toolkit_model_adapter`` hook, the metrics from the metric engine, the trackers from ``Run``.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from toolkit.evaluation import EvaluationResult, Evaluator
from toolkit.evaluation import gates as quality_gates, slices as slicing
from toolkit.evaluation.inputs import check_score_type
from toolkit.pipeline import check_gate_metrics
from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.progress import EpochLine
from toolkit.tracking.choice import default_tracker_names
from toolkit.run import Run
from toolkit.tracking.datasets import describe as describe_dataset

# Framework values are recorded under this prefix so that a framework's "accuracy" (on the
# training batches) never overwrites the metric engine's "accuracy" (on the validation set).
TRAIN_PREFIX = "train/"
# Rows of the input example stored with a logged model (and run through it for its signature).
MODEL_EXAMPLE_ROWS = 5


@dataclass
class TrainingHistory:
    """What one ``Trainer.fit`` produced: per-epoch framework logs and validation results."""

    run: Run
    labels: list
    epochs: list = field(default_factory=list)  # one dict of framework values per finished epoch
    evaluations: list = field(default_factory=list)  # one EvaluationResult per finished epoch
    seconds: float = 0.0

    @property
    def final(self) -> Optional[EvaluationResult]:
        """The last epoch's validation result (None without validation data)."""
        return self.evaluations[-1] if self.evaluations else None


class Trainer:
    """Train ``model`` with whatever plugin adapts it, tracked as one run per ``fit``.

    :param model: any model an installed plugin adapts (a compiled Keras model, a scikit-learn
        estimator, ...).
    :param metrics: metrics for the per-epoch validation: names, or name -> params
        (``{"top_k_accuracy": {"k": 3}}``); None: every metric that applies.
    :param trackers: tracker names the run is recorded to; None: ``TOOLKIT_TRACKERS``, else the
        trackers installed as defaults (``TrackerSpec.default``).
    :param params: extra hyperparameters to log beside the ones the adapter finds itself.
    :param run_name: the run's name in every tracker.
    :param plugin_manager: the plugin manager to use (default: the process-wide one).
    :param progress: print one line per epoch.
    :param tracker_options: options per tracker name, given to its factory (for example
        ``{"mlflow": {"experiment_name": "digits"}}``).
    :param charts_every_epoch: render the evaluation's charts (confusion matrix, ROC/PR curves)
        in the trackers after every epoch, not only after the last one. The metrics, AUROC
        included, and the confusion matrix given to plugins come every epoch either way.
    :param gates: quality gates (``{"accuracy": ">= 0.9"}`` or ``["accuracy>=0.9"]``) checked
        on the last epoch's validation result: ``history.final.gates``, and tags in every tracker.
    :param baseline: another run's metrics, for gates written against ``baseline``.
    :param log_model: hand the trained model to the trackers that record models (MLflow: a
        logged model in its framework's flavor; W&B: a model artifact); off for huge models.
    :param register_as: also register the logged model under this name (MLflow's registry).
    :param tags: text tags set on the run in every tracker when it starts (for example
        ``toolkit.plugin.COMMAND_TAG``: the command that made the run).
    :param score_type: what the model's scores are: "probability" (default), "logits" or
        "decision" (as in ``toolkit.evaluate``).
    """

    def __init__(
        self,
        model: Any,
        metrics: Any = None,
        trackers: Optional[Iterable[str]] = None,
        params: Optional[Mapping[str, Any]] = None,
        run_name: Optional[str] = None,
        *,
        plugin_manager: Optional[ToolkitPluginManager] = None,
        progress: bool = True,
        charts_every_epoch: bool = False,
        tracker_options: Optional[Mapping[str, Mapping[str, Any]]] = None,
        gates: Any = None,
        baseline: Optional[Mapping[str, float]] = None,
        log_model: bool = True,
        register_as: Optional[str] = None,
        tags: Optional[Mapping[str, str]] = None,
        score_type: str = "probability",
    ) -> None:
        self.score_type = check_score_type(score_type)  # what the adapter's predict_proba returns
        self.gates = quality_gates.parse_gates(gates)
        quality_gates.check_baseline(self.gates, baseline)
        self.baseline = None if baseline is None else dict(baseline)
        self._manager = plugin_manager or get_plugin_manager()
        adapter = self._manager.get_model_adapter(model)
        if adapter is None:
            adapters = sorted(implementation.plugin_name for implementation
                              in self._manager.hook.toolkit_model_adapter.get_hookimpls())
            raise ValueError(
                f"model: no installed plugin can train a {type(model).__module__}."
                f"{type(model).__qualname__}; install the plugin for its framework "
                f"(plugins with model adapters now: {', '.join(adapters) or 'none'}; `toolkit plugins` lists them)"
            )
        self.model = model
        self.adapter = adapter
        # Names, or name -> params ({"top_k_accuracy": {"k": 3}}): the metric engine reads both.
        self.metrics = [metrics] if isinstance(metrics, str) else (
            None if metrics is None else dict(metrics) if isinstance(metrics, Mapping) else list(metrics))
        if trackers is None:  # configuration decides (toolkit/tracking/choice.py), never this code
            trackers = default_tracker_names(self._manager)
        self.trackers = (trackers,) if isinstance(trackers, str) else tuple(trackers or ())
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"params must be a mapping of name to value, got {type(params).__name__}")
        self.params = dict(params or {})
        self.run_name = run_name
        self.progress = progress
        self.charts_every_epoch = charts_every_epoch
        self.tracker_options = dict(tracker_options or {})
        if not isinstance(log_model, bool):
            raise ValueError(f"log_model must be True or False, got {log_model!r}")
        if register_as is not None and (not isinstance(register_as, str) or not register_as.strip()):
            raise ValueError(f"register_as must be a non-empty model name, got {register_as!r}")
        if register_as is not None and not log_model:
            raise ValueError("register_as needs the model logged: log_model is False")
        if tags is not None and not isinstance(tags, Mapping):
            raise ValueError(f"tags must be a mapping of name to text, got {type(tags).__name__}")
        self.log_model, self.register_as, self.tags = log_model, register_as, dict(tags or {})
        self.labels: Optional[list] = None
        self.history: Optional[TrainingHistory] = None
        self._slices: Optional[tuple] = None  # (validation slice values, cross_slices) of the current fit

    # --- training ---------------------------------------------------------------------------------

    def fit(
        self,
        x: Any,
        y: Any,
        validation_data: Optional[tuple] = None,
        epochs: int = 1,
        batch_size: int = 32,
        *,
        data_name: str = "data",
        data_source: Optional[str] = None,
        validation_slices: Optional[Mapping[str, Any]] = None,
        cross_slices: slicing.CrossArgument = False,
    ) -> TrainingHistory:
        """Train for ``epochs``, evaluating ``validation_data`` after every epoch.

        ``validation_slices`` (``{"region": values}``, one value per validation example) adds
        each slice's metrics to every epoch's result (``result.slices``, and the trackers'
        ``slice/<column>/<value>/<metric>`` keys); ``cross_slices`` as in ``toolkit.evaluate``.

        The training and validation sets are recorded as the run's data sets (``data_name``,
        from ``data_source``: a file, or the code that loads it), with a digest of their bytes.

        Everything is checked before the run starts. The run ends FINISHED, or FAILED (KILLED on
        SIGTERM/SIGINT) with everything logged so far kept, and the error is re-raised.
        """
        _check_positive_int(epochs, "epochs")
        _check_positive_int(batch_size, "batch_size")
        if not isinstance(data_name, str) or not data_name.strip():
            raise ValueError(f"data_name must be a non-empty name of the data set, got {data_name!r}")
        if data_source is not None and not isinstance(data_source, str):
            raise ValueError(f"data_source must be a file path or a loader's name, got {type(data_source).__name__}")
        x, y = _check_examples(x, y, "x", "y")
        x_val = y_val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            x_val, y_val = _check_examples(*validation_data, "validation_data[0]", "validation_data[1]")
            if x_val.shape[1:] != x.shape[1:]:
                raise ValueError(
                    f"validation_data[0] has examples of shape {x_val.shape[1:]}, x has {x.shape[1:]}"
                )
        labels = self.adapter.labels(y if y_val is None else np.concatenate([y, y_val]))
        if validation_slices is not None and y_val is None:
            raise ValueError("validation_slices go with validation_data: there is no validation set to slice")
        if validation_slices is not None and not isinstance(validation_slices, Mapping):
            raise ValueError(f"validation_slices must be a mapping of slice name -> values (one per validation "
                             f"example), got {type(validation_slices).__name__}")
        slices = dict(validation_slices) if validation_slices else None
        slicing_made = slicing.check_slice_by(slices, cross_slices)
        if slicing_made is not None:
            slicing.check_values(slices, slicing_made.columns, len(y_val))
        quality_gates.check_gate_slices(self.gates, slicing_made)
        check_gate_metrics(self.gates, Evaluator(labels, self.metrics, plugin_manager=self._manager,
                                                 score_type=self.score_type))
        self._slices = (slices, cross_slices) if slices else None
        check_fit = getattr(self.adapter, "check_fit", None)  # optional in ModelAdapter: older adapters lack it
        if callable(check_fit):  # what the framework cannot do with these settings, said now
            check_fit(epochs=epochs, batch_size=batch_size)
        params = {
            "framework": self.adapter.framework,
            **dict(self.adapter.describe()),
            "epochs": epochs,
            "batch_size": batch_size,
            "train_examples": int(len(y)),
            "validation_examples": 0 if y_val is None else int(len(y_val)),
            **self.params,
        }
        run = Run(self.run_name, params, trackers=self.trackers, plugin_manager=self._manager,
                  tracker_options=self.tracker_options or None)
        history = TrainingHistory(run=run, labels=list(labels))
        self.labels, self.history = list(labels), history
        line: Optional[EpochLine] = None
        started = time.perf_counter()
        last_scores: list = [None]

        def epoch_ended(epoch: int, logs: Mapping[str, Any]) -> None:
            values = {key: float(value) for key, value in logs.items() if _is_number(value)}
            diverged = [key for key, value in values.items() if not math.isfinite(value)]
            run.log_epoch(epoch, {TRAIN_PREFIX + key: value for key, value in values.items()}, step=epoch + 1)
            history.epochs.append(values)
            if diverged:
                raise FloatingPointError(
                    f"training diverged at epoch {epoch + 1}: {', '.join(diverged)} "
                    f"is {values[diverged[0]]}; lower the learning rate or check the inputs for NaN"
                )
            result = None
            if x_val is not None:
                # Charts (confusion matrix, curves) are rendered for the last epoch only unless
                # asked for every epoch: rendering costs more than the epoch itself on small data.
                # The predictions are stored with them.
                charts = self.charts_every_epoch or epoch == epochs - 1
                result, last_scores[0] = self._evaluate(x_val, y_val, labels, epoch=epoch,
                                                        keep_predictions=charts and bool(run.tracker_names))
                if self.gates and epoch == epochs - 1:  # the verdict on the model as trained
                    result = dataclasses.replace(result, gates=quality_gates.evaluate_gates(
                        self.gates, result.logged_metrics(), self.baseline, slices=result.slices))
                run.log_evaluation(result, step=epoch + 1, artifacts=charts)  # epoch N is step N, as printed
                history.evaluations.append(result)
            if line is not None:
                line.print(epoch, values, result)

        with tempfile.TemporaryDirectory(prefix="toolkit-artifacts-") as folder, run:
            try:
                if self.tags:
                    run.set_tags(self.tags)
                if run.tracker_names:  # the digests are only worth their pass over the data for a tracker
                    run.log_dataset(describe_dataset(data_name, x, y, source=data_source, context="training"))
                    if x_val is not None:
                        run.log_dataset(describe_dataset(data_name, x_val, y_val, source=data_source,
                                                         context="validation"))
                line = EpochLine(epochs) if self.progress else None  # timed from here, not from run start
                self.adapter.fit(x, y, epochs=epochs, batch_size=batch_size, epoch_ended=epoch_ended)
                sample_x, sample_y = (x, y) if x_val is None else (x_val, y_val)
                scores = last_scores[0] if x_val is not None else self.adapter.predict_proba(x)
                for name, path in dict(self.adapter.artifacts(sample_x, sample_y, scores, labels, folder)).items():
                    run.log_artifact(name, path)
                describe_model = getattr(self.adapter, "model_description", None)
                if self.log_model and run.tracker_names and callable(describe_model):
                    model = describe_model(sample_x[:MODEL_EXAMPLE_ROWS])
                    run.log_model(dataclasses.replace(model, register_as=self.register_as))
            except BaseException as error:
                # The reason goes with the run, so a FAILED run in any tracker says why.
                run.set_tags({"toolkit.error": _reason(error)})
                raise
        history.seconds = time.perf_counter() - started
        return history

    # --- evaluation -------------------------------------------------------------------------------

    def evaluate(self, x: Any, y: Any, slices: Optional[Mapping[str, Any]] = None,
                 cross_slices: slicing.CrossArgument = False) -> EvaluationResult:
        """The metric engine's result for the model on (x, y), the same type ``toolkit.evaluate`` returns
        (with ``result.slices`` when ``slices`` gives slice values, one per example)."""
        x, y = _check_examples(x, y, "x", "y")
        labels = self.labels if self.labels is not None else self.adapter.labels(y)
        result, _ = self._evaluate(x, y, labels, sliced=(dict(slices), cross_slices) if slices else None)
        return result

    def _evaluate(self, x: np.ndarray, y: np.ndarray, labels: Sequence, epoch: Optional[int] = None,
                  sliced: Optional[tuple] = None, keep_predictions: bool = False) -> tuple:
        scores = self.adapter.predict_proba(x)
        if epoch is not None and scores is not None and not np.isfinite(scores).all():
            # Some frameworks keep the loss finite (clipping, ReLU swallowing NaN) while the
            # weights are already NaN: the predictions tell.
            row = int(np.argwhere(~np.isfinite(np.asarray(scores)))[0][0])
            raise FloatingPointError(
                f"training diverged at epoch {epoch + 1}: the model predicts NaN or inf for validation "
                f"example {row}; lower the learning rate or check the inputs for NaN"
            )
        predictions = self.adapter.predict(x) if scores is None else None
        if sliced is None and epoch is not None:
            sliced = self._slices  # the validation set's slices, given to fit
        slices, cross = sliced or (None, False)
        evaluator = Evaluator(labels, self.metrics, plugin_manager=self._manager, score_type=self.score_type,
                              slice_by=list(slices) if slices else None, cross_slices=cross,
                              keep_predictions=keep_predictions)
        evaluator.update(y, y_pred=predictions, y_score=scores, slices=slices)
        return evaluator.compute(), scores


def _reason(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [""])[0][:500]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _check_positive_int(value: Any, argument: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{argument} must be a positive integer, got {value!r}")


def _check_examples(x: Any, y: Any, x_argument: str, y_argument: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as an array and ``y`` as 1-D labels (one-hot rows become their column index)."""
    if x is None or y is None:
        raise ValueError(f"{x_argument} and {y_argument} are required")
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{x_argument} is empty: there is nothing to train on")
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot (or probability) rows: the label is the column
        y = y.argmax(axis=1)
    elif y.ndim == 2:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{y_argument} must hold one label per example, got shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{x_argument} has {len(x)} examples but {y_argument} has {len(y)}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{y_argument} contains NaN or inf, which is not a label")
    return x, y


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return np.ndim(value) == 0
