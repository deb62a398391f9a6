"""Slices in the Trainer (validation slice values) and in configs (data.slice_by: CSV columns)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit import cli, config as configs, data as datasets


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    region = np.where(np.arange(len(y)) % 3 == 0, "north", "south")
    return x[:1400], y[:1400], x[1400:], y[1400:], region[1400:]


def test_every_epoch_has_the_validation_slices_of_the_subset_alone(digits):
    x, y, x_val, y_val, region = digits
    model = LogisticRegression(max_iter=300)
    trainer = toolkit.Trainer(model, trackers=(), progress=False, gates=["accuracy >= 0.5 for every region"])
    history = trainer.fit(x, y, validation_data=(x_val, y_val), validation_slices={"region": region})
    final = history.final
    assert list(final.slices) == ["region=north", "region=south"]
    rows = region == "north"
    alone = toolkit.evaluate(y_val[rows], y_score=model.predict_proba(x_val[rows]), labels=list(range(10)))
    assert final.slices["region=north"].metrics == pytest.approx(alone.metrics, abs=1e-12, nan_ok=True)
    assert final.gates[0].passed and "worst slice" in final.gates[0].reason
    assert trainer.evaluate(x_val, y_val, slices={"region": region}).slices["region=north"].metrics == \
        final.slices["region=north"].metrics


@pytest.mark.parametrize("kwargs, message", [
    ({"validation_slices": {"region": np.array(["a"] * 3)}}, "has 3 values but y_true has 397"),
    ({"validation_slices": ["region"]}, "must be a mapping"),
    ({"validation_slices": {"region": None}}, "is required"),
])
def test_bad_validation_slices_are_refused_before_the_run(digits, kwargs, message):
    x, y, x_val, y_val, _ = digits
    trainer = toolkit.Trainer(LogisticRegression(max_iter=50), trackers=(), progress=False)
    with pytest.raises(ValueError, match=message):
        trainer.fit(x, y, validation_data=(x_val, y_val), **kwargs)
    assert trainer.history is None  # nothing ran


def test_a_gate_on_a_column_that_is_not_sliced_is_refused_before_the_run(digits):
    x, y, x_val, y_val, region = digits
    trainer = toolkit.Trainer(LogisticRegression(max_iter=50), trackers=(), progress=False,
                              gates=["accuracy >= 0.5 for every country"])
    with pytest.raises(ValueError, match="does not slice by"):
        trainer.fit(x, y, validation_data=(x_val, y_val), validation_slices={"region": region})
    assert trainer.history is None


CONFIG = """
epochs: 1
batch_size: 64
data: {{path: {path}, label_column: label, slice_by: [region, device], cross_slices: true, validation_split: 0.3}}
model: {{framework: sklearn, estimator: sklearn.linear_model.LogisticRegression, options: {{max_iter: 300}}}}
metrics: [accuracy, f1_macro]
trackers: []
gates: ["accuracy >= 0.01 for every region,device"]
"""


def _csv(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + rng.normal(size=300) > 0).astype(int)
    region = rng.choice(["north", "south"], 300)
    device = rng.choice(["ios", "android"], 300)
    lines = ["f0,region,f1,f2,label,device,f3"] + [
        f"{row[0]},{where},{row[1]},{row[2]},{label},{which},{row[3]}"
        for row, label, where, which in zip(x, y, region, device)]
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    return x, y, region, device


def test_a_config_slices_the_validation_set_by_csv_columns_that_are_not_features(tmp_path, capsys):
    x, y, region, device = _csv(tmp_path)
    dataset = datasets.load(str(tmp_path / "table.csv"), label_column="label", slice_by=["region", "device"],
                            validation_split=0.3)
    assert dataset.x_train.shape[1] == 4  # slice columns are not features
    held_out = np.random.default_rng(0).permutation(300)[:90]
    np.testing.assert_array_equal(dataset.val_slices["region"], region[held_out])
    np.testing.assert_array_equal(dataset.x_val, x[held_out].astype("float32"))
    (tmp_path / "config.yaml").write_text(CONFIG.format(path=tmp_path / "table.csv"))
    assert cli.main(["train", str(tmp_path / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "passed: accuracy >= 0.01 for every region,device" in out
    table = out[out.index("slices:"):].splitlines()
    assert table[1].split() == ["slice", "accuracy", "f1_macro"]  # the metrics the config names
    assert [line.split()[0] for line in table[2:6]] == ["region=north", "region=south", "device=android", "device=ios"]


@pytest.mark.parametrize("change, message", [
    ({"slice_by": ["region"], "cross_slices": True}, "data.cross_slices=True needs two or more"),
    ({"slice_by": "a=b"}, "may not hold"),
])
def test_bad_data_slice_options_are_config_errors(tmp_path, change, message):
    _csv(tmp_path)
    document = configs.apply_overrides(
        json.loads(json.dumps({"epochs": 1, "batch_size": 8, "trackers": [],
                               "data": {"path": str(tmp_path / "table.csv")},
                               "model": {"framework": "sklearn",
                                         "estimator": "sklearn.linear_model.LogisticRegression"}})),
        [f"data.{key}={json.dumps(value)}" for key, value in change.items()])
    with pytest.raises(ValueError, match=message):
        configs.validate(document)


def test_slice_by_on_data_without_columns_is_refused():
    with pytest.raises(ValueError, match="names columns of a CSV file"):
        datasets.load("digits", slice_by=["region"])
