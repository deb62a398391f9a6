"""What recording the data sets and the trained model adds to `make demo`, beside the run itself.

    .venv/bin/python benchmarks/bench_native_logging.py [--config examples/digits_cnn.yaml]

Trains the demo's config once, tracked to MLflow (a SQLite store in a temporary folder) and W&B
(offline there), and times the two calls the feature adds, ``Run.log_dataset`` (twice: training
and validation; digests included) and ``Run.log_model`` (the MLflow flavor with signature,
input example and its serving check, and the W&B artifact), against the whole run. The machine's
load is printed with the figures: on a shared machine they are indicative.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "examples" / "digits_cnn.yaml"))
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["WANDB_MODE"] = "offline"
    from toolkit import config as configs
    from toolkit.commands.train import train
    from toolkit.plugin import get_plugin_manager
    from toolkit.run import Run

    spent = {"log_dataset": 0.0, "log_model": 0.0}

    def timed(name):
        method = getattr(Run, name)

        def wrapper(self, *arguments, **options):
            started = time.perf_counter()
            try:
                return method(self, *arguments, **options)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    for name in spent:
        setattr(Run, name, timed(name))
    with tempfile.TemporaryDirectory(prefix="bench-native-") as folder:
        os.chdir(folder)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder}/mlflow.db"
        from mlflow import MlflowClient

        MlflowClient().search_experiments()  # the store's creation is not part of a demo run
        manager = get_plugin_manager()
        config = configs.load(args.config, [], manager)
        load_before = os.getloadavg()[0]
        history = train(config, manager, command="toolkit train digits_cnn.yaml")
        load_after = os.getloadavg()[0]
    added = spent["log_dataset"] + spent["log_model"]
    print(f"\nrun (trainer's own clock, start to end): {history.seconds:6.2f} s", file=sys.stderr)
    print(f"log_dataset x2 (digests + MLflow inputs + W&B artifacts): {spent['log_dataset']:6.2f} s")
    print(f"log_model (MLflow keras flavor + W&B artifact):           {spent['log_model']:6.2f} s")
    print(f"added by the feature: {added:.2f} s = {added / history.seconds:.1%} of the run "
          f"({history.seconds:.2f} s); load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
