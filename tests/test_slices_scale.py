"""Slices from files (any batching) and from Dask collections (any partitioning) equal slices of arrays."""

from __future__ import annotations

import math
import pickle

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import toolkit

RNG = np.random.default_rng(11)
N = 2000
Y = RNG.integers(0, 3, N)
SCORES = RNG.dirichlet(np.ones(3), N)
REGION = RNG.choice(["north", "south", "east"], N)
DEVICE = RNG.choice(["ios", "android"], N)
EXPECTED = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION, "device": DEVICE}, cross_slices=True,
                            ci=0.9, n_bootstrap=50, seed=3, bootstrap="poisson")


def _same_slices(result) -> None:
    assert list(result.slices) == list(EXPECTED.slices)
    for name, expected in EXPECTED.slices.items():
        got = result.slices[name]
        for key, value in expected.metrics.items():
            assert math.isclose(got.metrics[key], value, rel_tol=1e-12, abs_tol=1e-12) or (
                math.isnan(value) and math.isnan(got.metrics[key])), (name, key)
        for key, interval in expected.intervals.items():
            assert got.intervals[key] == pytest.approx(interval, abs=1e-12), (name, key)


@pytest.mark.parametrize("batch_rows", [97, 1000, N])
def test_files_in_any_batching_give_the_slices_of_arrays(tmp_path, batch_rows):
    frame = pd.DataFrame(SCORES, columns=["p0", "p1", "p2"]).assign(y_true=Y, region=REGION, device=DEVICE)
    frame.iloc[:1200].to_parquet(tmp_path / "part-0.parquet")
    frame.iloc[1200:].to_csv(tmp_path / "part-1.csv", index=False)
    result = toolkit.evaluate_files([str(tmp_path / "part-0.parquet"), str(tmp_path / "part-1.csv")],
                                    y_score=["p0", "p1", "p2"], slice_by=["region", "device"], cross_slices=True,
                                    exact=True, batch_rows=batch_rows, ci=0.9, n_bootstrap=50, seed=3)
    _same_slices(result)


def test_files_name_a_missing_slice_column(tmp_path):
    pd.DataFrame({"y_true": Y, "y_pred": Y}).to_parquet(tmp_path / "p.parquet")
    with pytest.raises(ValueError, match=r"slice_by\['region'\]: .* has no column 'region'"):
        toolkit.evaluate_files(str(tmp_path / "p.parquet"), y_pred="y_pred", slice_by="region")


@pytest.mark.parametrize("chunks", [250, (700, 300, 1000)])
def test_dask_arrays_in_any_partitioning_give_the_slices_of_arrays(chunks):
    result = toolkit.evaluate(da.from_array(Y, chunks=chunks), y_score=da.from_array(SCORES, chunks=(chunks, 3)),
                              slice_by={"region": da.from_array(REGION, chunks=chunks),
                                        "device": da.from_array(DEVICE, chunks=500)},
                              cross_slices=True, ci=0.9, n_bootstrap=50, seed=3)
    _same_slices(result)


def test_dask_frames_give_the_slices_of_arrays():
    frame = dd.from_pandas(pd.DataFrame(SCORES, columns=["p0", "p1", "p2"]).assign(
        y=Y, region=REGION, device=DEVICE), npartitions=4)
    result = toolkit.evaluate(frame["y"], y_score=frame[["p0", "p1", "p2"]],
                              slice_by={"region": frame["region"], "device": frame["device"]}, cross_slices=True,
                              ci=0.9, n_bootstrap=50, seed=3)
    _same_slices(result)


def test_an_evaluator_with_slices_ships_between_processes_and_merges():
    first = toolkit.Evaluator([0, 1, 2], slice_by=["region", "device"], cross_slices=True, ci=0.9, n_bootstrap=50,
                              seed=3, bootstrap="poisson")
    second = pickle.loads(pickle.dumps(first.spawn()))
    first.update(Y[:900], y_score=SCORES[:900], slices={"region": REGION[:900], "device": DEVICE[:900]})
    second.update(Y[900:], y_score=SCORES[900:], slices={"region": REGION[900:], "device": DEVICE[900:]})
    _same_slices(first.merge(pickle.loads(pickle.dumps(second))).compute())


@pytest.mark.slow
def test_dask_worker_processes_give_the_slices_of_arrays():
    chunks = 600
    result = toolkit.evaluate(da.from_array(Y, chunks=chunks), y_score=da.from_array(SCORES, chunks=(chunks, 3)),
                              slice_by={"region": da.from_array(REGION, chunks=chunks),
                                        "device": da.from_array(DEVICE, chunks=chunks)},
                              cross_slices=True, ci=0.9, n_bootstrap=50, seed=3, scheduler="local")
    _same_slices(result)
