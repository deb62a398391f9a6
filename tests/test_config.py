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
    ({"data": {"name": "digits", "path": "x.npz"}}, "data needs exactly one of data.name"),
    ({"data": {"nmae": "digits"}}, "key data.'nmae' is not known; did you mean data.name?"),
    ({"data": {"name": "digits", "validation_split": 2}}, "data.validation_split must be a fraction"),
    ({"model": "cnn"}, "model must be a mapping"),
    ({"model": {"layers": []}}, "model.framework is missing"),
    ({"metrics": "accuracy f1"}, None),
    ({"metrics": [1, 2]}, "metrics must be a list of names"),
    ({"trackers": {"mlflow": "yes"}}, "trackers.mlflow must be a mapping of options"),
    ({"params": [1]}, "params must be a mapping"),
    ({"seed": 1.5}, "seed must be an integer"),
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
