"""Trainer overhead: the digits or Fashion-MNIST CNN through toolkit.Trainer (MLflow + W&B, the metric
engine on the validation set every epoch) against plain ``model.fit`` with the same validation set.

    .venv/bin/python benchmarks/bench_trainer.py [--epochs 30] [--rounds 3]
    .venv/bin/python benchmarks/bench_trainer.py --data fashion-mnist --epochs 5 --rounds 1 --no-bare

``--data fashion-mnist`` trains examples/fashion_mnist_cnn.yaml's model on 60,000 images and
validates on 10,000 (Debian's dataset-fashion-mnist package); ``--no-bare`` skips the fit that
validates nothing, which is only a point of reference.

Every side trains a fresh model with the same initial weights; rounds alternate the order and
the medians are compared. The target is toolkit / plain <= 1.10, against the like-for-like plain
fit (``validation_data`` evaluated every epoch, as the toolkit does); the ratio against a fit
that validates nothing is printed too. The toolkit predicts the validation set by calling the
model directly, which costs less than Keras' own evaluate pass: that is where it wins time back. Tracker stores go to a temporary
folder (MLflow SQLite, W&B offline), so nothing is left behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

import numpy as np  # noqa: E402

import toolkit  # noqa: E402
from toolkit import config as configs, data  # noqa: E402
from toolkit.plugin import create_plugin_manager  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_OF = {"digits": EXAMPLES / "digits_cnn.yaml", "fashion-mnist": EXAMPLES / "fashion_mnist_cnn.yaml"}
TARGET_RATIO = 1.10
WARM_UP_EXAMPLES = 2048  # the untimed first round trains on this many: enough to build every kernel


def model_spec(example: Path) -> dict:
    document = configs.read_yaml(str(example))  # YAML 1.2 numbers (learning_rate: 1e-3), as toolkit reads it
    return {key: value for key, value in document["model"].items() if key != "framework"}


def build(manager, dataset, spec, weights=None):
    model = manager.build_model("keras", spec, dataset.input_shape, dataset.labels, seed=0)
    if weights is not None:
        model.set_weights(weights)
    return model


def plain_fit(manager, dataset, spec, weights, epochs, batch_size, validation=True) -> float:
    model = build(manager, dataset, spec, weights)
    y_train = np.eye(10, dtype="float32")[dataset.y_train]  # the example's loss is categorical
    y_val = np.eye(10, dtype="float32")[dataset.y_val]
    started = time.perf_counter()
    model.fit(dataset.x_train, y_train, validation_data=(dataset.x_val, y_val) if validation else None,
              epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - started


def toolkit_fit(manager, dataset, spec, weights, epochs, batch_size, trackers) -> tuple[float, float]:
    model = build(manager, dataset, spec, weights)
    started = time.perf_counter()
    trainer = toolkit.Trainer(model, trackers=trackers, run_name="bench-trainer",
                              plugin_manager=manager, progress=False)
    history = trainer.fit(dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
                          epochs=epochs, batch_size=batch_size)
    return time.perf_counter() - started, history.final.metrics["accuracy"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", choices=sorted(EXAMPLE_OF), default="digits")
    parser.add_argument("--no-bare", dest="bare", action="store_false",
                        help="skip the plain fit that validates nothing")
    args = parser.parse_args()
    spec = model_spec(EXAMPLE_OF[args.data])

    folder = tempfile.mkdtemp(prefix="bench-trainer-")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder}/mlflow.db"
    os.environ["WANDB_DIR"] = folder
    os.chdir(folder)
    manager = create_plugin_manager()
    trackers = [name for name in ("mlflow", "wandb") if name in manager.get_trackers()]
    dataset = data.load(args.data, seed=0)
    weights = build(manager, dataset, spec).get_weights()

    # One untimed round each, so that imports and first-time setup (TensorFlow's kernels,
    # the MLflow store's schema, the W&B service) are not charged to either side.
    small = dataclasses.replace(dataset, x_train=dataset.x_train[:WARM_UP_EXAMPLES],
                                y_train=dataset.y_train[:WARM_UP_EXAMPLES],
                                x_val=dataset.x_val[:WARM_UP_EXAMPLES], y_val=dataset.y_val[:WARM_UP_EXAMPLES])
    plain_fit(manager, small, spec, weights, 1, args.batch_size)
    toolkit_fit(manager, small, spec, weights, 1, args.batch_size, trackers)

    plain_times, bare_times, toolkit_times, accuracies = [], [], [], []
    for round_number in range(args.rounds):
        order = ("plain", "bare", "toolkit") if round_number % 2 == 0 else ("toolkit", "bare", "plain")
        for side in order:
            if side == "plain":
                plain_times.append(plain_fit(manager, dataset, spec, weights, args.epochs, args.batch_size))
            elif side == "bare" and args.bare:
                bare_times.append(plain_fit(manager, dataset, spec, weights, args.epochs, args.batch_size, validation=False))
            elif side == "toolkit":
                seconds, accuracy = toolkit_fit(manager, dataset, spec, weights, args.epochs, args.batch_size, trackers)
                toolkit_times.append(seconds)
                accuracies.append(accuracy)

    plain, tracked = statistics.median(plain_times), statistics.median(toolkit_times)
    bare = statistics.median(bare_times) if bare_times else None
    ratio = tracked / plain
    load = os.getloadavg()
    print(f"{args.data} CNN, {len(dataset.y_train)} training / {len(dataset.y_val)} validation images, "
          f"{args.epochs} epochs, batch {args.batch_size}, median of {args.rounds} rounds")
    rounded = lambda times: [round(value, 2) for value in times]  # noqa: E731
    print(f"  plain model.fit, validation_data every epoch  {plain:7.2f} s  {rounded(plain_times)}")
    if bare is not None:
        print(f"  plain model.fit, no validation at all         {bare:7.2f} s  {rounded(bare_times)}")
    print(f"  toolkit.Trainer, {'+'.join(trackers) or 'no trackers'}, engine every epoch "
          f"{tracked:7.2f} s  {rounded(toolkit_times)}")
    print(f"  final validation accuracy through toolkit: {statistics.median(accuracies):.4f}")
    print(f"  overhead ratio toolkit / plain = {ratio:.3f}  (target <= {TARGET_RATIO:.2f}: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})")
    if bare is not None:
        print(f"  against the fit that validates nothing: {tracked / bare:.3f} "
              f"(the toolkit does the validation pass and the tracking on top)")
    print(f"  per epoch: {(tracked - plain) / args.epochs * 1000:+.1f} ms against the validating fit")
    print(f"  load average at the end (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} CPUs; a shared machine makes these figures indicative")
    return 0


if __name__ == "__main__":
    sys.exit(main())
