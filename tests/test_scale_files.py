"""Out-of-core evaluate_files: every file format gives the in-memory result, in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import toolkit

RNG = np.random.default_rng(21)
N, K = 6000, 3
Y_TRUE = RNG.integers(0, K, N)
SCORES = RNG.dirichlet(np.ones(K), N)
WEIGHTS = RNG.random(N) * 3
Y_PRED = np.where(RNG.random(N) < 0.7, Y_TRUE, RNG.integers(0, K, N))
SCORE_COLUMNS = [f"p{i}" for i in range(K)]


def _frame(rows: slice = slice(None)) -> pd.DataFrame:
    frame = pd.DataFrame(SCORES[rows], columns=SCORE_COLUMNS)
    frame["label"], frame["guess"], frame["weight"] = Y_TRUE[rows], Y_PRED[rows], WEIGHTS[rows]
    return frame


def _assert_same(result, expected, weighted=False):
    """Bit for bit without weights (counts, exact sums, the same scores sorted); weighted counts
    are float sums, equal up to the order of addition."""
    if not weighted:
        assert result.metrics == expected.metrics
        np.testing.assert_array_equal(result.confusion_matrix, expected.confusion_matrix)
        return
    assert result.metrics.keys() == expected.metrics.keys()
    for name, value in expected.metrics.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
    np.testing.assert_allclose(result.confusion_matrix, expected.confusion_matrix, rtol=1e-12)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("predictions")
    for part, rows in enumerate((slice(0, 2500), slice(2500, 4000), slice(4000, None))):
        _frame(rows).to_parquet(folder / f"part-{part}.parquet", row_group_size=700)
    _frame().to_csv(folder / "all.csv", index=False)
    (folder / "columns").mkdir()
    np.save(folder / "columns" / "label.npy", Y_TRUE)
    np.save(folder / "columns" / "scores.npy", SCORES)
    records = np.zeros(N, dtype=[("label", "i8"), *[(name, "f8") for name in SCORE_COLUMNS]])
    records["label"] = Y_TRUE
    for index, name in enumerate(SCORE_COLUMNS):
        records[name] = SCORES[:, index]
    np.save(folder / "records.npy", records)
    scores_as_lists = pa.FixedSizeListArray.from_arrays(pa.array(SCORES.reshape(-1)), K)
    pq.write_table(pa.table({"label": Y_TRUE, "scores": scores_as_lists}), folder / "lists.parquet")
    return folder


@pytest.mark.parametrize("source, score_columns", [
    ("part-*.parquet", "p*"),
    ("all.csv", SCORE_COLUMNS),
    ("columns", "scores"),
    ("records.npy", "p?"),
    ("lists.parquet", "scores"),
])
def test_every_format_gives_the_in_memory_result(files, source, score_columns):
    result = toolkit.evaluate_files(files / source, y_true="label", y_score=score_columns,
                                    exact=True, batch_rows=999)
    _assert_same(result, toolkit.evaluate(Y_TRUE, y_score=SCORES))
    assert result.metrics["example_count"] == N


def test_predictions_and_weights_come_from_their_columns(files):
    result = toolkit.evaluate_files(str(files / "part-*.parquet"), y_true="label", y_pred="guess",
                                    y_score=SCORE_COLUMNS, sample_weight="weight", exact=True, batch_rows=1234)
    _assert_same(result, toolkit.evaluate(Y_TRUE, Y_PRED, SCORES, sample_weight=WEIGHTS), weighted=True)


def test_binary_scores_and_string_labels_infer_labels_like_evaluate(tmp_path):
    y_true = np.where(Y_TRUE == 1, "cat", "dog")
    pd.DataFrame({"animal": y_true, "p_dog": SCORES[:, 0]}).to_csv(tmp_path / "binary.csv", index=False)
    result = toolkit.evaluate_files(tmp_path / "binary.csv", y_true="animal", y_score="p_dog",
                                    exact=True, batch_rows=500)
    expected = toolkit.evaluate(y_true, y_score=SCORES[:, 0])
    assert result.labels == expected.labels == ["cat", "dog"]
    _assert_same(result, expected)


def test_bounded_mode_reports_binned_auroc_within_its_bound(files):
    result = toolkit.evaluate_files([files / "part-0.parquet", files / "part-[12].parquet"],
                                    y_true="label", y_score="p*")
    exact = toolkit.evaluate(Y_TRUE, y_score=SCORES)
    assert "roc_auc_ovr_macro" not in result.metrics
    assert abs(result["roc_auc_ovr_macro_binned"] - exact["roc_auc_ovr_macro"]) \
        <= result["roc_auc_ovr_macro_binned_error_bound"]
    assert result["log_loss"] == exact["log_loss"]
    assert result["f1_macro"] == exact["f1_macro"]


def _peak_bytes(path: Path, exact: bool) -> int:
    tracemalloc.start()
    try:
        toolkit.evaluate_files(path, y_true="label", y_score="scores", exact=exact, batch_rows=20_000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_number_of_rows(tmp_path):
    rng = np.random.default_rng(22)
    for rows in (100_000, 400_000):
        folder = tmp_path / f"rows-{rows}"
        folder.mkdir()
        np.save(folder / "label.npy", rng.integers(0, K, rows))
        np.save(folder / "scores.npy", rng.dirichlet(np.ones(K), rows))
    toolkit.evaluate_files(tmp_path / "rows-100000", y_true="label", y_score="scores")  # warm caches
    small, large = (_peak_bytes(tmp_path / f"rows-{rows}", exact=False) for rows in (100_000, 400_000))
    assert large < 1.25 * small
    # Exact AUROC keeps every score, so there the peak grows with the rows: the contrast shows
    # that the measurement sees the data.
    assert _peak_bytes(tmp_path / "rows-400000", exact=True) > 2 * large


def test_parquet_readers_let_go_of_each_file_once_read(files):
    # The hook runs when every file has been read, before evaluate_files returns.
    class ArrowMemoryProbe:
        allocated = None

        @toolkit.plugin.hookimpl
        def toolkit_evaluation_ended(self, run, result, step):
            ArrowMemoryProbe.allocated = pa.total_allocated_bytes()

    manager = toolkit.plugin.create_plugin_manager()
    manager.register(ArrowMemoryProbe(), "probe")
    # Arrow's pool is process-wide: what other tests left alive there is not this reader's.
    before = pa.total_allocated_bytes()
    toolkit.evaluate_files(files / "part-*.parquet", y_true="label", y_score="p*", plugin_manager=manager)
    assert ArrowMemoryProbe.allocated is not None and ArrowMemoryProbe.allocated - before < 64 * 1024


class RecordingPlugin:
    def __init__(self) -> None:
        self.results = []

    @toolkit.plugin.hookimpl
    def toolkit_evaluation_ended(self, run, result, step):
        self.results.append(result)


def test_the_result_reaches_the_run_hooks_once(files):
    manager = toolkit.plugin.create_plugin_manager()
    recorder = RecordingPlugin()
    manager.register(recorder, "recorder")
    result = toolkit.evaluate_files(files / "all.csv", y_true="label", y_score=SCORE_COLUMNS,
                                    plugin_manager=manager)
    assert recorder.results == [result]


@pytest.mark.parametrize("arguments, message", [
    (dict(y_score="nope*"), "y_score: no column of .* matches 'nope\\*'"),
    (dict(y_score=["p0", "p1", "p9"]), "y_score: .* has no column 'p9'"),
    (dict(y_score="p*", y_true="missing"), "y_true: .* has no column 'missing'"),
    (dict(y_score="p*", batch_rows=0), "batch_rows must be a positive integer"),
    (dict(y_score=None), "give y_pred or y_score"),
    (dict(y_score="p*", labels=[0, 1, 3]), "part-0.parquet, rows 0-2499: y_true contains \\[2\\]"),
    (dict(y_score="p*", metrics=["no_such_metric"]), "unknown metric"),
])
def test_bad_arguments_name_the_argument(files, arguments, message):
    arguments = {"y_true": "label", **arguments}
    with pytest.raises(ValueError, match=message):
        toolkit.evaluate_files(files / "part-*.parquet", **arguments)


def test_bad_paths_are_named(files, tmp_path):
    with pytest.raises(ValueError, match="paths: nothing matches"):
        toolkit.evaluate_files(tmp_path / "none-*.parquet", y_score="p*")
    with pytest.raises(ValueError, match="holds no .npy column files"):
        toolkit.evaluate_files(tmp_path, y_score="p*")
    np.save(tmp_path / "plain.npy", SCORES)
    with pytest.raises(ValueError, match="holds a plain array"):
        toolkit.evaluate_files(tmp_path / "plain.npy", y_score="p*")
    _frame().drop(columns=["p2"]).to_parquet(tmp_path / "fewer.parquet")
    with pytest.raises(ValueError, match="has no column 'p2'"):
        toolkit.evaluate_files([files / "part-0.parquet", tmp_path / "fewer.parquet"],
                               y_true="label", y_score=SCORE_COLUMNS)
