"""toolkit-keras in one process: the digits CNN trained through the Trainer, checked against
scikit-learn, plus the builder's errors. TensorFlow is imported once for the whole module."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

import toolkit
from toolkit import data
from toolkit.plugin import create_plugin_manager, hookimpl

keras = pytest.importorskip("keras")

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "digits_cnn.yaml"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.files: dict[str, bytes] = {}

    @hookimpl
    def toolkit_params_logged(self, run, params):
        self.calls.append(("params", dict(params)))

    @hookimpl
    def toolkit_epoch_ended(self, run, epoch, logs):
        self.calls.append(("epoch", epoch, dict(logs)))

    @hookimpl
    def toolkit_evaluation_ended(self, run, result, step):
        self.calls.append(("evaluation", step, result))

    @hookimpl
    def toolkit_artifact_logged(self, run, name, path):
        self.files[name] = Path(path).read_bytes()  # the file lives only as long as the run

    @hookimpl
    def toolkit_run_ended(self, run, status):
        self.calls.append(("ended", status))


@pytest.fixture(scope="module")
def manager():
    return create_plugin_manager()


@pytest.fixture(scope="module")
def trained(manager):
    """The example's CNN, 2 epochs on digits, recorded by a plugin that sees every hook."""
    recorder = Recorder()
    manager.register(recorder, "recorder")
    spec = {key: value for key, value in yaml.safe_load(EXAMPLE.read_text())["model"].items() if key != "framework"}
    dataset = data.load("digits", seed=0)
    model = manager.build_model("keras", spec, dataset.input_shape, dataset.labels, seed=0)
    trainer = toolkit.Trainer(model, trackers=(), plugin_manager=manager, progress=False)
    history = trainer.fit(dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
                          epochs=2, batch_size=64)
    yield model, dataset, history, recorder
    manager.unregister(recorder)


def test_toolkit_model_adapter_picks_keras_for_keras_models(trained, manager):
    model = trained[0]
    adapter = manager.get_model_adapter(model)
    assert type(adapter).__name__ == "KerasAdapter" and adapter.framework == "keras"


def test_params_are_found_in_the_model(trained):
    model, _, _, recorder = trained
    [(_, params)] = [call for call in recorder.calls if call[0] == "params"]
    assert params["framework"] == "keras"
    assert params["optimizer"] == "Adam"
    assert params["learning_rate"] == 0.002
    assert params["loss"] == "categorical_crossentropy"
    assert params["layers"] == ("Conv2D(32, 3x3, relu) > MaxPooling2D(2x2) > Flatten > "
                                "Dense(64, relu) > Dense(10, softmax)")
    assert params["parameter_count"] == model.count_params() == 32 * 10 + 288 * 64 + 64 + 650
    assert (params["epochs"], params["batch_size"]) == (2, 64)


def test_every_epoch_has_keras_values_and_an_engine_evaluation(trained):
    _, _, history, recorder = trained
    epochs = [call for call in recorder.calls if call[0] == "epoch"]
    evaluations = [call for call in recorder.calls if call[0] == "evaluation"]
    assert [call[1] for call in epochs] == [0, 1] and [call[1] for call in evaluations] == [1, 2]
    for _, _, logs in epochs:
        assert set(logs) == {"train/loss", "train/accuracy"}
        assert np.isfinite(list(logs.values())).all()
    assert epochs[1][2]["train/loss"] < epochs[0][2]["train/loss"]  # it learns
    for _, _, result in evaluations:  # per epoch: AUROC and the confusion matrix too
        assert {"roc_auc_ovr_macro", "f1/9", "log_loss"} <= set(result.metrics)
        assert result.confusion_matrix.shape == (10, 10)
    assert recorder.calls[-1] == ("ended", "FINISHED")


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")  # float32 softmax rows
def test_the_final_evaluation_equals_scikit_learn_on_keras_predictions(trained):
    model, dataset, history, _ = trained
    scores = model.predict(dataset.x_val, verbose=0).astype(np.float64)
    final = history.final.metrics
    assert final["accuracy"] == pytest.approx(accuracy_score(dataset.y_val, scores.argmax(1)), abs=1e-12)
    assert final["f1_macro"] == pytest.approx(f1_score(dataset.y_val, scores.argmax(1), average="macro"), abs=1e-9)
    assert final["roc_auc_ovr_macro"] == pytest.approx(roc_auc_score(dataset.y_val, scores, multi_class="ovr"), abs=1e-6)
    assert final["log_loss"] == pytest.approx(log_loss(dataset.y_val, scores, labels=range(10)), abs=1e-5)
    assert final["accuracy"] > 0.5


def test_artifacts_are_the_keras_summary_and_a_sample_grid(trained):
    model, _, _, recorder = trained
    assert set(recorder.files) == {"model_summary", "sample_predictions"}
    summary = recorder.files["model_summary"].decode()
    assert "conv2d" in summary.lower() and f"{model.count_params():,}" in summary
    png = recorder.files["sample_predictions"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (768, 256)  # 8 x 2 tiles of 1.2 x 1.6 inches (image + caption), 80 dpi


def test_targets_follow_the_loss(manager):
    from toolkit_keras.adapter import KerasAdapter

    layers = ["Flatten", {"Dense": {"units": 3, "activation": "softmax"}}]
    y = np.array([0, 2, 1])
    for loss, expected in (("cosine_similarity", np.eye(3)[y]), ("sparse_categorical_crossentropy", y)):
        model = manager.build_model("keras", {"layers": layers, "loss": loss}, (4,), [0, 1, 2])
        np.testing.assert_array_equal(KerasAdapter(model)._targets(y), expected)


@pytest.mark.parametrize("spec, message", [
    ({"layers": ["Flaten"]}, r"model.layers\[0\]: 'Flaten' is not a Keras layer; did you mean Flatten\?"),
    ({"layers": [{"Dense": {"units": 10, "activaton": "relu"}}]}, r"model.layers\[0\] Dense: "),
    ({"layers": ["Flatten", {"Dense": {"units": 3}}]}, "the last layer outputs 3 values but the data has 10 classes"),
    ({"layers": ["Flatten", {"Dense": {"units": 10}}], "optimizer": "nadm"}, "'nadm' is not a Keras optimizer; did you mean nadam"),
    ({"layers": ["Flatten", {"Dense": {"units": 10}}], "loss": "categorical_crossentropi"}, "not a Keras loss; did you mean categorical_crossentropy"),
    ({"layers": ["Flatten", {"Dense": {"units": 10}}], "optimiser": "adam"}, "model.optimiser is not a Keras model key; did you mean model.optimizer"),
    ({"layers": [{"Conv2D": {"filters": 4, "kernel_size": [9, 9]}}]}, r"do not fit inputs of shape \(8, 8, 1\)|model.layers\[0\] Conv2D"),
])
def test_toolkit_build_model_names_the_bad_key(manager, spec, message):
    with pytest.raises(ValueError, match=message):
        manager.build_model("keras", spec, (8, 8, 1), list(range(10)))


def test_an_uncompiled_model_is_refused_before_training():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="not compiled; call model.compile"):
        toolkit.Trainer(model, trackers=(), progress=False).fit(np.zeros((4, 4)), [0, 1, 0, 1])
