"""``toolkit sweep SWEEP.yaml [--report FILE]``: train each variant of a base config as its own run, then
compare them in a table (and on one HTML page with ``--report``).

A sweep file names a base config and its variants (see examples/sweep.yaml)::

    base: digits_cnn.yaml           # relative to the sweep file
    variants:
      - name: baseline
      - name: nadam
        set: {model.optimizer.name: nadam}
"""

from __future__ import annotations

import argparse
import difflib
import os
import time
from typing import Any

from toolkit import config as configs
from toolkit.commands import train as training
from toolkit.commands.report import check_output
from toolkit.errors import UsageError
from toolkit.plugin.manager import get_plugin_manager
from toolkit.progress import metrics_table
from toolkit.tracking.redaction import redact_text

RANK_METRIC = "accuracy"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep", help="train every variant of a config, one run each, and print a comparison table",
        description="Train every variant of a base config (see examples/sweep.yaml).",
    )
    parser.add_argument("sweep", help="the sweep YAML file (base + variants)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a value of the base config for every variant, for example --set epochs=2",
    )
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only these variants")
    parser.add_argument(
        "--report", metavar="FILE",
        help="at the end, write the comparison page of the sweep's runs to FILE (as toolkit report RUN_ID "
             "RUN_ID ... does: learning curves overlaid, the params that differ, final metrics, confusion "
             "matrices and sample images side by side), read back from the first tracker that can read; "
             "a failed variant's run is on it too, FAILED, with what it logged",
    )
    parser.set_defaults(run=run)


def load_variants(path: str, overrides: list, manager: Any, only: list = ()) -> list[tuple[str, configs.TrainConfig]]:
    """(name, validated config) for every variant; all are checked before any of them runs."""
    document = configs.read_yaml(path)
    where = f"sweep {path}"
    for key in document:
        if key not in configs.SWEEP_KEYS:
            close = difflib.get_close_matches(str(key), configs.SWEEP_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"{where}: key {key!r} is not known; {hint}known keys: {', '.join(configs.SWEEP_KEYS)}")
    base_name = document.get("base")
    if not isinstance(base_name, str):
        raise ValueError(f"{where}: base must name the base config file, for example base: digits_cnn.yaml")
    base_path = os.path.join(os.path.dirname(os.path.abspath(path)), base_name)
    base = configs.apply_overrides(configs.read_yaml(base_path), overrides)
    variants = document.get("variants")
    if not isinstance(variants, list) or not variants:
        raise ValueError(f"{where}: variants must be a non-empty list of {{name: ..., set: {{key: value}}}}")
    result, seen = [], set()
    for index, variant in enumerate(variants):
        key = f"variants[{index}]"
        if not isinstance(variant, dict) or not isinstance(variant.get("name"), str):
            raise ValueError(f"{where}: {key} must be a mapping with a name, got {variant!r}")
        unknown = [item for item in variant if item not in configs.VARIANT_KEYS]
        if unknown:
            raise ValueError(f"{where}: {key}.{unknown[0]} is not known; a variant has only name and set")
        name = variant["name"]
        if name in seen:
            raise ValueError(f"{where}: {key}: the name {name!r} is used twice; give each variant its own name")
        seen.add(name)
        changes = variant.get("set") or {}
        if not isinstance(changes, dict):
            raise ValueError(f"{where}: {key}.set must be a mapping of dotted key to value, got {changes!r}")
        merged = configs.apply_overrides(base, [])
        for dotted, value in changes.items():
            configs.set_dotted(merged, str(dotted), value, source=f"{where}: {key}.set")
        config = configs.validate(merged, manager, source=f"{base_path} (variant {name})")
        if not only or name in only:
            result.append((name, config))
    missing = [name for name in only if name not in seen]
    if missing:
        raise ValueError(f"--only names {missing}, which {path} does not have; variants: {sorted(seen)}")
    return result


