"""``toolkit train CONFIG [--set key=value ...]``: train the model a YAML config describes."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Mapping, Optional

from toolkit import config as configs
from toolkit.commands import gating
from toolkit.plugin.manager import ToolkitPluginManager, get_plugin_manager
from toolkit.progress import final_metrics_block
from toolkit.run import TrackerError

# Failures of the training itself (not of the program): reported in one line, exit code 1.
TRAINING_FAILURES = (FloatingPointError, TrackerError)


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
        history = train(config, manager, gates=gates, baseline=baseline)
    except TRAINING_FAILURES as error:
        print(f"toolkit train: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print_summary(history)
    if history.final is not None and history.final.gates:
        return gating.report(history.final)
    return 0


def prepare(config: configs.TrainConfig, manager: ToolkitPluginManager) -> tuple:
    """The data and the built model for ``config``: every mistake surfaces here, before any run."""
    from toolkit import data as datasets

    options = {key: value for key, value in config.data.items() if key not in ("name", "path")}
    if config.seed is not None and "seed" not in options:
        options["seed"] = config.seed
    dataset = datasets.load(config.data_source, **options)
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
) -> Any:
    """Fit the config's model on its data as one run; returns the TrainingHistory.

    ``gates`` (default: the config's) are checked on the last epoch's validation result.
    """
    from toolkit.trainer import Trainer

    dataset, model = prepared or prepare(config, manager)
    trainer = Trainer(
        model, metrics=config.metrics, trackers=list(config.trackers),
        params={**config.hyperparameters(), **dict(extra_params or {})},
        run_name=run_name or config.run_name, plugin_manager=manager,
        tracker_options={name: options for name, options in config.trackers.items() if options},
        gates=config.gates if gates is None else gates, baseline=baseline,
    )
    return trainer.fit(
        dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
        epochs=config.epochs, batch_size=config.batch_size,
    )


def print_summary(history: Any) -> None:
    """The final validation metrics, then how to look at the run in each tracker."""
    name = history.run.name or "run"
    print()
    if history.final is not None:
        print(f"{name}: final validation metrics after {len(history.epochs)} epoch(s), {history.seconds:.1f} s")
        print(final_metrics_block(history.final.metrics))
    lines = history.run.where_to_look()
    if lines:
        print("where to look:")
        for line in lines:
            print(f"  {line}")
