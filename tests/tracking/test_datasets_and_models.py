"""Data sets and models handed to trackers: digests of the bytes without copies, and optional tracker methods."""

from __future__ import annotations

import json
import os
import tracemalloc

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import toolkit
from toolkit.plugin import TrackerSpec, create_plugin_manager, hookimpl
from toolkit.run import Run
from toolkit.tracking.datasets import describe, digest

from .test_run import JsonLinesTracker


def test_the_digest_depends_on_values_dtype_and_shape_not_on_memory_layout():
    values = np.arange(60, dtype=np.float64).reshape(6, 10)
    view = values[:, ::2]  # not contiguous
    assert digest(view) == digest(np.ascontiguousarray(view)) == digest(view.copy())
    changed = values.copy()
    changed[5, 9] += 1e-9
    assert len({digest(values), digest(changed), digest(values.astype(np.float32)), digest(values.reshape(10, 6)),
                digest(values, np.arange(6)), digest(values, np.arange(6)[::-1])}) == 6
    assert digest(np.array(["cat", "dog"], dtype=object)) == digest(np.array(["cat", "dog"], dtype=object))
    assert digest(np.array(["cat", "dog"], dtype=object)) != digest(np.array(["cat", "cow"], dtype=object))


def test_the_digest_reads_arrays_in_place_and_views_a_chunk_at_a_time():
    contiguous = np.ones((4000, 1000))  # 32 MB
    strided = np.ones((4000, 2000))[:, ::2]  # 32 MB of values, not contiguous
    tracemalloc.start()
    try:
        digest(contiguous)
        _, peak_in_place = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest(strided)
        _, peak_strided = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_in_place < 1 << 20  # no copy of the 32 MB
    assert peak_strided < (1 << 24) + (1 << 20)  # at most one 16 MB chunk at a time


def test_describe_checks_its_arguments_and_keeps_the_arrays_by_reference():
    x, y = np.zeros((5, 2, 2), dtype=np.float32), np.arange(5)
    description = describe("toy", x, y, source="tests", context="validation")
    assert description.features is x and description.targets is y
    assert description.to_dict() == {"name": "toy", "digest": digest(x, y), "source": "tests",
                                     "context": "validation", "rows": 5,
                                     "schema": {"features": {"dtype": "float32", "shape": [-1, 2, 2]},
                                                "targets": {"dtype": "int64", "shape": [-1]}}}
    with pytest.raises(ValueError, match="context must be one of"):
        describe("toy", x, y, context="test")
    with pytest.raises(ValueError, match="x has 5 examples but y has 4"):
        describe("toy", x, y[:4])
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        describe("", x, y)


class RecordingTracker(JsonLinesTracker):
    """The JSON-lines tracker with the two optional methods."""

    def log_dataset(self, description):
        self._write(event="dataset", **description.to_dict())

    def log_model(self, description):
        folder = os.path.join(os.path.dirname(self.path), "model")
        os.makedirs(folder, exist_ok=True)
        self._write(event="model", framework=description.framework, saved=description.save(folder),
                    register_as=description.register_as, example_rows=len(description.input_example),
                    output=np.asarray(description.output_example).tolist())


class TwoTrackers:
    def __init__(self, folder):
        self.folder = folder

    @hookimpl
    def toolkit_register_trackers(self):
        def path(name):
            os.makedirs(os.path.join(self.folder, name), exist_ok=True)
            return os.path.join(self.folder, name, "run.jsonl")
        return [TrackerSpec("recording", lambda: RecordingTracker(path("recording"), "recording")),
                TrackerSpec("plain", lambda: JsonLinesTracker(path("plain"), "plain"))]


def _events(path):
    return [json.loads(line) for line in open(path)]


def test_the_trainer_hands_datasets_and_the_model_only_to_trackers_that_take_them(tmp_path):
    import joblib
    import toolkit_sklearn.plugin
    from toolkit_metrics import plugin as metrics_plugin

    manager = create_plugin_manager(load_entry_points=False)
    manager.register(metrics_plugin, "metrics")
    manager.register(toolkit_sklearn.plugin, "sklearn")
    manager.register(TwoTrackers(str(tmp_path)), "trackers")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 3)), rng.integers(0, 2, 80)
    trainer = toolkit.Trainer(LogisticRegression(), metrics=["accuracy"], trackers=["recording", "plain"],
                              plugin_manager=manager, progress=False, register_as="toy-model")
    trainer.fit(x[:60], y[:60], validation_data=(x[60:], y[60:]), data_name="toy", data_source="numpy")
    events = _events(tmp_path / "recording" / "run.jsonl")
    datasets = [event for event in events if event["event"] == "dataset"]
    assert [(d["context"], d["rows"], d["digest"]) for d in datasets] == [
        ("training", 60, digest(x[:60], y[:60])), ("validation", 20, digest(x[60:], y[60:]))]
    (model,) = [event for event in events if event["event"] == "model"]
    assert (model["framework"], model["register_as"], model["example_rows"]) == ("sklearn", "toy-model", 5)
    np.testing.assert_allclose(model["output"], trainer.model.predict_proba(x[60:65]))
    np.testing.assert_array_equal(joblib.load(model["saved"]).predict_proba(x), trainer.model.predict_proba(x))
    assert events[-1]["event"] == "end" and events[-1]["status"] == "FINISHED"
    plain = {event["event"] for event in _events(tmp_path / "plain" / "run.jsonl")}
    assert "dataset" not in plain and "model" not in plain and "end" in plain


def test_run_refuses_what_is_not_a_description(tmp_path):
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(TwoTrackers(str(tmp_path)), "trackers")
    with Run("r", trackers=["recording"], plugin_manager=manager) as run:
        with pytest.raises(ValueError, match="description must be a DatasetDescription, got dict"):
            run.log_dataset({"name": "x"})
        with pytest.raises(ValueError, match="description must be a ModelDescription, got str"):
            run.log_model("model.pkl")