def report_tracker(config: configs.TrainConfig, manager: Any) -> str:
    """The first of the config's trackers that can read its runs back (for ``--report``)."""
    specs = manager.get_trackers()
    readable = [name for name in config.trackers if name in specs and specs[name].reader is not None]
    if not readable:
        raise UsageError(f"--report: none of the sweep's trackers ({', '.join(config.trackers) or 'none'}) can read "
                         "runs back; record to one that can (mlflow, wandb, tensorboard)")
    return readable[0]


def write_report(path: str, histories: list, failed_runs: list, started_ms: int, config: configs.TrainConfig,
                 tracker: str, manager: Any) -> None:
    """The comparison page of the sweep's runs, read back from ``tracker``: every finished run, and
    each failed variant's run (FAILED, with what it logged before failing), found by its run name."""
    from toolkit.commands.report import write_comparison
    from toolkit.reporting import html
    from toolkit.reporting.record import open_reader

    reader = open_reader(tracker, training.tracker_options(config, manager).get(tracker), manager)
    run_ids = [history.run.links[tracker].run_id for history in histories if tracker in history.run.links]
    if failed_runs:
        recorded = [summary for summary in reader.list_runs()
                    if summary.run_name in failed_runs and (summary.start_time or 0) >= started_ms]
        for run_name in failed_runs:
            newest = max((summary for summary in recorded if summary.run_name == run_name),
                         key=lambda summary: summary.start_time or 0, default=None)
            if newest is None:
                print(f"--report: the failed variant's run {run_name!r} is not in {reader.location()}; "
                      "it is not on the page")
            else:
                run_ids.append(newest.run_id)
    records = [reader.read_run(run_id) for run_id in run_ids]
    if len(records) > 1:
        write_comparison(records, path)
    elif records:  # one run: its own report
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(html.render(records[0]))
    else:
        print(f"--report: no run was recorded, so no page was written to {path}")
        return
    print(f"report of {len(records)} run(s) -> {path}")


def run(args: argparse.Namespace) -> int:
    manager = get_plugin_manager()
    if args.report is not None:
        check_output(args.report, "--report")
    variants = load_variants(args.sweep, args.overrides, manager, args.only)
    tracker = report_tracker(variants[0][1], manager) if args.report is not None else None
    prepared = {name: training.prepare(config, manager) for name, config in variants}  # every model builds
    rows, failed, failed_runs, histories = [], [], [], []
    started_ms = int(time.time() * 1000) - 1000  # runs of this sweep start after this (clocks rounded)
    for number, (name, config) in enumerate(variants, start=1):
        base_name = config.run_name or "run"
        print(f"\n== variant {number}/{len(variants)}: {name} ==", flush=True)
        try:
            history = training.train(
                config, manager, run_name=f"{base_name}-{name}",
                extra_params={"variant": name}, prepared=prepared.pop(name),
                command=training.command_text("sweep", args.sweep, args.overrides),
            )
        except Exception as error:  # the run is FAILED in every tracker; the sweep goes on
            print(f"variant {name} failed: {type(error).__name__}: {redact_text(str(error))}", flush=True)
            failed.append(name)
            failed_runs.append(f"{base_name}-{name}")
            continue
        histories.append(history)
        metrics = dict(history.final.metrics) if history.final is not None else {}
        metrics["seconds"] = history.seconds
        metrics["epochs"] = len(history.epochs)
        metrics["s/epoch"] = history.seconds / max(1, len(history.epochs))  # validation included
        rows.append((name, metrics))
    rows.sort(key=lambda row: -row[1].get(RANK_METRIC, float("-inf")))
    print(f"\nsweep {args.sweep}: {len(rows)} variant(s), best {RANK_METRIC} first")
    if rows:
        print(metrics_table(rows, keys=["accuracy", "f1_macro", "roc_auc_ovr_macro", "log_loss", "epochs", "s/epoch", "seconds"]))
    if tracker is not None:
        write_report(args.report, histories, failed_runs, started_ms, variants[0][1], tracker, manager)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0
