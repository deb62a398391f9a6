"""Every hook a toolkit plugin can implement, in one class: registration first, then the run's life.

Hooks are always called with keyword arguments, so an implementation may accept fewer arguments
than its spec names, and a spec may grow new arguments without breaking existing plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from toolkit.plugin.markers import hookspec

if TYPE_CHECKING:  # imported for type hints only: the core must stay light at import time
    from toolkit.evaluation.result import EvaluationResult
    from toolkit.plugin.types import MetricSpec, ModelAdapter, StatisticSpec, TrackerSpec
    # What a lifecycle hook sees of toolkit.run.Run (the protocol, so this module imports no run).
    from toolkit.plugin.types import RunView as Run


class ToolkitHookspecs:
    """The hook specifications of the ``toolkit`` project."""

    # --- registration: return dataclasses, compute nothing -------------------------------------

    @hookspec
    def toolkit_register_metrics(self) -> Sequence["MetricSpec"]:
        """Declare the metrics this plugin provides.

        Called once per plugin manager, when its registry is first read. Must be cheap: import
        heavy libraries inside ``compute``, not here.

        :return: a sequence of :class:`~toolkit.plugin.MetricSpec`. Results of all plugins are
            flattened into one registry; a metric name that two distributions register is an
            error naming both.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_register_metrics():
                return [toolkit.plugin.MetricSpec(
                    name="error_rate", needs=("confusion",), higher_is_better=False,
                    compute=lambda confusion: 1 - confusion.trace() / confusion.sum())]
        """

    @hookspec
    def toolkit_register_statistics(self) -> Sequence["StatisticSpec"]:
        """Declare mergeable sufficient statistics that metrics can name in ``needs``.

        Called once per plugin manager. The core registers ``confusion`` (K x K counts, rows =
        true label, weighted when sample weights are given), ``scores`` (true labels, scores and
        weights joined over batches: what exact AUROC and log loss need) and ``count`` (the
        number of examples).

        :return: a sequence of :class:`~toolkit.plugin.StatisticSpec`; names must be unique across
            all plugins.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_register_statistics():
                return [toolkit.plugin.StatisticSpec(
                    name="positives", init=lambda labels: 0,
                    update=lambda state, batch: state + int((batch.y_true == 1).sum()),
                    merge=lambda a, b: a + b)]
        """

    @hookspec
    def toolkit_register_trackers(self) -> Sequence["TrackerSpec"]:
        """Declare experiment trackers (MLflow, W&B, ...) that runs can be recorded to.

        Called once per plugin manager. Import the tracker's client library inside the
        factory, never at module level. ``TrackerSpec.factory()`` is called once per run and
        returns an object following the :class:`toolkit.plugin.Tracker` protocol, whose
        docstring is the contract (what each method receives and must do); the optional
        capabilities (``reader`` for reading runs back, ``where_to_look``, ``sandbox``,
        ``default``) are described on :class:`toolkit.plugin.TrackerSpec`.

        The run applies the shared policy before any tracker sees a value, isolates failures
        (a tracker that raises is reported, asked to finish FAILED, and the others go on) and
        prints one summary line per tracker at the end.

        :return: a sequence of :class:`~toolkit.plugin.TrackerSpec`; names must be unique.

        Example::

            class JsonLinesTracker:
                def __init__(self, path="runs.jsonl"):
                    self.path = path
                def _write(self, **record):
                    with open(self.path, "a") as handle:
                        handle.write(json.dumps(record) + "\\n")
                def start(self, run_name):
                    self.run_id = uuid.uuid4().hex
                    self._write(event="start", run=self.run_id, name=run_name)
                    return toolkit.plugin.TrackerLink("jsonl", self.run_id, os.path.abspath(self.path))
                def log_params(self, params):
                    self._write(event="params", run=self.run_id, params=params)
                def log_metrics(self, metrics, step):
                    self._write(event="metrics", run=self.run_id, step=step, metrics=metrics)
                def log_evaluation(self, report, step):
                    self._write(event="evaluation", run=self.run_id, result=report.result)
                def log_file(self, name, path):
                    self._write(event="file", run=self.run_id, name=name, path=path)
                def set_tags(self, tags):
                    self._write(event="tags", run=self.run_id, tags=tags)
                def finish(self, status):
                    self._write(event="end", run=self.run_id, status=status)
                def describe(self):
                    return f"run {self.run_id} in {self.path}"

            @toolkit.plugin.hookimpl
            def toolkit_register_trackers():
                return [toolkit.plugin.TrackerSpec(name="jsonl", factory=JsonLinesTracker)]
        """

    @hookspec(firstresult=True)
    def toolkit_model_adapter(self, model: Any) -> Optional["ModelAdapter"]:
        """Return an adapter that knows how to fit and predict ``model``, or None.

        Called by ``toolkit.Trainer`` with the user's model, before anything is logged. Stops
        at the first non-None result, so an adapter plugin must return None for models it does
        not know (and must not import its framework to find out: if the model is a Keras model,
        ``keras`` is already in ``sys.modules``).

        The adapter follows :class:`~toolkit.plugin.types.ModelAdapter`:

        - ``framework`` (str) and ``describe()`` → params logged automatically;
        - ``labels(y)`` → the class labels, in the order of ``predict_proba``'s columns;
        - ``fit(x, y, *, epochs, batch_size, epoch_ended)`` → trains, calling
          ``epoch_ended(epoch, logs)`` after every epoch with the framework's own values
          (the trainer evaluates the validation set and fires ``toolkit_epoch_ended`` and
          ``toolkit_evaluation_ended`` from there);
        - ``predict_proba(x)`` → (N, K) scores or None; ``predict(x)`` → (N,) labels;
        - ``artifacts(x, y, y_score, labels, folder)`` → {name: path} recorded at the end.

        :param model: the object given to ``toolkit.Trainer``.
        :return: a ModelAdapter, or None.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_model_adapter(model):
                if hasattr(model, "fit") and hasattr(model, "predict_proba"):
                    return EstimatorAdapter(model)
                return None
        """

    @hookspec(firstresult=True)
    def toolkit_build_model(
        self, framework: str, spec: Mapping[str, Any], input_shape: tuple, labels: Sequence,
        seed: Optional[int],
    ) -> Optional[Any]:
        """Build a model from the ``model:`` section of a config, or return None.

        Called by ``toolkit train`` / ``toolkit sweep`` after the config was validated and the
        data loaded, before any run starts. Stops at the first non-None result: a plugin
        returns None for a ``framework`` it does not build. Raise ValueError naming the key
        (``model.layers[2]``, ``model.optimizer``) for a spec it cannot build.

        :param framework: ``model.framework`` from the config ("keras", "sklearn", ...).
        :param spec: the rest of the ``model:`` section (layers, optimizer, loss, ...).
        :param input_shape: the shape of one example, for example (8, 8, 1).
        :param labels: the class labels of the data, in order.
        :param seed: the config's ``seed``, or None; seed the framework's random numbers with it.
        :return: a model that some ``toolkit_model_adapter`` accepts, or None.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_build_model(framework, spec):
                if framework != "sklearn":
                    return None
                from sklearn.linear_model import LogisticRegression
                return LogisticRegression(**spec.get("options", {}))
        """

    @hookspec
    def toolkit_register_estimators(self) -> Sequence[str]:
        """Declare model classes, by import path, that a config's ``model.estimator`` may name.

        A config is data: the class it names is imported and called with ``model.options``,
        so it may name only scikit-learn's estimators (``sklearn.<module>.<Class>``, deriving
        from ``sklearn.base.BaseEstimator``) and the classes plugins vouch for here; anything
        else (``subprocess.Popen``, ``os.system``) is refused before anything is imported.
        Called when a config is validated. Returns text, so it stays cheap: the module is
        imported only when a config names the class.

        :return: a sequence of import paths (``"package.module.Class"``), exactly as a config
            writes them; the results of all plugins are joined.

        Example::

            @toolkit.hookimpl
            def toolkit_register_estimators():
                return ["xgboost.XGBClassifier", "lightgbm.LGBMClassifier"]
        """

    # --- lifecycle: called for every run, return None ------------------------------------------

    @hookspec
    def toolkit_run_started(self, run: "Run") -> None:
        """A run has started and every tracker has opened it.

        Called by ``toolkit.evaluate`` and by the trainer, before any params or metrics.

        :param run: the :class:`~toolkit.run.Run` (its ``name`` and ``params``).

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_run_started(run):
                print(f"started {run.name}")
        """

    @hookspec
    def toolkit_params_logged(self, run: "Run", params: Mapping[str, Any]) -> None:
        """Params were recorded for the run (flattened, secrets already redacted).

        :param run: the current run.
        :param params: the params as every tracker received them.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_params_logged(run, params):
                assert "optimizer" in params
        """

    @hookspec
    def toolkit_epoch_ended(self, run: "Run", epoch: int, logs: Mapping[str, float]) -> None:
        """A training epoch ended; ``logs`` are the framework's own values (loss, accuracy, ...).

        Fired by the trainer only, after the values were recorded and before the epoch's
        validation. The trainer records them under ``train/`` ("train/loss", "train/accuracy")
        so they never collide with the metric engine's keys ("accuracy" on the validation set).
        Raising here fails the run, keeping everything recorded so far (an early-stopping plugin
        should instead set a flag on ``run``).

        :param run: the current run.
        :param epoch: the epoch number, starting at 0.
        :param logs: the framework's values for this epoch, keyed ``train/<name>``.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_epoch_ended(run, epoch, logs):
                print(epoch, logs.get("train/loss"))
        """

    @hookspec
    def toolkit_evaluation_ended(
        self, run: "Run", result: "EvaluationResult", step: Optional[int]
    ) -> None:
        """The metric engine produced a result for the run.

        Fired once by ``toolkit.evaluate`` (``step`` None) and after every epoch's validation
        by the trainer (``step`` = the epoch counted from 1, as the console prints it).

        :param run: the current run.
        :param result: the :class:`~toolkit.EvaluationResult`.
        :param step: the training step or epoch, or None.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_evaluation_ended(run, result, step):
                if result.metrics["accuracy"] < 0.5:
                    print("worse than chance?")
        """

    @hookspec
    def toolkit_artifact_logged(self, run: "Run", name: str, path: str) -> None:
        """A file was recorded as an artifact of the run.

        :param run: the current run.
        :param name: the artifact's name (for example ``"confusion_matrix"``).
        :param path: the local file that was logged.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_artifact_logged(run, name, path):
                print("saved", name, "from", path)
        """

    @hookspec
    def toolkit_run_ended(self, run: "Run", status: str) -> None:
        """The run ended normally; every tracker has marked it ``status`` ("FINISHED").

        :param run: the run that ended.
        :param status: "FINISHED".

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_run_ended(run, status):
                notify(f"{run.name}: {status}")
        """

    @hookspec
    def toolkit_run_failed(self, run: "Run", error: BaseException, status: str) -> None:
        """The run failed; every tracker has marked it ``status`` and kept what was logged.

        :param run: the run that failed.
        :param error: the exception that ended it.
        :param status: "FAILED" for an exception, "KILLED" for SIGTERM/SIGINT.

        Example::

            @toolkit.plugin.hookimpl
            def toolkit_run_failed(run, error, status):
                notify(f"{run.name}: {status}: {error}")
        """
