"""One run of an evaluation or a training: lifecycle hooks fired in order, ended FINISHED or FAILED."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager


class Run:
    """A run's life: ``start``, params, evaluations, then ``end`` or ``fail``.

    Used as a context manager, an exception inside the block fails the run (KILLED for
    KeyboardInterrupt/SystemExit from a signal, FAILED otherwise) and is re-raised.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        trackers: Iterable[str] = (),
        plugin_manager: Optional[ToolkitPluginManager] = None,
    ) -> None:
        self.name = name
        self.params = dict(params or {})
        self._manager = plugin_manager or get_plugin_manager()
        self.tracker_names = _check_tracker_names(trackers, self._manager)
        self.status: Optional[str] = None

    @property
    def hook(self) -> Any:
        return self._manager.hook

    def start(self) -> "Run":
        self.status = "RUNNING"
        self.hook.toolkit_run_started(run=self)
        if self.params:
            self.hook.toolkit_params_logged(run=self, params=self.params)
        return self

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        """Record scalar values (for example a framework's epoch logs) at ``step``."""

    def log_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Record one training epoch's framework values, then tell the plugins."""
        self.log_metrics(logs, step=epoch)
        self.hook.toolkit_epoch_ended(run=self, epoch=epoch, logs=logs)

    def log_evaluation(self, result: Any, step: Optional[int] = None) -> None:
        """Record an EvaluationResult (metrics and its artifacts), then tell the plugins."""
        self.log_metrics(result.metrics, step=step)
        self.hook.toolkit_evaluation_ended(run=self, result=result, step=step)

    def log_artifact(self, name: str, path: str) -> None:
        """Record a local file as an artifact of the run, then tell the plugins."""
        self.hook.toolkit_artifact_logged(run=self, name=name, path=path)

    def end(self) -> None:
        self.status = "FINISHED"
        self.hook.toolkit_run_ended(run=self, status=self.status)

    def fail(self, error: BaseException) -> None:
        self.status = "KILLED" if isinstance(error, (KeyboardInterrupt, SystemExit)) else "FAILED"
        self.hook.toolkit_run_failed(run=self, error=error, status=self.status)

    def __enter__(self) -> "Run":
        return self.start()

    def __exit__(self, exc_type: Any, error: Optional[BaseException], traceback: Any) -> None:
        if error is None:
            self.end()
        else:
            self.fail(error)


def _check_tracker_names(trackers: Iterable[str], manager: ToolkitPluginManager) -> tuple[str, ...]:
    if isinstance(trackers, str):
        trackers = [trackers]
    names = tuple(dict.fromkeys(trackers or ()))
    known = manager.get_trackers()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"trackers names unknown tracker(s) {unknown}; installed: {sorted(known) or 'none'}"
        )
    return names
