"""Config files: the examples validate, overrides land where they say, mistakes are one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from toolkit import config as configs
from toolkit.commands.sweep import load_variants
from toolkit.plugin import TrackerSpec, create_plugin_manager, hookimpl

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def base() -> dict:
    return configs.read_yaml(str(EXAMPLES / "digits_cnn.yaml"))


def test_the_digits_example_is_the_origin_cnn(base):
    config = configs.validate(base, source="digits_cnn.yaml")
    assert (config.epochs, config.batch_size, config.framework) == (5, 32, "keras")
    assert config.data == {"name": "digits", "validation_split": 0.2}
    assert list(config.trackers) == ["mlflow", "wandb"]
    assert config.model["loss"] == "categorical_crossentropy"
    assert config.model["layers"][0] == {"Conv2D": {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}}
    assert config.hyperparameters() == {"data": {"name": "digits", "validation_split": 0.2}, "seed": 0}


def test_the_sweep_example_has_the_origins_seven_variants():
    variants = dict(load_variants(str(EXAMPLES / "sweep.yaml"), [], None))
    assert len(variants) == 7
    baseline = variants["baseline"]
    assert variants["cosine-similarity-loss"].model["loss"] == "cosine_similarity"
    assert variants["nadam"].model["optimizer"] == {"name": "nadam", "learning_rate": 0.002}
    assert variants["conv64-5x5-tanh"].model["layers"][0] == {
        "Conv2D": {"filters": 64, "kernel_size": [5, 5], "activation": "tanh"}}
    assert variants["conv64-5x5-tanh"].model["layers"][1:] == baseline.model["layers"][1:]
    assert variants["more-epochs"].epochs > baseline.epochs
    assert variants["larger-batch"].batch_size > baseline.batch_size
    # Each variant changes only what it names.
    assert variants["nadam"].model["loss"] == baseline.model["loss"] and variants["nadam"].epochs == baseline.epochs


def test_overrides_reach_nested_keys_and_list_items(base):
    changed = configs.apply_overrides(base, [
        "epochs=10", "model.optimizer.name=nadam", "model.layers.0.Conv2D.filters=64",
        "trackers=[mlflow]", "params.note=hello world",
    ])
    config = configs.validate(changed)
    assert config.epochs == 10
    assert config.model["optimizer"]["name"] == "nadam"
    assert config.model["layers"][0]["Conv2D"]["filters"] == 64
    assert config.trackers == {"mlflow": {}}
    assert config.params == {"note": "hello world"}
    assert base["epochs"] == 5  # the original is left as it was


@given(key=st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
       value=st.one_of(st.integers(), st.booleans(), st.text(alphabet="abcxyz_", min_size=1, max_size=8),
                       st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_an_override_reads_back_the_value_yaml_wrote(key, value):
    text = yaml.safe_dump(value).strip().removesuffix("...").strip()
    changed = configs.apply_overrides({"params": {}}, [f"params.{key}={text}"])
    assert changed["params"][key] == value


@pytest.mark.parametrize("change, message", [
    ({"epoch": 3}, "key 'epoch' is not known; did you mean epochs?"),
    ({"epochs": "5"}, "epochs must be a positive integer, got '5'"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"data": {"name": "digits", "path": "x.npz"}}, "data.path goes with data.name only for the IDX folders"),
    ({"data": {"validation_split": 0.2}}, "data needs data.name .digits, mnist, fashion-mnist, idx. or data.path"),
    ({"data": {"name": "idx"}}, "data.name idx needs data.path"),
    ({"data": {"nmae": "digits"}}, "key data.'nmae' is not known; did you mean data.name?"),
    ({"data": {"name": "digits", "validation_split": 2}}, "data.validation_split must be a fraction"),
    ({"model": "cnn"}, "model must be a mapping"),
    ({"model": {"layers": []}}, "model.framework is missing"),
    ({"metrics": "accuracy f1"}, None),
    ({"metrics": [1, 2]}, "metrics must be a list of names"),
    ({"trackers": {"mlflow": "yes"}}, "trackers.mlflow must be a mapping of options"),
    ({"params": [1]}, "params must be a mapping"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"experiment": ""}, "experiment must be a non-empty name"),
    ({"register_as": 3}, "register_as must be a non-empty name, got 3"),
    ({"log_model": "no"}, "log_model must be true or false, got 'no'"),
    ({"log_model": False, "register_as": "digits"}, "register_as needs the model logged"),
])
def test_mistakes_are_one_line_naming_the_key(base, change, message):
    base.update(change)
    if message is None:
        assert configs.validate(base).metrics == ["accuracy f1"]
        return
    with pytest.raises(ValueError, match=message) as caught:
        configs.validate(base, source="digits_cnn.yaml")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("config digits_cnn.yaml: ")


def test_missing_keys_and_unknown_plugins_are_named(base):
    manager = create_plugin_manager()
    del base["epochs"]
    with pytest.raises(ValueError, match="key 'epochs' is missing"):
        configs.validate(base)
    base["epochs"] = 1
    base["trackers"] = ["mlfow"]
    with pytest.raises(ValueError, match="trackers names 'mlfow', but no installed plugin provides that tracker"):
        configs.validate(base, manager)
    base["trackers"] = []
    base["metrics"] = ["acuracy"]
    with pytest.raises(ValueError, match="metrics names 'acuracy'.*did you mean 'accuracy'"):
        configs.validate(base, manager)


def test_bad_yaml_and_bad_overrides_say_where(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("epochs: 3\nmodel: [unclosed\n")
    with pytest.raises(ValueError, match=r"broken.yaml line 3: not valid YAML"):
        configs.read_yaml(str(path))
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must be a mapping of keys"):
        configs.read_yaml(str(tmp_path / "list.yaml"))
    with pytest.raises(ValueError, match="must look like key=value"):
        configs.apply_overrides({}, ["epochs"])
    with pytest.raises(ValueError, match=r"model.layers is a list of 2 items; use an index 0..1"):
        configs.apply_overrides({"model": {"layers": [1, 2]}}, ["model.layers.5=3"])
    with pytest.raises(ValueError, match="epochs is a value, not a mapping or list"):
        configs.apply_overrides({"epochs": 3}, ["epochs.inner=1"])


def test_sweep_mistakes_are_named(tmp_path):
    (tmp_path / "base.yaml").write_text((EXAMPLES / "digits_cnn.yaml").read_text())
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("base: base.yaml\nvariants:\n  - name: a\n  - name: a\n")
    with pytest.raises(ValueError, match="the name 'a' is used twice"):
        load_variants(str(sweep), [], None)
    sweep.write_text("base: base.yaml\nvariant: []\n")
    with pytest.raises(ValueError, match="key 'variant' is not known; did you mean 'variants'"):
        load_variants(str(sweep), [], None)
    sweep.write_text("base: base.yaml\nvariants:\n  - name: a\n    set: {epochs: -1}\n")
    with pytest.raises(ValueError, match=r"variant a\): epochs must be a positive integer, got -1"):
        load_variants(str(sweep), [], None)


def test_tracker_options_are_checked_against_the_trackers_factory(base):
    manager = create_plugin_manager()
    if "mlflow" not in manager.get_trackers():
        pytest.skip("needs the toolkit-mlflow tracker plugin")
    base["trackers"] = {"mlflow": {"experiment_name": "digits"}}
    assert configs.validate(base, manager).trackers == {"mlflow": {"experiment_name": "digits"}}
    base["trackers"] = {"mlflow": {"experiment": "digits"}}
    with pytest.raises(ValueError, match=r"trackers.mlflow options \['experiment'\] are not accepted: "
                                         ".*unexpected keyword argument 'experiment'"):
        configs.validate(base, manager)
    base["trackers"] = {"mlflow": {"flush_every": 0}}
    with pytest.raises(ValueError, match="flush_every must be between 1 and 1000, got 0"):
        configs.validate(base, manager)


class LabelledTracker:
    def __init__(self, label: str = "default") -> None:
        self.label = label


class LabelledTrackerPlugin:
    @hookimpl
    def toolkit_register_trackers(self):
        return [TrackerSpec("memory", LabelledTracker)]


def test_options_of_a_tracker_with_named_parameters_get_a_suggestion(base):
    manager = create_plugin_manager()
    manager.register(LabelledTrackerPlugin(), "memory-tracker")
    base["trackers"] = {"memory": {"labl": "x"}}
    with pytest.raises(ValueError, match="trackers.memory.labl is not an option of the memory tracker; "
                                         "did you mean label"):
        configs.validate(base, manager)


def test_experiment_names_each_trackers_experiment_unless_the_tracker_says_otherwise(base):
    from toolkit.commands.train import tracker_options

    base.update(experiment="digits", log_model=False, trackers={"mlflow": {}, "wandb": {"project": "mine"}})
    config = configs.validate(base)
    assert (config.experiment, config.log_model, config.register_as) == ("digits", False, None)
    # each tracker plugin names the option that holds its experiment (TrackerSpec.experiment_option)
    assert tracker_options(config, create_plugin_manager()) == {
        "mlflow": {"experiment_name": "digits"}, "wandb": {"project": "mine"}}


def test_the_recorded_command_hides_secret_overrides_and_url_credentials():
    from toolkit.commands.train import command_text

    text = command_text("train", "my config.yaml", ["epochs=3", "params.api_key=abc123",
                                                     "trackers.mlflow.tracking_uri=http://bob:pw@host:5000"])
    assert text == ("toolkit train 'my config.yaml' --set epochs=3 --set 'params.api_key=***' "
                    "--set trackers.mlflow.tracking_uri=http://host:5000")


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("5e-4", 0.0005), ("-2E+5", -200000.0), ("3e2", 300.0),
                                         ("1.5e-3", 0.0015), ("10", 10), ("'1e-3'", "1e-3"), ("x1e3", "x1e3")])
def test_yaml_12_numbers_in_overrides_and_files(tmp_path, base, text, value):
    changed = configs.apply_overrides(base, [f"model.optimizer.learning_rate={text}"])
    assert changed["model"]["optimizer"]["learning_rate"] == value
    assert type(changed["model"]["optimizer"]["learning_rate"]) is type(value)
    path = tmp_path / "config.yaml"
    path.write_text(f"epochs: 1\nbatch_size: 8\nmodel: {{optimizer: {{name: adam, learning_rate: {text}}}}}\n")
    assert configs.read_yaml(str(path))["model"]["optimizer"]["learning_rate"] == value


def test_a_learning_rate_written_1e_3_reaches_the_keras_optimizer(base):
    pytest.importorskip("keras")
    from toolkit.commands.train import prepare

    base["data"] = {"name": "digits"}
    config = configs.validate(configs.apply_overrides(base, ["model.optimizer.learning_rate=5e-4"]))
    _, model = prepare(config, create_plugin_manager())
    assert float(model.optimizer.learning_rate) == pytest.approx(5e-4)


def test_idx_folders_take_a_name_and_a_path(base):
    for data in ({"name": "idx", "path": "/some/folder"}, {"name": "mnist", "path": "/mnist"}, {"name": "fashion-mnist"}):
        base["data"] = dict(data)
        config = configs.validate(base)
        assert config.data_source == data["name"]
        assert config.data_options() == {**({"path": data["path"]} if "path" in data else {}), "seed": 0}
    base["data"] = {"path": "file.npz", "validation_split": 0.3}
    assert (configs.validate(base).data_source, configs.validate(base).data_options()) == (
        "file.npz", {"validation_split": 0.3, "seed": 0})


def test_metrics_default_plus_names_is_checked_against_installed_plugins(base):
    manager = create_plugin_manager()
    base["metrics"] = ["default", "roc_auc_ovr_macro_binned"]
    assert configs.validate(base, manager).metrics == ["default", "roc_auc_ovr_macro_binned"]
    base["metrics"] = ["default", "roc_auc_ovr_macro_binnd"]
    with pytest.raises(ValueError, match="did you mean 'roc_auc_ovr_macro_binned'"):
        configs.validate(base, manager)
    base["metrics"] = ["default"]
    base["gates"] = {"roc_auc_ovr_macro": ">= 0.9"}  # a default metric can be gated
    assert configs.validate(base, manager).gates


def test_the_fashion_mnist_sweep_has_the_courses_seven_variants():
    variants = dict(load_variants(str(EXAMPLES / "fashion_mnist_sweep.yaml"), [], None))
    assert list(variants) == ["baseline", "cosine-similarity-loss", "nadam", "extra-conv64-5x5-tanh", "more-epochs",
                              "larger-batch", "more-epochs-larger-batch"]
    baseline = variants["baseline"]
    assert baseline.data == {"name": "fashion-mnist"} and baseline.metrics[0] == "default"
    assert baseline.model["optimizer"] == {"name": "adam", "learning_rate": 0.001}  # written 1e-3
    assert variants["cosine-similarity-loss"].model["loss"] == "cosine_similarity"
    assert variants["nadam"].model["optimizer"]["name"] == "nadam"
    extra = variants["extra-conv64-5x5-tanh"].model["layers"]
    assert extra[2] == {"Conv2D": {"filters": 64, "kernel_size": [5, 5], "activation": "tanh"}}
    assert extra[:2] + extra[3:] == baseline.model["layers"]  # one layer more, the rest unchanged
    assert variants["more-epochs"].epochs > baseline.epochs
    assert variants["larger-batch"].batch_size > baseline.batch_size
    both = variants["more-epochs-larger-batch"]
    assert (both.epochs, both.batch_size) == (variants["more-epochs"].epochs, variants["larger-batch"].batch_size)
