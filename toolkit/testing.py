"""A pytest plugin for plugin authors: a plugin manager holding your plugin, synthetic data, real trackers.

Installed with the core (entry point ``pytest11``), so its fixtures are available in any test
suite of a venv where ``toolkit`` is installed. Override ``toolkit_plugins`` in your conftest.py
to put your plugin into ``toolkit_plugin_manager``::

    @pytest.fixture
    def toolkit_plugins():
        from my_metrics import plugin
        return [plugin]

    def test_my_metric(toolkit_plugin_manager, classification_data):
        result = toolkit.evaluate(classification_data.y_true, classification_data.y_pred)
        assert 0 <= result.metrics["my_metric"] <= 1

Nothing heavy is imported here, and no tracker is named: each tracker plugin says how to sandbox it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import pytest

from toolkit.plugin import conformance
from toolkit.plugin.conformance import ConformanceError, ConformanceReport
from toolkit.plugin.manager import ToolkitPluginManager, create_plugin_manager, use_plugin_manager
from toolkit.plugin.markers import hookimpl
from toolkit.plugin.script_metrics import restore_script_metrics, saved_script_metrics

# --- plugin managers ------------------------------------------------------------------------------

def _register_plugins(manager: ToolkitPluginManager, plugins: Sequence[Any]) -> None:
    for plugin in plugins:
        if manager.is_registered(plugin):  # already there through its installed entry point
            continue
        manager.register(plugin, getattr(plugin, "__name__", None))


@pytest.fixture
def toolkit_plugins() -> Sequence[Any]:
    """The plugins (modules or objects) to add to ``toolkit_plugin_manager``; override it."""
    return ()


@pytest.fixture
def make_plugin_manager() -> Callable[..., ToolkitPluginManager]:
    """A factory of fresh plugin managers: ``make_plugin_manager(*plugins, entry_points=True,
    strict=True, disabled=())``. A broken plugin raises PluginError (strict), so your test sees it.
    """

    def make(
        *plugins: Any, entry_points: bool = True, strict: bool = True, disabled: Sequence[str] = ()
    ) -> ToolkitPluginManager:
        manager = create_plugin_manager(strict=strict, load_entry_points=entry_points, disabled=disabled)
        _register_plugins(manager, plugins)
        return manager

    return make


@pytest.fixture
def toolkit_plugin_manager(
    toolkit_plugins: Sequence[Any], make_plugin_manager: Callable[..., ToolkitPluginManager]
) -> Iterator[ToolkitPluginManager]:
    """A fresh, strict plugin manager with the installed plugins and ``toolkit_plugins``.

    It is the process-wide manager for the test, so ``toolkit.evaluate``, the Trainer and the
    CLI use it without being told; metrics defined with ``@toolkit.metric`` during the test are
    forgotten afterwards.
    """
    saved = saved_script_metrics()
    manager = make_plugin_manager(*toolkit_plugins)
    try:
        with use_plugin_manager(manager):
            yield manager
    finally:
        restore_script_metrics(saved)


# --- conformance -----------------------------------------------------------------------------------

def check_plugin(
    plugin: Any, *, plugin_manager: Optional[ToolkitPluginManager] = None, seed: int = 0
) -> ConformanceReport:
    """Run the conformance checks (``toolkit plugins --check``) on ``plugin``: a module or object
    with hooks, or the name of a loaded plugin. Returns the report when every check passes;
    raises :class:`ConformanceError` (an AssertionError, so pytest shows it as a failed test)
    listing each failure with the metric or statistic, the property and a minimal failing input.

    Without ``plugin_manager`` a fresh, strict one with the installed plugins is used.
    """
    report = conformance.check_plugin(plugin, plugin_manager=plugin_manager, seed=seed)
    if not report.ok:
        raise ConformanceError(report)
    return report


# --- synthetic data -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassificationData:
    """Labels, predictions, scores and weights of a synthetic classification task.

    ``y_score`` has one column per label, in the order of ``labels``; for two labels it is the
    (N,) probability of ``labels[1]``, as toolkit and scikit-learn take binary scores.
    ``y_true`` is drawn from the scores' own probabilities, so the scores are calibrated.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray
    labels: list
    sample_weight: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.y_true.shape[0])

    def batches(self, size: int) -> Iterator["ClassificationData"]:
        """Consecutive slices of at most ``size`` examples, for streaming with ``Evaluator.update``."""
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        for start in range(0, len(self), size):
            part = slice(start, start + size)
            yield replace(
                self, y_true=self.y_true[part], y_pred=self.y_pred[part], y_score=self.y_score[part],
                sample_weight=None if self.sample_weight is None else self.sample_weight[part],
            )

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``toolkit.evaluate`` and ``Evaluator.update``."""
        return {"y_true": self.y_true, "y_pred": self.y_pred, "y_score": self.y_score,
                "sample_weight": self.sample_weight}


def synthetic_classification(
    n_examples: int = 300,
    n_classes: int = 3,
    *,
    seed: int = 0,
    labels: Optional[Sequence[Any]] = None,
    weighted: bool = False,
) -> ClassificationData:
    """A reproducible synthetic task: Dirichlet scores, true labels drawn from them, argmax predictions."""
    if labels is not None:
        n_classes = len(labels)
    if n_examples < 1 or n_classes < 2:
        raise ValueError(f"need n_examples >= 1 and n_classes >= 2, got {n_examples} and {n_classes}")
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.full(n_classes, 0.7), size=n_examples)
    cumulative = scores.cumsum(axis=1)
    true_positions = np.minimum((rng.random((n_examples, 1)) > cumulative).sum(axis=1), n_classes - 1)
    predicted_positions = scores.argmax(axis=1)
    chosen = list(labels) if labels is not None else list(range(n_classes))
    label_array = np.asarray(chosen)
    return ClassificationData(
        y_true=label_array[true_positions],
        y_pred=label_array[predicted_positions],
        y_score=scores[:, 1] if n_classes == 2 else scores,
        labels=chosen,
        sample_weight=rng.uniform(0.1, 2.0, n_examples) if weighted else None,
    )


@pytest.fixture
def make_classification_data() -> Callable[..., ClassificationData]:
    """``make_classification_data(n_examples=300, n_classes=3, seed=0, labels=None, weighted=False)``."""
    return synthetic_classification


@pytest.fixture
def classification_data() -> ClassificationData:
    """300 examples of a 3-class task, seed 0."""
    return synthetic_classification()


@pytest.fixture
def binary_classification_data() -> ClassificationData:
    """300 examples of a binary task with (N,) scores, seed 0."""
    return synthetic_classification(n_classes=2)


# --- real trackers in temporary folders -----------------------------------------------------------

@dataclass
class TrackingFolders:
    """Where the trackers write during one test, and a helper that reads the runs back.

    ``trackers`` are the installed trackers that offer a sandbox (``TrackerSpec.sandbox``);
    each writes under ``root / <tracker name>`` and is read back through its own reader.
    """

    root: Path
    trackers: tuple = field(default_factory=tuple)
    manager: Optional[ToolkitPluginManager] = None

    def folder(self, tracker: str) -> Path:
        """The folder tracker ``tracker`` writes into during this test."""
        return self.root / tracker

    def runs(self, tracker: str) -> list:
        """Every run tracker ``tracker`` recorded in this test, newest first, each a
        :class:`toolkit.plugin.RunRecord` (status, metrics and their history, params, tags, files)."""
        from toolkit.reporting.record import open_reader

        reader = open_reader(tracker, manager=self.manager)
        return [reader.read_run(summary.run_id) for summary in reader.list_runs()]


@pytest.fixture
def toolkit_tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrackingFolders:
    """Every installed tracker that offers a sandbox writes into a temporary folder, which is also
    the working directory; nothing is sent over the network and nothing lands outside the folder.

    Each tracker plugin says how through ``TrackerSpec.sandbox(folder)``: the environment
    variables that point it at ``folder`` (None unsets one).
    """
    from toolkit.plugin.manager import get_plugin_manager

    root = tmp_path / "tracking"
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(root)
    manager = get_plugin_manager()
    sandboxed = []
    for name, spec in manager.get_trackers().items():
        if spec.sandbox is None:
            continue
        folder = root / name
        folder.mkdir(exist_ok=True)
        for variable, value in spec.sandbox(str(folder)).items():
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)
        sandboxed.append(name)
    return TrackingFolders(root=root, trackers=tuple(sandboxed), manager=manager)


@pytest.fixture
def toolkit_evaluate(
    toolkit_plugin_manager: ToolkitPluginManager, toolkit_tracking: TrackingFolders
) -> Callable[..., Any]:
    """``toolkit.evaluate`` recording to every sandboxed tracker (``toolkit_tracking.trackers``).

    ``toolkit_evaluate(y_true, y_pred, y_score, ..., trackers=None)``: with ``trackers=None``
    every sandboxed tracker is used (the test is skipped when there is none); read the runs back
    with ``toolkit_tracking.runs(name)``.
    """
    from toolkit.pipeline import evaluate

    installed = tuple(name for name in toolkit_tracking.trackers if name in toolkit_plugin_manager.get_trackers())
    toolkit_tracking.trackers = installed

    def evaluate_tracked(*args: Any, trackers: Optional[Sequence[str]] = None, **kwargs: Any) -> Any:
        if trackers is None:
            if not installed:
                pytest.skip("no installed tracker offers a test sandbox")
            trackers = installed
        return evaluate(*args, trackers=trackers, plugin_manager=toolkit_plugin_manager, **kwargs)

    return evaluate_tracked


# --- recording every lifecycle hook ---------------------------------------------------------------

@dataclass
class HookRecorder:
    """A plugin that implements every lifecycle hook and records (hook name, arguments) in order."""

    calls: list = field(default_factory=list)

    def names(self) -> list[str]:
        """The hook names called so far, in order."""
        return [name for name, _ in self.calls]

    def arguments(self, hook_name: str) -> list[dict]:
        """The keyword arguments of every call of ``hook_name``."""
        return [arguments for name, arguments in self.calls if name == hook_name]

    @hookimpl
    def toolkit_run_started(self, run: Any) -> None:
        self.calls.append(("toolkit_run_started", {"run": run}))

    @hookimpl
    def toolkit_params_logged(self, run: Any, params: Any) -> None:
        self.calls.append(("toolkit_params_logged", {"run": run, "params": dict(params)}))

    @hookimpl
    def toolkit_epoch_ended(self, run: Any, epoch: int, logs: Any) -> None:
        self.calls.append(("toolkit_epoch_ended", {"run": run, "epoch": epoch, "logs": dict(logs)}))

    @hookimpl
    def toolkit_evaluation_ended(self, run: Any, result: Any, step: Any) -> None:
        self.calls.append(("toolkit_evaluation_ended", {"run": run, "result": result, "step": step}))

    @hookimpl
    def toolkit_artifact_logged(self, run: Any, name: str, path: str) -> None:
        self.calls.append(("toolkit_artifact_logged", {"run": run, "name": name, "path": path}))

    @hookimpl
    def toolkit_run_ended(self, run: Any, status: str) -> None:
        self.calls.append(("toolkit_run_ended", {"run": run, "status": status}))

    @hookimpl
    def toolkit_run_failed(self, run: Any, error: BaseException, status: str) -> None:
        self.calls.append(("toolkit_run_failed", {"run": run, "error": error, "status": status}))


@pytest.fixture
def toolkit_hook_recorder(toolkit_plugin_manager: ToolkitPluginManager) -> Iterator[HookRecorder]:
    """A :class:`HookRecorder` registered in ``toolkit_plugin_manager`` for the test."""
    recorder = HookRecorder()
    toolkit_plugin_manager.register(recorder, "toolkit-hook-recorder")
    try:
        yield recorder
    finally:
        if toolkit_plugin_manager.is_registered(recorder):
            toolkit_plugin_manager.unregister(recorder)


__all__ = [
    "ClassificationData", "ConformanceError", "ConformanceReport", "HookRecorder", "TrackingFolders", "check_plugin",
    "synthetic_classification",
]
