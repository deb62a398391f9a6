"""``toolkit train CONFIG [--set key=value ...]``: train the model a YAML config describes."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any, Mapping, Optional, Sequence

from toolkit import config as configs
from toolkit.commands import gating
from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.plugin.types import COMMAND_TAG
from toolkit.progress import final_metrics_block
from toolkit.run import PluginHookError, TrackerError
from toolkit.tracking.redaction import REDACTED, is_secret_key, redact_text, strip_url_credentials

# Failures of the training itself (not of the program): reported in one line, exit code 1.
# TrackerError includes DeliveryError: a store that did not take the run's values in time.
TRAINING_FAILURES = (FloatingPointError, TrackerError, PluginHookError)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train", help="train the model a YAML config describes, tracked in every configured tracker",
        description="Train the model a YAML config describes (see examples/digits_cnn.yaml).",
    )
    parser.add_argument("config", help="the YAML config file")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config value, for example --set epochs=10 --set model.optimizer.name=nadam",
    )
    gating.add_arguments(parser, intervals=False, thresholds=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    manager = get_plugin_manager()
    config = configs.load(args.config, args.overrides, manager)
    gates, baseline = gating.parse(args, config.gates, manager, config.metrics)
    # SIGTERM/SIGINT during the run end it KILLED in every tracker (toolkit.tracking.interrupts)
    # and exit non-zero; a training that fails ends FAILED and says why in one line.
    try:
        history = train(config, manager, gates=gates, baseline=baseline,
                        command=command_text("train", args.config, args.overrides))
    except TRAINING_FAILURES as error:
        print(f"toolkit train: failed: {type(error).__name__}: {redact_text(str(error))}", file=sys.stderr)
        return 1
    print_summary(history)
    broken = history.run.broken_trackers()
    if broken:  # the model trained, but a store does not hold what the summary lines say it lacks
        print(f"toolkit train: tracker(s) {', '.join(broken)} broke during the run (see the lines above)",
              file=sys.stderr)
        return 1
    if history.final is not None and history.final.gates:
        return gating.report(history.final)
    return 0


def prepare(config: configs.TrainConfig, manager: ToolkitPluginManager) -> tuple:
    """The data and the built model for ``config``: every mistake surfaces here, before any run."""
    from toolkit import data as datasets

    dataset = datasets.load(config.data_source, **config.data_options())
    model = manager.build_model(config.framework, config.model, dataset.input_shape, dataset.labels, config.seed)
    if model is None:
        builders = sorted(implementation.plugin_name for implementation
                          in manager.hook.toolkit_build_model.get_hookimpls())
        raise ValueError(
            f"config {config.source}: model.framework {config.framework!r} is not built by any "
            f"installed plugin (plugins that build models from configs: {', '.join(builders) or 'none'})"
        )
    return dataset, model


def train(
    config: configs.TrainConfig,
    manager: ToolkitPluginManager,
    run_name: Optional[str] = None,
    extra_params: Optional[Mapping[str, Any]] = None,
    prepared: Optional[tuple] = None,
    gates: Any = None,
    baseline: Optional[Mapping[str, float]] = None,
    command: Optional[str] = None,
) -> Any:
    """Fit the config's model on its data as one run; returns the TrainingHistory.

    ``gates`` (default: the config's) are checked on the last epoch's validation result;
    ``command`` (see :func:`command_text`) is recorded as the run's source.
    """
    from toolkit.trainer import Trainer

    dataset, model = prepared or prepare(config, manager)
    trainer = Trainer(
        model, metrics=config.metrics, trackers=list(config.trackers),
        params={**config.hyperparameters(), **dict(extra_params or {})},
        run_name=run_name or config.run_name, plugin_manager=manager,
        tracker_options=tracker_options(config, manager),
        gates=config.gates if gates is None else gates, baseline=baseline,
        log_model=config.log_model, register_as=config.register_as,
        tags={COMMAND_TAG: command} if command else None,
    )
    return trainer.fit(
        dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
        epochs=config.epochs, batch_size=config.batch_size,
        data_name=os.path.basename(dataset.name), data_source=dataset.source,
        validation_slices=dataset.val_slices, cross_slices=config.data.get("cross_slices", False),
    )


def tracker_options(config: configs.TrainConfig, manager: ToolkitPluginManager) -> dict:
    """Each tracker's options from the config; ``experiment`` names the experiment where a tracker's
    own option does not (each tracker says which of its options that is: ``TrackerSpec.experiment_option``)."""
    options = {name: dict(values) for name, values in config.trackers.items()}
    if config.experiment:
        specs = manager.get_trackers()
        for name, values in options.items():
            option = specs[name].experiment_option if name in specs else None
            if option:
                values.setdefault(option, config.experiment)
    return {name: values for name, values in options.items() if values}


def command_text(command: str, config_path: str, overrides: Sequence[str]) -> str:
    """The command line that made a run, as a tracker may show it: secret ``--set`` values are ``***``."""
    parts = ["toolkit", command, config_path]
    for assignment in overrides:
        key, separator, _ = assignment.partition("=")
        parts += ["--set", f"{key}={REDACTED}" if separator and is_secret_key(key) else assignment]
    return strip_url_credentials(shlex.join(parts))


def print_summary(history: Any) -> None:
    """The final validation metrics, then how to look at the run in each tracker."""
    name = history.run.name or "run"
    print()
    if history.final is not None:
        print(f"{name}: final validation metrics after {len(history.epochs)} epoch(s), {history.seconds:.1f} s")
        print(final_metrics_block(history.final.metrics))
        from toolkit.commands.evaluate import print_slices

        print_slices(history.final)
    lines = history.run.where_to_look()
    if lines:
        print("where to look:")
        for line in lines:
            print(f"  {line}")
